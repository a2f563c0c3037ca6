import Testing

@testable import VoiceTransport

/// The connection's life without a socket: every event and every time is given.
@Suite("WebSocket connection machine")
struct WebSocketConnectionMachineTests {
    static let second: Int64 = 1_000_000_000
    static let key = "dGhlIHNhbXBsZSBub25jZQ=="

    static func machine(acknowledges: (@Sendable (String) -> Bool)? = { $0.contains("session.updated") })
        -> WebSocketConnectionMachine
    {
        WebSocketConnectionMachine(
            endpoint: "wss://example.test/v1/realtime", host: "example.test", target: "/v1/realtime?model=m",
            headers: [("Authorization", "Bearer sk-x")], connectTimeout: 10 * second, acknowledges: acknowledges,
            handshake: WebSocketHandshake(key: key))
    }

    static func answer(_ head: String, body: String = "") -> ArraySlice<UInt8> {
        ArraySlice(Array((head.replacingOccurrences(of: "\n", with: "\r\n") + "\r\n\r\n" + body).utf8))
    }

    static let switching = answer(
        """
        HTTP/1.1 101 Switching Protocols
        Upgrade: websocket
        Connection: Upgrade
        Sec-WebSocket-Accept: \(WebSocketHandshake.acceptValue(for: key))
        """)

    @Test func connectingSendsTheUpgradeRequestAndSetsItsDeadline() throws {
        var m = Self.machine()
        let actions = m.handle(.connected(at: 100))
        #expect(m.phase == .upgrading)
        #expect(actions.first == .wake(at: 100 + 10 * Self.second))
        guard case .sendUpgradeRequest(let bytes) = actions.last else {
            Issue.record("no upgrade request: \(actions)")
            return
        }
        let request = String(decoding: bytes, as: UTF8.self)
        #expect(request.hasPrefix("GET /v1/realtime?model=m HTTP/1.1\r\nHost: example.test\r\n"))
        #expect(
            request.contains("Sec-WebSocket-Key: \(Self.key)\r\n") && request.contains("Authorization: Bearer sk-x\r\n")
        )
    }

    @Test func anAcceptedUpgradeSendsTheSetUpAndWaitsForItsAcknowledgement() {
        var m = Self.machine()
        _ = m.handle(.connected(at: 0))
        #expect(m.handle(.upgradeBytes(Self.switching, at: 30)) == [.opened(upgradeNs: 30, at: 30), .sendSetup])
        #expect(m.phase == .open && !m.ready)
        #expect(m.handle(.setupSent(at: 31)) == [.wake(at: 31 + 10 * Self.second)])
        #expect(m.handle(.textMessage(#"{"type":"session.created"}"#, at: 40)).isEmpty, "not the acknowledgement")
        #expect(m.handle(.tick(at: 50)).isEmpty)
        #expect(m.handle(.textMessage(#"{"type":"session.updated"}"#, at: 60)) == [.ready(at: 60, timedOut: false)])
        #expect(m.ready)
        #expect(m.handle(.textMessage(#"{"type":"session.updated"}"#, at: 70)).isEmpty, "ready once")
    }

    @Test func anUnacknowledgedSetUpIsWaitedOut() {
        var m = Self.machine()
        _ = m.handle(.connected(at: 0))
        _ = m.handle(.upgradeBytes(Self.switching, at: 1))
        _ = m.handle(.setupSent(at: 2))
        #expect(m.handle(.tick(at: 2 + 10 * Self.second - 1)).isEmpty)
        #expect(m.handle(.tick(at: 2 + 10 * Self.second)) == [.ready(at: 2 + 10 * Self.second, timedOut: true)])
    }

    @Test func withoutAnAcknowledgementToWaitForTheSessionIsReadyOnceTheSetUpIsSent() {
        var m = Self.machine(acknowledges: nil)
        _ = m.handle(.connected(at: 0))
        _ = m.handle(.upgradeBytes(Self.switching, at: 1))
        #expect(m.handle(.setupSent(at: 5)) == [.ready(at: 5, timedOut: false)])
    }

    @Test func framesThatCameWithTheAnswerGoToTheFrameMachine() {
        var m = Self.machine()
        _ = m.handle(.connected(at: 0))
        var bytes = Array(Self.switching)
        bytes += [0x81, 0x02, 0x68, 0x69]  // a text frame "hi"
        let actions = m.handle(.upgradeBytes(ArraySlice(bytes), at: 9))
        #expect(actions.last == .receiveFrames([0x81, 0x02, 0x68, 0x69], at: 9))
    }

    @Test func anAnswerInPiecesIsJudgedOnceComplete() {
        var m = Self.machine()
        _ = m.handle(.connected(at: 0))
        let whole = Array(Self.switching)
        #expect(m.handle(.upgradeBytes(ArraySlice(whole.prefix(20)), at: 1)).isEmpty)
        #expect(m.upgradeBytesSoFar == 20)
        #expect(m.handle(.upgradeBytes(ArraySlice(whole.dropFirst(20)), at: 2)).first == .opened(upgradeNs: 2, at: 2))
    }

    @Test func noAnswerBeforeTheDeadlineIsATimeout() {
        var m = Self.machine()
        _ = m.handle(.connected(at: 0))
        #expect(m.handle(.tick(at: 10 * Self.second - 1)).isEmpty)
        let actions = m.handle(.tick(at: 10 * Self.second))
        guard case .fail(.timeout, let message, _) = actions.first else {
            Issue.record("\(actions)")
            return
        }
        #expect(message.contains("no answer from wss://example.test/v1/realtime within 10 s"))
        #expect(m.phase == .over)
    }

    @Test(arguments: [
        (401, ErrorKind.httpStatus), (403, .httpStatus), (429, .httpStatus), (503, .httpStatus), (200, .handshake),
        (404, .handshake),
    ])
    func aRefusedUpgradeSaysWhatTheServerAnswered(status: Int, kind: ErrorKind) {
        var m = Self.machine()
        _ = m.handle(.connected(at: 0))
        let actions = m.handle(
            .upgradeBytes(
                Self.answer(
                    "HTTP/1.1 \(status) No\nContent-Type: application/json",
                    body: #"{"error":{"message":"Incorrect API key"}}"#), at: 5))
        #expect(actions.first == .httpResponse(status: status, contentType: "application/json", at: 5))
        guard case .fail(let failed, let message, 5) = actions.last else {
            Issue.record("\(actions)")
            return
        }
        #expect(failed == kind && message.contains("HTTP \(status)") && message.contains("Incorrect API key"))
        #expect(message.contains("does not accept WebSocket upgrades") == (kind == .handshake))
        #expect(m.phase == .over)
    }

    @Test func aWrongAcceptIsAHandshakeFailure() {
        var m = Self.machine()
        _ = m.handle(.connected(at: 0))
        let actions = m.handle(
            .upgradeBytes(
                Self.answer(
                    "HTTP/1.1 101 Switching Protocols\nUpgrade: websocket\nConnection: Upgrade\nSec-WebSocket-Accept: bogus"
                ), at: 5))
        guard case .fail(.handshake, let message, _) = actions.last else {
            Issue.record("\(actions)")
            return
        }
        #expect(message.contains("Sec-WebSocket-Accept"))
    }

    @Test func theServerHasTwoSecondsToAnswerOurClose() {
        var m = Self.machine()
        _ = m.handle(.connected(at: 0))
        _ = m.handle(.upgradeBytes(Self.switching, at: 1))
        #expect(m.handle(.closeSent(at: 100)) == [.wake(at: 100 + 2 * Self.second)])
        #expect(m.handle(.closeTick(at: 100 + 2 * Self.second - 1)).isEmpty)
        #expect(m.handle(.closeTick(at: 100 + 2 * Self.second)) == [.closeTimedOut(at: 100 + 2 * Self.second)])
        #expect(m.phase == .over)
    }

    @Test func nothingHappensAfterTheEnd() {
        var m = Self.machine()
        _ = m.handle(.connected(at: 0))
        _ = m.handle(.ended)
        #expect(m.handle(.upgradeBytes(Self.switching, at: 1)).isEmpty)
        #expect(m.handle(.tick(at: 100 * Self.second)).isEmpty)
        #expect(m.phase == .over)
    }
}
