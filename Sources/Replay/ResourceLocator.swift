import Foundation
import VoiceTransport

/// Where ttfa's data files are — the shipped dialect files and the bundled recordings — found
/// relative to the running executable, never through the build folder's absolute path: a binary
/// copied together with its `share/ttfa` (an install, the release archive, a container image)
/// finds them wherever it lands, and one copied without them says where it looked.
///
/// The places, in order:
/// 1. `$TTFA_SHARE/<kind>`, when `TTFA_SHARE` is set (a data folder kept elsewhere);
/// 2. `<bin>/../share/ttfa/<kind>` — installed (`make install`) or unpacked (`make dist`);
/// 3. `<bin>/ttfa_Replay.resources/<kind>` — next to the executable, as `swift build` leaves it.
///
/// `<bin>` is the folder of the executable itself, symbolic links resolved (`/proc/self/exe`),
/// so `/usr/local/bin/ttfa → /opt/ttfa/bin/ttfa` finds `/opt/ttfa/share/ttfa`.
package enum ResourceLocator {
    package enum Kind: String, Sendable {
        case dialects, recordings
    }

    /// The folder SwiftPM copies this module's resources to, beside the executable it builds.
    static let buildBundleName = "ttfa_Replay.resources"

    /// The running executable, symbolic links resolved.
    package static var executable: URL? {
        guard let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else {
            return nil
        }
        return URL(fileURLWithPath: path)
    }

    /// Every place `kind` is looked for, in order.
    package static func candidates(
        _ kind: Kind, environment: [String: String] = ProcessInfo.processInfo.environment,
        executable: URL? = executable
    ) -> [URL] {
        var places: [URL] = []
        if let share = environment["TTFA_SHARE"], !share.isEmpty {
            places.append(URL(fileURLWithPath: share).appendingPathComponent(kind.rawValue))
        }
        if let bin = executable?.deletingLastPathComponent() {
            places.append(
                bin.deletingLastPathComponent().appendingPathComponent("share/ttfa").appendingPathComponent(
                    kind.rawValue))
            places.append(bin.appendingPathComponent(buildBundleName).appendingPathComponent(kind.rawValue))
        }
        return places.map(\.standardizedFileURL)
    }

    /// The first folder of `kind` that exists.
    /// - Throws: `TransportError(.input)` naming every place looked in and what to do.
    package static func directory(
        _ kind: Kind, environment: [String: String] = ProcessInfo.processInfo.environment,
        executable: URL? = executable
    ) throws(TransportError) -> URL {
        let places = candidates(kind, environment: environment, executable: executable)
        var isDirectory: ObjCBool = false
        if let found = places.first(where: {
            FileManager.default.fileExists(atPath: $0.path, isDirectory: &isDirectory) && isDirectory.boolValue
        }) {
            return found
        }
        let looked = places.map(\.path).joined(separator: ", ")
        throw TransportError(
            .input,
            "ttfa's \(kind.rawValue) are not where it looks (\(looked.isEmpty ? "no executable path" : looked)): "
                + "keep ttfa with its share/ttfa folder (make install, or unpack the release archive whole), or set TTFA_SHARE to that folder"
        )
    }
}
