/// The life of one client WebSocket connection as a pure state machine — events in, actions
/// out, every time given by the caller — so what it decides is tested without a socket: the
/// upgrade request and its deadline, how the server's answer is judged and a refusal reported,
/// when the session set-up counts as acknowledged (or is waited out), and how long a close
/// handshake may take.
///
/// `WebSocketClient` is its I/O driver: it connects with libcurl, reads and writes the socket,
/// keeps the outbox and the loop's timers, performs the actions in order and reports what
/// happened as events. Frames of the open connection go through `WebSocketStateMachine`.
package struct WebSocketConnectionMachine: Sendable {
    package enum Phase: Sendable, Equatable {
        case connecting, upgrading, open, over
    }

    package enum Event: Sendable {
        /// TCP (and TLS) are up.
        case connected(at: Int64)
        /// Bytes of the server's answer to the upgrade request.
        case upgradeBytes(ArraySlice<UInt8>, at: Int64)
        /// The set-up messages have been handed to the socket.
        case setupSent(at: Int64)
        /// A text message of the open connection (the dialect may call it the acknowledgement).
        case textMessage(String, at: Int64)
        /// Time passed: the upgrade's and the set-up's deadlines are checked.
        case tick(at: Int64)
        /// Our close frame went out: the server has a while to answer it.
        case closeSent(at: Int64)
        /// Time passed while closing: the close handshake's deadline is checked.
        case closeTick(at: Int64)
        /// The connection ended outside the machine (a failed read or write, the close
        /// handshake completed, an abort).
        case ended
    }

    package enum Action: Sendable, Equatable {
        /// Write the upgrade request, then read the answer.
        case sendUpgradeRequest([UInt8])
        /// Service the connection again at this time (a deadline).
        case wake(at: Int64)
        /// The upgrade succeeded, `upgradeNs` after its request.
        case opened(upgradeNs: Int64, at: Int64)
        /// Send the dialect's set-up messages, before anything queued; report `setupSent`.
        case sendSetup
        /// The first frames came with the upgrade's answer: feed them to the frame machine.
        case receiveFrames([UInt8], at: Int64)
        /// The session is ready: queued frames may leave from `at`.
        case ready(at: Int64, timedOut: Bool)
        /// The upgrade was refused with a plain HTTP answer.
        case httpResponse(status: Int, contentType: String?, at: Int64)
        /// The server did not answer our close in time: the connection is over.
        case closeTimedOut(at: Int64)
        /// Fail the connection: the connection is over.
        case fail(ErrorKind, String, at: Int64)
    }

    package private(set) var phase = Phase.connecting
    /// The set-up was acknowledged (or waited out).
    package private(set) var ready = false

    /// The endpoint as messages show it (secrets masked).
    let endpoint: String
    let host: String
    let target: String
    let headers: [(name: String, value: String)]
    /// Limit for the upgrade and for the set-up's acknowledgement.
    let connectTimeout: Int64
    /// Whether a text message acknowledges the set-up; nil: nothing to wait for.
    let acknowledges: (@Sendable (String) -> Bool)?
    /// How long the server has to answer our close.
    let closeTimeout: Int64
    var handshake: WebSocketHandshake
    private var headParser = HTTPResponseHeadParser()
    private var upgradeStarted: Int64 = 0
    private var upgradeDeadline: Int64 = 0
    private var setupDeadline: Int64?
    private var closeDeadline: Int64?

    /// - Parameters:
    ///   - endpoint: the URL as messages show it.
    ///   - host, target, headers: the upgrade request's `Host`, request target and extra headers.
    ///   - acknowledges: whether a text message acknowledges the set-up (nil: ready once sent).
    package init(
        endpoint: String, host: String, target: String, headers: [(name: String, value: String)], connectTimeout: Int64,
        acknowledges: (@Sendable (String) -> Bool)?, closeTimeout: Int64 = .seconds(2),
        handshake: WebSocketHandshake = WebSocketHandshake()
    ) {
        self.endpoint = endpoint
        self.host = host
        self.target = target
        self.headers = headers
        self.connectTimeout = connectTimeout
        self.acknowledges = acknowledges
        self.closeTimeout = closeTimeout
        self.handshake = handshake
    }

    /// Bytes of an incomplete upgrade answer received so far (for messages).
    package var upgradeBytesSoFar: Int { headParser.bufferedByteCount }

    package mutating func handle(_ event: Event) -> [Action] {
        switch event {
        case .connected(let t):
            guard phase == .connecting else { return [] }
            phase = .upgrading
            upgradeStarted = t
            upgradeDeadline = t + connectTimeout
            return [
                .wake(at: upgradeDeadline),
                .sendUpgradeRequest(handshake.request(host: host, target: target, headers: headers)),
            ]

        case .upgradeBytes(let bytes, let t):
            guard phase == .upgrading else { return [] }
            let result: HTTPResponseHeadParser.Result
            do {
                result = try headParser.feed(bytes)
            } catch {
                return fail(.handshake, "the WebSocket upgrade did not complete: \(error)", at: t)
            }
            guard case .complete(let head, let leftover) = result else { return [] }
            do {
                _ = try handshake.validate(head)
            } catch {
                return reject(head, error, leftover: leftover, at: t)
            }
            phase = .open
            var actions: [Action] = [.opened(upgradeNs: t - upgradeStarted, at: t), .sendSetup]
            if !leftover.isEmpty { actions.append(.receiveFrames(leftover, at: t)) }
            return actions

        case .setupSent(let t):
            guard phase == .open, !ready, setupDeadline == nil else { return [] }
            guard acknowledges != nil else { return markReady(at: t, timedOut: false) }
            setupDeadline = t + connectTimeout
            return [.wake(at: setupDeadline!)]

        case .textMessage(let text, let t):
            guard phase == .open, !ready, acknowledges?(text) == true else { return [] }
            return markReady(at: t, timedOut: false)

        case .tick(let now):
            switch phase {
            case .upgrading where now >= upgradeDeadline:
                return fail(
                    .timeout,
                    "the WebSocket upgrade did not complete: no answer from \(endpoint) within \(connectTimeout / 1_000_000_000) s",
                    at: now)
            case .open where !ready:
                guard let setupDeadline, now >= setupDeadline else { return [] }
                return markReady(at: now, timedOut: true)
            default:
                return []
            }

        case .closeSent(let t):
            guard phase == .open, closeDeadline == nil else { return [] }
            closeDeadline = t + closeTimeout
            return [.wake(at: closeDeadline!)]

        case .closeTick(let now):
            guard phase == .open, let closeDeadline, now >= closeDeadline else { return [] }
            phase = .over
            return [.closeTimedOut(at: now)]

        case .ended:
            phase = .over
            return []
        }
    }

    private mutating func markReady(at t: Int64, timedOut: Bool) -> [Action] {
        ready = true
        setupDeadline = nil
        return [.ready(at: t, timedOut: timedOut)]
    }

    private mutating func fail(_ kind: ErrorKind, _ message: String, at t: Int64) -> [Action] {
        phase = .over
        return [.fail(kind, message, at: t)]
    }

    /// A refused upgrade, reported with what the server said so the user can see why: a plain
    /// HTTP answer's status (429, 5xx, 401, 403 are the server's `http_status`; others mean the
    /// endpoint does not take WebSocket upgrades) and the start of its body.
    private mutating func reject(
        _ head: HTTPResponseHead, _ rejection: WebSocketHandshake.Rejection, leftover: [UInt8],
        at t: Int64
    ) -> [Action] {
        var message = "the WebSocket upgrade did not complete: \(rejection)"
        var kind = ErrorKind.handshake
        var actions: [Action] = []
        if case .status(let status, _) = rejection {
            actions.append(.httpResponse(status: status, contentType: head.value(of: "content-type"), at: t))
            if status == 429 || status >= 500 || status == 401 || status == 403 {
                kind = .httpStatus
            }
            let body = bodyExcerpt(String(decoding: leftover.prefix(2000), as: UTF8.self))
            if !body.isEmpty { message += " (body: \(body))" }
            if kind == .handshake {
                message +=
                    "; the endpoint, or a proxy or edge platform in front of it, does not accept WebSocket upgrades"
            }
        }
        return actions + fail(kind, message, at: t)
    }
}
