import Checks
import Foundation
import TTFASupport

/// The files a CI gate reads: a baseline (JSON) and a thresholds file (YAML or JSON list of
/// expressions); the first byte picks which. Any bytes load or are refused with a message.
package enum CheckFilesTarget: FuzzTarget {
    package static let name = "check-files"
    package static let summary = "Baseline(file:), Threshold.load(file:), Threshold(expression)"

    package static func run(_ input: [UInt8]) {
        guard let choice = input.first else { return }
        let body = Array(input.dropFirst())
        let path = scratchFile(body, suffix: choice % 2 == 0 ? ".json" : ".yaml")
        defer { unlink(path) }
        if choice % 2 == 0 {
            do {
                let baseline = try Baseline(file: path)
                _ = baseline.fileText(savedAt: "2026-01-01T00:00:00Z")
            } catch {
                require(error.message.contains(path), "a refusal that does not name the file: \(error.message)")
            }
        } else {
            _ = try? Threshold.load(file: path)
            for line in String(decoding: body, as: UTF8.self).split(separator: "\n").prefix(8) {
                _ = try? Threshold(String(line))
            }
        }
    }
}
