/// Checks that a text is one JSON object (RFC 8259, validated byte by byte without building
/// anything) and reads some of its top-level string members. Audio deltas are most of what a
/// voice answer sends, and parsing a 6 KB delta into a dictionary for two short fields was a
/// tenth of ttfa's time at 1,000 sessions. A member whose value is not an escape-free string
/// is reported as absent; `nil` means "not a JSON object" — callers then fall back to a full
/// parse (which will explain the problem), so the skim never accepts what a parser rejects.
package enum JSONSkim {
    /// The string values of `keys` at the top level of `text` (a key absent is missing from the
    /// result); nil when `text` is not a valid JSON object, or when one of `keys` has a value
    /// that is not a string without escapes (let a parser decode that).
    package static func strings(_ text: String, keys: [String]) -> [String: String]? {
        var text = text
        return text.withUTF8 { bytes in
            var scanner = Scanner(bytes: bytes, keys: keys.map { Array($0.utf8) })
            guard scanner.document(), !scanner.irregular else { return nil }
            var result: [String: String] = [:]
            for (index, range) in scanner.found.enumerated() {
                guard let range else { continue }
                result[keys[index]] = String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
            }
            return result
        }
    }

    /// One step of a path into a JSON document.
    package enum Step: Sendable, Equatable {
        case key(String)
        case index(Int)
    }

    /// What a path leads to.
    package enum Found: Sendable, Equatable {
        case string(String)
        case object
        case array
        /// A number, `true`, `false`, `null` — or a string with escapes (left to a parser).
        case other
    }

    /// What each of `paths` leads to in `text` (a path that leads nowhere is missing from the
    /// result); nil when `text` is not a valid JSON object.
    package static func values(_ text: String, paths: [[Step]]) -> [Int: Found]? {
        var text = text
        return text.withUTF8 { bytes in
            var scanner = Scanner(bytes: bytes, keys: [])
            scanner.paths = paths.map {
                $0.map { step in
                    switch step {
                    case .key(let name): .key(Array(name.utf8))
                    case .index(let index): .index(index)
                    }
                }
            }
            guard scanner.document() else { return nil }
            var result: [Int: Found] = [:]
            for (index, found) in scanner.pathFound.enumerated() {
                switch found {
                case nil: continue
                case .string(let range)?:
                    result[index] = .string(
                        String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self))
                case .object?: result[index] = .object
                case .array?: result[index] = .array
                case .other?: result[index] = .other
                }
            }
            return result
        }
    }

    /// The `type` member of a JSON object, if it is a plain string.
    package static func type(_ text: String) -> String? {
        strings(text, keys: ["type"])?["type"]
    }

    private struct Scanner {
        let bytes: UnsafeBufferPointer<UInt8>
        let keys: [[UInt8]]
        var found: [Range<Int>?]
        var i = 0
        var depth = 0
        /// One of the keys has a value that is not an escape-free string.
        var irregular = false

        enum PathStep: Equatable {
            case key([UInt8])
            case index(Int)
        }
        enum PathValue {
            case string(Range<Int>)
            case object, array, other
        }
        /// Paths to record (`values`) and what each led to (nil: not reached).
        var paths: [[PathStep]] = [] {
            didSet { pathFound = paths.map { _ in nil } }
        }
        var pathFound: [PathValue?] = []
        var current: [PathStep] = []

        /// Records the value starting at `i` if a requested path leads here; returns false when
        /// it is malformed. Strings are read, anything else validated.
        mutating func trackedValue() -> Bool {
            guard !paths.isEmpty, let match = paths.firstIndex(of: current) else { return value() }
            space()
            switch peek {
            case UInt8(ascii: "\""):
                guard let (content, escaped) = string() else { return false }
                pathFound[match] = escaped ? .other : .string(content)
                return true
            case UInt8(ascii: "{"): pathFound[match] = .object
            case UInt8(ascii: "["): pathFound[match] = .array
            default: pathFound[match] = .other
            }
            return value()
        }

        init(bytes: UnsafeBufferPointer<UInt8>, keys: [[UInt8]]) {
            self.bytes = bytes
            self.keys = keys
            self.found = keys.map { _ in nil }
        }

        mutating func document() -> Bool {
            space()
            guard peek == UInt8(ascii: "{"), object(topLevel: true) else { return false }
            space()
            return i == bytes.count
        }

        var peek: UInt8? { i < bytes.count ? bytes[i] : nil }

        mutating func space() {
            while let b = peek, b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 { i += 1 }
        }

        mutating func value() -> Bool {
            space()
            guard let b = peek else { return false }
            switch b {
            case UInt8(ascii: "{"): return object(topLevel: false)
            case UInt8(ascii: "["): return array()
            case UInt8(ascii: "\""): return string() != nil
            case UInt8(ascii: "t"): return literal("true")
            case UInt8(ascii: "f"): return literal("false")
            case UInt8(ascii: "n"): return literal("null")
            default: return number()
            }
        }

        mutating func object(topLevel: Bool) -> Bool {
            depth += 1
            guard depth <= 512 else { return false }
            defer { depth -= 1 }
            i += 1  // {
            space()
            if peek == UInt8(ascii: "}") {
                i += 1
                return true
            }
            while true {
                space()
                guard peek == UInt8(ascii: "\""), let (name, nameEscaped) = string() else { return false }
                space()
                guard peek == UInt8(ascii: ":") else { return false }
                i += 1
                space()
                var matched: Int?
                if topLevel, !nameEscaped {
                    matched = keys.firstIndex { bytes[name].elementsEqual($0) }
                }
                if let matched, peek == UInt8(ascii: "\"") {
                    guard let (content, escaped) = string() else { return false }
                    found[matched] = content
                    if escaped { irregular = true }
                } else if !paths.isEmpty {
                    if matched != nil { irregular = true }
                    if nameEscaped {
                        guard value() else { return false }  // such a key is never a path's
                    } else {
                        current.append(.key(Array(bytes[name])))
                        defer { current.removeLast() }
                        guard trackedValue() else { return false }
                    }
                } else {
                    if matched != nil { irregular = true }
                    guard value() else { return false }
                }
                space()
                guard let b = peek else { return false }
                i += 1
                if b == UInt8(ascii: "}") { return true }
                guard b == UInt8(ascii: ",") else { return false }
            }
        }

        mutating func array() -> Bool {
            depth += 1
            guard depth <= 512 else { return false }
            defer { depth -= 1 }
            i += 1  // [
            space()
            if peek == UInt8(ascii: "]") {
                i += 1
                return true
            }
            var index = 0
            while true {
                if paths.isEmpty {
                    guard value() else { return false }
                } else {
                    current.append(.index(index))
                    let ok = trackedValue()
                    current.removeLast()
                    guard ok else { return false }
                    index += 1
                }
                space()
                guard let b = peek else { return false }
                i += 1
                if b == UInt8(ascii: "]") { return true }
                guard b == UInt8(ascii: ",") else { return false }
            }
        }

        /// A string at its opening quote: its content's range, and whether it has escapes.
        mutating func string() -> (Range<Int>, Bool)? {
            i += 1
            let start = i
            var escaped = false
            while i < bytes.count {
                let b = bytes[i]
                if b == UInt8(ascii: "\"") {
                    i += 1
                    return (start..<(i - 1), escaped)
                }
                if b < 0x20 { return nil }
                if b == UInt8(ascii: "\\") {
                    escaped = true
                    i += 1
                    guard let e = peek else { return nil }
                    switch e {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
                        UInt8(ascii: "f"),
                        UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                        i += 1
                    case UInt8(ascii: "u"):
                        i += 1
                        for _ in 0..<4 {
                            guard let h = peek,
                                (0x30...0x39).contains(h) || (0x41...0x46).contains(h) || (0x61...0x66).contains(h)
                            else { return nil }
                            i += 1
                        }
                    default:
                        return nil
                    }
                    continue
                }
                i += 1
            }
            return nil
        }

        mutating func literal(_ word: StaticString) -> Bool {
            let count = word.utf8CodeUnitCount
            guard i + count <= bytes.count else { return false }
            for k in 0..<count where bytes[i + k] != word.utf8Start[k] { return false }
            i += count
            return true
        }

        mutating func number() -> Bool {
            func digits() -> Int {
                let start = i
                while let b = peek, (0x30...0x39).contains(b) { i += 1 }
                return i - start
            }
            if peek == UInt8(ascii: "-") { i += 1 }
            guard let first = peek, (0x30...0x39).contains(first) else { return false }
            if first == UInt8(ascii: "0") { i += 1 } else { _ = digits() }
            if peek == UInt8(ascii: ".") {
                i += 1
                guard digits() > 0 else { return false }
            }
            if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
                i += 1
                if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { i += 1 }
                guard digits() > 0 else { return false }
            }
            return true
        }
    }
}
