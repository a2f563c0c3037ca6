/// G.711 μ-law (ITU-T G.711, the North American / Japanese telephony companding): 14-bit
/// linear samples to 8-bit codes and back. The standard's segment algorithm, with its bias of
/// 0x84 and the inverted code bits — there is no library for it in Debian's Swift world, and it
/// is one table-free function each way.
package enum G711 {
    private static let bias: Int32 = 0x84
    private static let clip: Int32 = 32_635

    /// The μ-law code of a 16-bit linear sample.
    package static func muLaw(_ sample: Int16) -> UInt8 {
        var value = Int32(sample)
        let sign: Int32 = value < 0 ? 0x80 : 0
        if value < 0 { value = -value }
        value = min(value, clip) + bias
        var exponent: Int32 = 7
        var mask: Int32 = 0x4000
        while exponent > 0 && value & mask == 0 {
            exponent -= 1
            mask >>= 1
        }
        let mantissa = (value >> (exponent + 3)) & 0x0F
        return UInt8(truncatingIfNeeded: ~(sign | (exponent << 4) | mantissa))
    }

    /// The 16-bit linear sample of a μ-law code.
    package static func linear(_ code: UInt8) -> Int16 {
        let value = Int32(~code & 0xFF)
        let sign = value & 0x80
        let exponent = (value >> 4) & 0x07
        let mantissa = value & 0x0F
        let magnitude = (((mantissa << 3) + bias) << exponent) - bias
        return Int16(sign != 0 ? -magnitude : magnitude)
    }

    /// PCM16 little-endian → μ-law, one byte per sample.
    package static func encode(pcm16 bytes: [UInt8]) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(bytes.count / 2)
        var index = 0
        while index + 1 < bytes.count {
            out.append(muLaw(Int16(bitPattern: UInt16(bytes[index]) | UInt16(bytes[index + 1]) << 8)))
            index += 2
        }
        return out
    }

    /// μ-law → PCM16 little-endian.
    package static func decode(muLaw codes: [UInt8]) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(codes.count * 2)
        for code in codes {
            let sample = UInt16(bitPattern: linear(code))
            out.append(UInt8(sample & 0xFF))
            out.append(UInt8(sample >> 8))
        }
        return out
    }
}
