import Foundation
import Testing

/// The conformance vectors the parser tests run over, carried in the repository
/// (`Tests/Fixtures/conformance`, see the README there for what each file is and where its
/// cases come from).
enum ConformanceVectors {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/conformance")

    /// Decodes one of the vector files.
    static func decode<T: Decodable>(_ relativePath: String, as type: [T].Type) throws -> [T] {
        try JSONDecoder().decode([T].self, from: Data(contentsOf: directory.appendingPathComponent(relativePath)))
    }

    /// The cases of one file, for `@Test(arguments:)`; none when it cannot be read, which
    /// `everyVectorFileIsInTheRepository` then reports (a missing file must not quietly run
    /// zero cases).
    static func load<T: Decodable>(_ relativePath: String, as type: [T].Type) -> [T] {
        (try? decode(relativePath, as: type)) ?? []
    }
}

@Suite("Conformance vectors")
struct ConformanceVectorFileTests {
    /// As many cases as `Tests/Fixtures/conformance/README.md` lists, read from the checkout
    /// itself: a clone from a Git host has everything the parser tests need.
    @Test func everyVectorFileIsInTheRepository() throws {
        #expect(try ConformanceVectors.decode("sse/vectors.json", as: [SSEVector].self).count == 38)
        #expect(try ConformanceVectors.decode("websocket/frames.json", as: [FrameVector].self).count == 57)
        #expect(try ConformanceVectors.decode("websocket/handshake.json", as: [HandshakeVector].self).count == 10)
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
