import CCurl
import Foundation
import Synchronization
import Testing

@testable import VoiceTransport

#if canImport(Glibc)
    import Glibc
#endif

/// A TCP listener on 127.0.0.1 that accepts every connection, writes `greeting` to it and never
/// answers a request.
private final class Listener: @unchecked Sendable {
    let port: UInt16
    private let fd: Int32
    private var accepted: [Int32] = []
    private let lock = NSLock()

    init(greeting: String) throws {
        let listening = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listening, $0, length) }
        }
        guard bound == 0, listen(listening, 16) == 0 else { throw POSIXError(.EADDRINUSE) }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listening, $0, &length) }
        }
        fd = listening
        port = UInt16(bigEndian: address.sin_port)
        Thread { [self] in
            while true {
                let connection = accept(listening, nil, nil)
                guard connection >= 0 else { return }
                _ = greeting.withCString { send(connection, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
                lock.withLock { accepted.append(connection) }
            }
        }.start()
    }

    deinit {
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
        lock.withLock { for socket in accepted { close(socket) } }
    }
}

/// The local port of a socket (nil: the descriptor is not an open socket).
private func localPort(_ fd: Int32) -> UInt16? {
    var address = sockaddr_in()
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let result = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return result == 0 ? UInt16(bigEndian: address.sin_port) : nil
}

/// Drives the scenario on the loop's thread, one step per service.
private final class Scenario: IOLoopClient, @unchecked Sendable {
    let loop: IOLoop
    let port: UInt16
    let connectOnly = CurlEasy()
    let request = CurlEasy()
    var step = 0
    /// Filled in on the loop's thread, read once `done` is signalled.
    var socket: Int32 = -1
    var portBefore: UInt16?
    var portAfter: UInt16?
    var connectError: CurlEasy.CurlError?
    let done = DispatchSemaphore(value: 0)

    init(loop: IOLoop, port: UInt16) {
        self.loop = loop
        self.port = port
    }

    func service(now: Int64) {
        switch step {
        case 0:
            // A connect-only connection (a WebSocket's), never read: the listener's greeting waits on it.
            step = 1
            connectOnly.setURL("http://127.0.0.1:\(port)/")
            connectOnly.setConnectOnly()
            loop.addConnectOnly(connectOnly, for: self)
        case 2:
            // Two seconds later another transfer connects on the loop's shared multi
            // handle, with libcurl's idle-connection age limit (118 s by default, CURLOPT_MAXAGE_CONN)
            // at one second: its housekeeping closes older idle connections in the cache it uses.
            step = 3
            request.setURL("http://127.0.0.1:\(port)/other")
            request.setTimeout(milliseconds: 300)
            request.set(CURLOPT_MAXAGE_CONN, 1)  // whole seconds, "older than": 2 s idle is enough
            loop.add(request, for: self)
        default:
            break
        }
    }

    func transferDone(_ result: CurlEasy.CurlError?) {
        switch step {
        case 1:
            connectError = result
            socket = connectOnly.activeSocket ?? -1
            portBefore = localPort(socket)
            step = 2
            loop.schedule(self, at: MonotonicClock.now() + 2_300_000_000)
        case 3:
            // The other request is over (it timed out: the listener never answers).
            loop.remove(request)
            portAfter = localPort(socket)
            loop.remove(connectOnly)
            step = 4
            done.signal()
        default:
            break
        }
    }
}

@Suite("IOLoop: connections on one loop stay their own")
struct IOLoopTests {
    /// libcurl counts a connect-only connection in a shared cache as idle, and another
    /// transfer's housekeeping closes idle connections older than CURLOPT_MAXAGE_CONN (118 s):
    /// a warm WebSocket on the same loop as SSE requests lost its socket two minutes into a run
    /// (its next send failed with EBADF; the number could as well have gone to another
    /// connection). Each connect-only handle has a cache of its own.
    @Test func aConnectOnlyConnectionSurvivesOtherTransfersOnTheLoop() throws {
        let listener = try Listener(greeting: "unread bytes from the server\n")
        let loop = IOLoop(name: "ttfa.io.test")
        let scenario = Scenario(loop: loop, port: listener.port)
        loop.schedule(scenario, at: MonotonicClock.now())
        #expect(scenario.done.wait(timeout: .now() + 10) == .success, "the scenario finished")
        #expect(scenario.connectError == nil)
        let before = try #require(scenario.portBefore, "the connect-only socket was open")
        #expect(
            scenario.portAfter == before,
            "the same connection is still on its descriptor after another transfer connected")
        withExtendedLifetime(listener) {}
    }
}
