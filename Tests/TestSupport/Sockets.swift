import Foundation

/// A listening TCP socket on 127.0.0.1 with a free port.
private func listeningSocket() throws -> (fd: Int32, port: Int) {
    let sock = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var one: Int32 = 1
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let ok = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(sock, $0, length) == 0 && listen(sock, 16) == 0 && getsockname(sock, $0, &length) == 0
        }
    }
    guard ok else {
        close(sock)
        throw POSIXError(.EADDRNOTAVAIL)
    }
    return (sock, Int(UInt16(bigEndian: address.sin_port)))
}

private func setNoDelay(_ fd: Int32) {
    var one: Int32 = 1
    setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
}

/// A TCP server for link tests and benchmarks: every connection is handed to `serve` on its own
/// thread, with `TCP_NODELAY` (without it a delayed ACK adds 40 ms to a small answer).
package final class TCPTestServer: @unchecked Sendable {
    package let port: Int
    private let fd: Int32

    package init(serve: @escaping @Sendable (Int32) -> Void) throws {
        let (sock, port) = try listeningSocket()
        fd = sock
        self.port = port
        Thread {
            while true {
                let client = accept(sock, nil, nil)
                guard client >= 0 else { return }
                setNoDelay(client)
                Thread {
                    serve(client)
                    close(client)
                }.start()
            }
        }.start()
    }

    package func stop() {
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
    }

    /// Sends back whatever arrives.
    package static func echo(_ client: Int32) {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = recv(client, &buffer, buffer.count, 0)
            if n <= 0 { return }
            var sent = 0
            while sent < n {
                let m = buffer[sent..<n].withUnsafeBytes { send(client, $0.baseAddress, $0.count, 0) }
                if m <= 0 { return }
                sent += m
            }
        }
    }
}

/// A blocking client socket with TCP_NODELAY and a receive timeout.
package struct TCPClient: Sendable {
    package let fd: Int32

    package init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        setNoDelay(fd)
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let fd = fd
        let ok = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        guard ok else {
            Glibc.close(fd)
            throw POSIXError(.ECONNREFUSED)
        }
    }

    package func write(_ bytes: [UInt8]) {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return }
            sent += n
        }
    }

    /// Reads exactly `count` bytes (or fewer at the end of the stream).
    package func read(_ count: Int) -> [UInt8] {
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while out.count < count {
            let n = recv(fd, &buffer, min(buffer.count, count - out.count), 0)
            if n <= 0 { break }
            out += buffer[0..<n]
        }
        return out
    }

    package func close() { _ = Glibc.close(fd) }
}

/// Milliseconds on the monotonic clock since `start` (`DispatchTime.now().uptimeNanoseconds`).
package func milliseconds(since start: UInt64) -> Double {
    Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
}

/// A TCP server that accepts connections and never says a word: a TLS handshake or an HTTP
/// request to it hangs until the client gives up.
package final class SilentServer: @unchecked Sendable {
    package let port: Int
    private let fd: Int32
    private var accepted: [Int32] = []
    private let lock = NSLock()

    package init() throws {
        let (sock, port) = try listeningSocket()
        fd = sock
        self.port = port
        Thread { [weak self] in
            while true {
                let client = accept(sock, nil, nil)
                guard client >= 0, let self else { return }
                self.lock.lock()
                self.accepted.append(client)
                self.lock.unlock()
            }
        }.start()
    }

    package func stop() {
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
        lock.lock()
        for client in accepted { close(client) }
        lock.unlock()
    }
}

/// A TCP port on 127.0.0.1 that was free a moment ago (for a program that must be told its port).
package func freePort() throws -> Int {
    let (fd, port) = try listeningSocket()
    close(fd)
    return port
}
