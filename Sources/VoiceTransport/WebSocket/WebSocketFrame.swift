/// RFC 6455 §5.2 opcodes.
package enum WebSocketOpcode: UInt8, Sendable {
    case continuation = 0x0
    case text = 0x1
    case binary = 0x2
    case close = 0x8
    case ping = 0x9
    case pong = 0xA

    /// Control frames (close, ping, pong) may not be fragmented and carry at most 125 bytes.
    package var isControl: Bool { rawValue & 0x8 != 0 }
}

/// RFC 6455 close codes ttfa sends or checks.
package enum WebSocketCloseCode {
    package static let normal: UInt16 = 1000
    package static let protocolError: UInt16 = 1002
    package static let invalidPayload: UInt16 = 1007
    package static let messageTooBig: UInt16 = 1009

    /// Whether a peer may send `code` in a Close frame (RFC 6455 §7.4; 1012–1014 are
    /// IANA-registered; 1004–1006 and 1015 must never appear on the wire; 3000–4999 are for
    /// libraries and applications).
    package static func isValidOnWire(_ code: UInt16) -> Bool {
        switch code {
        case 1000...1003, 1007...1014, 3000...4999: return true
        default: return false
        }
    }
}

/// Builds client frames: always masked (RFC 6455 §5.3), with the caller's 4-byte key.
package enum WebSocketFrameEncoder {
    /// Encodes one frame.
    /// - Parameters:
    ///   - opcode: frame opcode.
    ///   - payload: unmasked payload bytes.
    ///   - fin: whether this is the final fragment.
    ///   - maskKey: the masking key; must come from a strong random source (`Crypto.maskKey`).
    package static func encode(
        _ opcode: WebSocketOpcode,
        payload: some Collection<UInt8>,
        fin: Bool = true,
        maskKey: [UInt8]
    ) -> [UInt8] {
        precondition(maskKey.count == 4, "a WebSocket masking key has 4 bytes")
        let length = payload.count
        var frame: [UInt8] = []
        frame.reserveCapacity(length + 14)
        frame.append((fin ? 0x80 : 0) | opcode.rawValue)
        if length < 126 {
            frame.append(0x80 | UInt8(length))
        } else if length <= 0xFFFF {
            frame.append(0x80 | 126)
            frame.append(UInt8(length >> 8))
            frame.append(UInt8(length & 0xFF))
        } else {
            frame.append(0x80 | 127)
            for shift in stride(from: 56, through: 0, by: -8) {
                frame.append(UInt8((UInt64(length) >> UInt64(shift)) & 0xFF))
            }
        }
        frame.append(contentsOf: maskKey)
        let header = frame.count
        frame.append(contentsOf: payload)
        // XOR eight bytes at a time with the key repeated, then the rest byte by byte.
        let key = UInt32(maskKey[0]) | UInt32(maskKey[1]) << 8 | UInt32(maskKey[2]) << 16 | UInt32(maskKey[3]) << 24
        let wide = UInt64(key) | UInt64(key) << 32
        frame.withUnsafeMutableBytes { bytes in
            let body = UnsafeMutableRawBufferPointer(rebasing: bytes[header...])
            var i = 0
            while i + 8 <= body.count {
                let word = body.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                body.storeBytes(of: word ^ wide, toByteOffset: i, as: UInt64.self)
                i += 8
            }
            while i < body.count {
                body[i] ^= maskKey[i & 3]
                i += 1
            }
        }
        return frame
    }

    /// The payload of a Close frame: the code (big-endian) and a UTF-8 reason, or empty when
    /// `code` is nil. The reason is truncated on a character boundary to fit 123 bytes.
    package static func closePayload(code: UInt16?, reason: String) -> [UInt8] {
        guard let code else { return [] }
        var payload: [UInt8] = [UInt8(code >> 8), UInt8(code & 0xFF)]
        var reasonBytes = Array(reason.utf8)
        if reasonBytes.count > 123 {
            var cut = 123
            while cut > 0 && (reasonBytes[cut] & 0xC0) == 0x80 { cut -= 1 }
            reasonBytes = Array(reasonBytes[..<cut])
        }
        payload.append(contentsOf: reasonBytes)
        return payload
    }
}
