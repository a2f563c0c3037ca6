/// An incremental UTF-8 validator (WHATWG/Unicode "maximal subpart" rules: no overlongs, no
/// surrogates, nothing above U+10FFFF), so a text message can be rejected at the first bad byte
/// even when it arrives in fragments.
package struct UTF8Validator: Sendable, Equatable {
    private var needed = 0
    private var lower: UInt8 = 0x80
    private var upper: UInt8 = 0xBF

    package init() {}

    /// True when the bytes so far end on a character boundary.
    package var isComplete: Bool { needed == 0 }

    /// Validates `bytes`, continuing from earlier calls. Returns false at the first invalid byte.
    @inline(__always)
    package mutating func validate(_ bytes: some Sequence<UInt8>) -> Bool {
        for byte in bytes {
            if needed == 0 {
                switch byte {
                case 0x00...0x7F: continue
                case 0xC2...0xDF: needed = 1
                case 0xE0...0xEF:
                    if byte == 0xE0 { lower = 0xA0 }
                    if byte == 0xED { upper = 0x9F }
                    needed = 2
                case 0xF0...0xF4:
                    if byte == 0xF0 { lower = 0x90 }
                    if byte == 0xF4 { upper = 0x8F }
                    needed = 3
                default:
                    return false
                }
            } else {
                guard byte >= lower && byte <= upper else { return false }
                lower = 0x80
                upper = 0xBF
                needed -= 1
            }
        }
        return true
    }
}
