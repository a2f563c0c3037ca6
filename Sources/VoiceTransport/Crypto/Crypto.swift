import CCrypto
import Synchronization

/// The libcrypto calls the WebSocket client needs. The only file that imports `CCrypto`.
enum Crypto {
    /// `count` bytes from OpenSSL's CSPRNG (masking keys, `Sec-WebSocket-Key`).
    static func randomBytes(_ count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let ok = bytes.withUnsafeMutableBufferPointer { ttfa_random_bytes($0.baseAddress, Int32(count)) }
        precondition(ok == 1, "RAND_bytes failed: OpenSSL's random generator is not seeded")
        return bytes
    }

    /// OpenSSL CSPRNG bytes drawn 4 KiB at a time and handed out four at a time: a masking key
    /// per frame without a trip into OpenSSL (and the kernel) per frame.
    private static let maskKeyPool = Mutex<(bytes: [UInt8], next: Int)>(([], 0))

    /// A fresh 4-byte masking key from the CSPRNG.
    static func maskKey() -> [UInt8] {
        maskKeyPool.withLock { pool in
            if pool.next + 4 > pool.bytes.count {
                pool.bytes = randomBytes(4096)
                pool.next = 0
            }
            defer { pool.next += 4 }
            return Array(pool.bytes[pool.next..<pool.next + 4])
        }
    }

    /// SHA-1 digest (20 bytes).
    static func sha1(_ data: some Collection<UInt8>) -> [UInt8] {
        let input = Array(data)
        var out = [UInt8](repeating: 0, count: 20)
        let ok = input.withUnsafeBytes { inBuf in
            out.withUnsafeMutableBufferPointer { ttfa_sha1(inBuf.baseAddress, inBuf.count, $0.baseAddress) }
        }
        precondition(ok == 1, "EVP_Digest(SHA-1) failed")
        return out
    }

    /// OpenSSL's version string, for the run's host facts.
    static var openSSLVersion: String { String(cString: ttfa_openssl_version()) }
}

/// Versions of the C libraries in use, recorded with every run.
package enum LibraryVersions {
    package static var openSSL: String { Crypto.openSSLVersion }
}
