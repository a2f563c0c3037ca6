import Foundation
import Statistics
import TestSupport
import Testing

@testable import ReferenceServer

@Suite("Reference server: options, HTTP/1.0 framing, strictness")
struct ReferenceServerTests {
    @Test func requestOptionsParseDelaysFaultsAndTheirEvery() throws {
        let fixed = try RequestOptions(target: "/v1/realtime?first_audio_ms=300")
        #expect(fixed.firstAudioMs == 300...300)
        let range = try RequestOptions(
            target: "/v1/realtime?first_audio_ms=20..80&fault=stale-delta&fault_every=3&scenario=x")
        #expect(range.firstAudioMs == 20...80)
        #expect((1...6).map { range.fault(forRequest: $0) } == [nil, nil, .staleDelta, nil, nil, .staleDelta])
        #expect(
            (0..<50).map { range.plan(.edgeSSE, sequence: $0, audioSeconds: 4).totalMs }.allSatisfy {
                (20...80).contains($0)
            },
            "first_audio_ms replaces the whole plan")
        #expect(
            try RequestOptions(target: "/x?fault=stall").fault(forRequest: 7) == .stall,
            "without fault_every every request misbehaves")
        for bad in ["first_audio_ms=80..20", "first_audio_ms=-1", "first_audio_ms=a..b", "fault=nope", "fault_every=0"]
        {
            #expect(throws: RequestOptions.Problem.self) { try RequestOptions(target: "/x?\(bad)") }
        }
    }

    /// A chunked answer as NIO writes it (head, then chunk framing), fed whole, at every split
    /// point and one byte at a time.
    static let chunked = Array(
        ("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
            + "d\r\ndata: hello\n\n\r\n" + "12;ext=1\r\ndata: [DONE]!!!!\n\n\r\n" + "0\r\n\r\n").utf8)

    func rewrite(_ pieces: [ArraySlice<UInt8>]) -> (String, [Bool]) {
        var framing = HTTP10Framing()
        var out: [UInt8] = []
        var finished: [Bool] = []
        for piece in pieces {
            let (bytes, done) = framing.rewrite(Array(piece))
            out += bytes
            finished.append(done)
        }
        return (String(decoding: out, as: UTF8.self), finished)
    }

    @Test func http10AnswersLoseChunkedFramingAndEndWithTheConnection() {
        let expected =
            "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\ndata: hello\n\ndata: [DONE]!!!!\n\n"
        let whole = rewrite([Self.chunked[...]])
        #expect(whole.0 == expected)
        #expect(whole.1 == [true])
        for split in 1..<Self.chunked.count {
            let (text, finished) = rewrite([Self.chunked[..<split], Self.chunked[split...]])
            #expect(text == expected, "split at \(split)")
            #expect(finished.filter { $0 }.count == 1 && finished.last == true, "split at \(split)")
        }
        let bytes = rewrite(Self.chunked.map { [$0][...] })
        #expect(bytes.0 == expected)
        #expect(bytes.1.filter { $0 }.count == 1 && bytes.1.last == true)
    }

    @Test func http10AnswersWithAContentLengthPassUnchanged() {
        let plain = Array("HTTP/1.1 400 Bad Request\r\nContent-Length: 2\r\n\r\n{}".utf8)
        var framing = HTTP10Framing()
        let (out, finished) = framing.rewrite(plain)
        #expect(out == plain && !finished)
    }

    @Test func upgradeWithoutConnectionUpgradeIsRefusedWith426() async throws {
        let server = try await TestServer.get()
        let port = server.port
        let reply = try await onDedicatedThread {
            try RawSocket(port: port).exchange(
                "GET /v1/realtime HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: close\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
            )
        }
        #expect(reply.hasPrefix("HTTP/1.1 426"), "\(reply)")
        #expect(reply.contains("Connection header"))
    }

    @Test func http10RequestGetsAnUnchunkedStreamThatEndsWithTheConnection() async throws {
        let server = try await TestServer.get()
        let body = String(decoding: ChatCompletionsRequest.body, as: UTF8.self)
        let port = server.port
        let reply = try await onDedicatedThread {
            try RawSocket(port: port).exchange(
                "POST /v1/chat/completions HTTP/1.0\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n"
                    + body, untilClosed: true)
        }
        #expect(reply.hasPrefix("HTTP/1.1 200"), "\(reply.prefix(200))")
        #expect(!reply.lowercased().contains("transfer-encoding"))
        #expect(reply.hasSuffix("data: [DONE]\n\n"), "the body ends with the last event, then the connection closes")
    }
}

/// A Chat Completions audio request body (300 ms of silence as base64 WAV).
enum ChatCompletionsRequest {
    static let body: [UInt8] = {
        var wav = Array("RIFF".utf8)
        let pcm = [UInt8](repeating: 0, count: 14_400)
        func le32(_ v: Int) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
        func le16(_ v: Int) -> [UInt8] { (0..<2).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
        wav +=
            le32(36 + pcm.count) + Array("WAVEfmt ".utf8) + le32(16) + le16(1) + le16(1) + le32(24_000) + le32(48_000)
            + le16(2) + le16(16)
        wav += Array("data".utf8) + le32(pcm.count) + pcm
        let object: [String: Any] = [
            "model": "gpt-audio", "modalities": ["text", "audio"], "audio": ["voice": "alloy", "format": "pcm16"],
            "stream": true,
            "messages": [
                [
                    "role": "user",
                    "content": [
                        [
                            "type": "input_audio",
                            "input_audio": ["data": Data(wav).base64EncodedString(), "format": "wav"],
                        ]
                    ],
                ]
            ],
        ]
        return Array(try! JSONSerialization.data(withJSONObject: object))
    }()
}

/// A blocking TCP client for talking raw HTTP to the test server.
struct RawSocket {
    let fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else { throw POSIXError(.ECONNREFUSED) }
    }

    /// Sends `request`; returns the first read, or everything until the server closes.
    func exchange(_ request: String, untilClosed: Bool = false) throws -> String {
        defer { close(fd) }
        let bytes = Array(request.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { throw POSIXError(.EPIPE) }
            sent += n
        }
        var reply: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        repeat {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            reply += buffer[0..<n]
        } while untilClosed
        return String(decoding: reply, as: UTF8.self)
    }
}
