import Foundation

/// Locates `../shared/testdata` beside the package (where CI has it too). `TTFA_SHARED_TESTDATA`
/// overrides the location.
enum SharedTestData {
    static var directory: URL {
        if let override = ProcessInfo.processInfo.environment["TTFA_SHARED_TESTDATA"] {
            return URL(fileURLWithPath: override)
        }
        let packageRoot = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return packageRoot.deletingLastPathComponent().appendingPathComponent("shared/testdata")
    }

    /// Decodes one of the JSON vector files, failing loudly when it is missing.
    static func load<T: Decodable>(_ relativePath: String, as type: T.Type) -> T {
        let url = directory.appendingPathComponent(relativePath)
        guard let data = try? Data(contentsOf: url) else {
            fatalError("cannot read \(url.path): the conformance vectors live in ../shared/testdata next to the package (set TTFA_SHARED_TESTDATA to override)")
        }
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch {
            fatalError("cannot decode \(url.path): \(error)")
        }
    }
}

extension Array where Element == UInt8 {
    init(hex: String) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(hex.count / 2)
        var iterator = hex.utf8.makeIterator()
        while let high = iterator.next(), let low = iterator.next() {
            func value(_ c: UInt8) -> UInt8 {
                switch c {
                case 0x30...0x39: return c - 0x30
                case 0x61...0x66: return c - 0x61 + 10
                case 0x41...0x46: return c - 0x41 + 10
                default: fatalError("bad hex digit")
                }
            }
            bytes.append(value(high) << 4 | value(low))
        }
        self = bytes
    }

    var hex: String { map { String(format: "%02x", $0) }.joined() }
}

/// The ways every parser test feeds its input: whole, at the case's split offsets, and one
/// byte at a time.
enum Feeding: CustomStringConvertible, CaseIterable {
    case whole, atSplits, byteByByte

    var description: String {
        switch self {
        case .whole: "whole"
        case .atSplits: "at splits"
        case .byteByByte: "byte by byte"
        }
    }

    /// The pieces `bytes` is fed in.
    func pieces(_ bytes: [UInt8], splits: [Int]?) -> [ArraySlice<UInt8>] {
        switch self {
        case .whole:
            return [bytes[...]]
        case .byteByByte:
            return bytes.indices.map { bytes[$0...$0] }
        case .atSplits:
            let offsets = (splits ?? []).filter { $0 > 0 && $0 < bytes.count }
            var pieces: [ArraySlice<UInt8>] = []
            var start = 0
            for offset in offsets where offset > start {
                pieces.append(bytes[start..<offset])
                start = offset
            }
            pieces.append(bytes[start...])
            return pieces
        }
    }
}
