import Foundation
import Synchronization

/// Options for one WebSocket connection.
public struct WebSocketClientConfiguration: Sendable {
    public var endpoint: Endpoint
    /// Extra request headers (authorization …).
    public var headers: [(name: String, value: String)]
    /// Limit for DNS + TCP + TLS + upgrade, and for the set-up's acknowledgement, nanoseconds.
    public var connectTimeout: Int64
    /// Largest message accepted (close 1009 above it).
    public var maxMessageSize: Int
    /// Verify the server's TLS certificate (off only for self-signed test servers).
    public var verifyTLS: Bool
    /// CA certificates (PEM file) to trust instead of the system's.
    public var caFile: String?
    /// Where to connect instead of the URL's host and port (a link emulator), as "HOST:PORT".
    public var connectVia: String?
    /// Removes secrets from error messages.
    public var redactor: SecretRedactor
    /// Messages sent right after the upgrade, before anything queued (session set-up).
    public var setupMessages: [OutgoingMessage]
    /// Whether a received text message acknowledges the set-up. Queued audio waits for it (at
    /// most `connectTimeout`). Nil: nothing to wait for.
    public var isSetupAcknowledgement: (@Sendable (String) -> Bool)?

    public init(
        endpoint: Endpoint,
        headers: [(name: String, value: String)] = [],
        connectTimeout: Int64 = .seconds(10),
        maxMessageSize: Int = 16 << 20,
        verifyTLS: Bool = true,
        caFile: String? = nil,
        connectVia: String? = nil,
        redactor: SecretRedactor = SecretRedactor(),
        setupMessages: [OutgoingMessage] = [],
        isSetupAcknowledgement: (@Sendable (String) -> Bool)? = nil
    ) {
        self.endpoint = endpoint
        self.headers = headers
        self.connectTimeout = connectTimeout
        self.maxMessageSize = maxMessageSize
        self.verifyTLS = verifyTLS
        self.caFile = caFile
        self.connectVia = connectVia
        self.redactor = redactor
        self.setupMessages = setupMessages
        self.isSetupAcknowledgement = isSetupAcknowledgement
    }
}

/// What an outgoing frame is, for replay bookkeeping.
enum SendTag: Sendable {
    case audio(index: Int)
    case other
}

/// An RFC 6455 client over a libcurl `CONNECT_ONLY` connection.
///
/// One dedicated thread owns the curl handle for the connection's whole life: it connects,
/// performs the upgrade, sends the session set-up and waits for its acknowledgement, then
/// loops — sending frames when they fall due (the replay clock lives here, so pacing is not at
/// the mercy of the task scheduler), receiving with a timestamp taken right after
/// `curl_easy_recv` returns, answering pings, and running the close handshake. Every
/// observation goes to `emit` with its timestamp; `emit` is called on that thread.
///
/// Lag bookkeeping: a frame's lag is stamped when its write starts and counts only the
/// harness's lateness — from when the frame was due, or from when the connection could take it
/// (the session became ready; a write blocked on a full socket finished), whichever is later.
/// Time spent blocked on a full socket is the network's and is reported apart.
final class WebSocketClient: Sendable {
    private enum Command: Sendable {
        case frame(bytes: [UInt8], tag: SendTag, turn: Int?)
        /// The end of speech: its messages are framed when it falls due, as a client can only
        /// send them once the user has stopped.
        case speechEnd(messages: [OutgoingMessage], turn: Int)
    }

    private struct Control: Sendable {
        var closeRequested: (code: UInt16, reason: String)?
        var abort: (turn: Int?, error: TransportError)?
        /// The turn whose frames were queued last.
        var currentTurn: Int?
    }

    let configuration: WebSocketClientConfiguration
    private let queue = CommandQueue<Command>()
    private let thread = IOThread(name: "ttfa.websocket")
    private let control = Mutex(Control())
    private let emit: @Sendable (TimedEvent) -> Void
    private let onFinish: @Sendable () -> Void

    /// - Parameters:
    ///   - emit: receives every event, on the I/O thread.
    ///   - onFinish: called once, on the I/O thread, after the connection is gone.
    init(
        configuration: WebSocketClientConfiguration,
        emit: @escaping @Sendable (TimedEvent) -> Void,
        onFinish: @escaping @Sendable () -> Void
    ) {
        self.configuration = configuration
        self.emit = emit
        self.onFinish = onFinish
    }

    /// Starts connecting on a new thread. Frames sent before the session is ready wait for it.
    func start() {
        thread.startOnce { [self] in run() }
    }

    /// Queues a message to leave at `due` (monotonic ns; now or in the past: at once).
    /// The frame is masked here, on the caller's thread, so the I/O thread only writes.
    func send(_ message: OutgoingMessage, due: Int64, tag: SendTag, turn: Int?) {
        let frame = Self.frame(message)
        if let turn { control.withLock { $0.currentTurn = turn } }
        queue.enqueue(.frame(bytes: frame, tag: tag, turn: turn), due: due)
    }

    /// Queues the end of speech of `turn` at `due`: `messages` are framed and sent then.
    func endSpeech(messages: [OutgoingMessage], turn: Int, due: Int64) {
        control.withLock { $0.currentTurn = turn }
        queue.enqueue(.speechEnd(messages: messages, turn: turn), due: due)
    }

    /// A client frame (masked) carrying `message`.
    static func frame(_ message: OutgoingMessage) -> [UInt8] {
        switch message {
        case .text(let text): WebSocketFrameEncoder.encode(.text, payload: text.utf8, maskKey: Crypto.randomBytes(4))
        case .binary(let bytes): WebSocketFrameEncoder.encode(.binary, payload: bytes, maskKey: Crypto.randomBytes(4))
        }
    }

    /// Drops the frames `turn` still has queued.
    func discard(turn: Int) {
        queue.removeAll { command in
            switch command {
            case .frame(_, _, let owner): return owner == turn
            case .speechEnd(_, let owner): return owner == turn
            }
        }
    }

    /// Starts the close handshake (after frames already due have been sent).
    func close(code: UInt16 = WebSocketCloseCode.normal, reason: String = "") {
        control.withLock { $0.closeRequested = (code, reason) }
        queue.wake()
    }

    /// Fails the connection now with `error` (emitted as `.failure`) — unless `turn` names a
    /// turn that is no longer the current one (a late timeout of a finished turn).
    func abort(_ error: TransportError, turn: Int?) {
        control.withLock { c in
            guard turn == nil || turn == c.currentTurn else { return }
            if c.abort == nil { c.abort = (turn, error) }
        }
        queue.wake()
    }

    fileprivate var pendingAbort: TransportError? { control.withLock { $0.abort?.error } }

    // MARK: - I/O thread

    /// The I/O thread's body. The handles live in `serve()` and are cleaned up when it returns,
    /// before `onFinish` tells the owner the connection is gone: a process that exits right after
    /// must not find this thread still inside libcurl or OpenSSL.
    private func run() {
        serve()
        queue.removeAll()
        onFinish()
    }

    private func serve() {
        var connection = Connection(client: self, curl: CurlEasy())
        connection.run()
    }

    private func redact(_ text: String) -> String { configuration.redactor.redact(text) }

    /// State of the connection, owned by the I/O thread.
    private struct Connection {
        let client: WebSocketClient
        let curl: CurlEasy
        var socket: Int32 = -1
        var machine: WebSocketStateMachine
        var readBuffer = [UInt8](repeating: 0, count: 64 << 10)
        var closeDeadline: Int64?
        /// Set-up acknowledged (or waited out): queued frames may leave.
        var ready = false
        /// Until when to wait for the set-up's acknowledgement.
        var setupDeadline: Int64?
        /// The earliest a frame could leave: when the session became ready, or when a write
        /// that blocked on a full socket finished. Lateness before it is not the harness's.
        var availableAt: Int64 = 0
        /// When the last bytes arrived from the server.
        var lastReceivedAt: Int64 = 0

        init(client: WebSocketClient, curl: CurlEasy) {
            self.client = client
            self.curl = curl
            self.machine = WebSocketStateMachine(maxMessageSize: client.configuration.maxMessageSize)
        }

        var configuration: WebSocketClientConfiguration { client.configuration }

        func emit(_ event: TransportEvent, at t: Int64 = MonotonicClock.now(), turn: Int? = nil) {
            client.emit(TimedEvent(t: t, event, turn: turn))
        }

        func fail(_ kind: ErrorKind, _ message: String, at t: Int64 = MonotonicClock.now()) {
            emit(.failure(TransportError(kind, client.redact(message))), at: t)
        }

        mutating func run() {
            guard connect(), upgrade(), beginSession() else { return }
            loop()
        }

        // MARK: connect

        private mutating func connect() -> Bool {
            let endpoint = configuration.endpoint
            curl.setURL(endpoint.curlURL)
            curl.setConnectOnly()
            curl.forceHTTP11()
            curl.setConnectTimeout(milliseconds: configuration.connectTimeout / 1_000_000)
            curl.setTCPNoDelay()
            curl.setTLSVerification(configuration.verifyTLS)
            curl.setCAFile(configuration.caFile)
            curl.setConnectTo(endpoint.connectTo(configuration.connectVia))
            curl.setProgressCallback(webSocketConnectProgressCallback, context: Unmanaged.passUnretained(client).toOpaque())
            let result = withExtendedLifetime(client) { () -> CurlEasy.CurlError? in
                do throws(CurlEasy.CurlError) {
                    try curl.perform()
                    return nil
                } catch {
                    return error
                }
            }
            if let error = result {
                if let abort = client.pendingAbort, error.code == CurlEasy.abortedByCallback {
                    emit(.failure(abort))
                    return false
                }
                var kind = error.kind
                if kind == .timeout { kind = .connect }
                fail(kind, CurlEasy.CurlError(code: error.code, message: error.message, kind: kind).explained("could not connect to \(endpoint.redacted)"))
                return false
            }
            let t = MonotonicClock.now()
            emit(.connected(curl.connectTimings), at: t)
            emit(.curlTimes(curl.times), at: t)
            guard let fd = curl.activeSocket else {
                fail(.internal, "libcurl connected but reports no socket")
                return false
            }
            socket = fd
            return true
        }

        // MARK: upgrade

        private mutating func upgrade() -> Bool {
            let endpoint = configuration.endpoint
            let handshake = WebSocketHandshake()
            let request = handshake.request(host: endpoint.hostHeader, target: endpoint.requestTarget, headers: configuration.headers)
            let started = MonotonicClock.now()
            let deadline = started + configuration.connectTimeout
            guard sendAll(request, deadline: deadline).ok else { return false }
            var parser = HTTPResponseHeadParser()
            while true {
                if let error = client.pendingAbort {
                    emit(.failure(error))
                    return false
                }
                let outcome: CurlEasy.IOResult
                do {
                    outcome = try curl.receive(into: &readBuffer)
                } catch {
                    fail(.handshake, "the WebSocket upgrade did not complete: the connection failed while waiting for the server's answer (\(error.message)) after \(parser.bufferedByteCount) bytes")
                    return false
                }
                switch outcome {
                case .wouldBlock:
                    let now = MonotonicClock.now()
                    if now >= deadline {
                        fail(.timeout, "the WebSocket upgrade did not complete: no answer from \(endpoint.redacted) within \(configuration.connectTimeout / 1_000_000_000) s")
                        return false
                    }
                    _ = pollDescriptors([(socket, Int16(POLLIN)), (client.queue.wakeDescriptor, Int16(POLLIN))], until: deadline)
                    client.queue.drainWakeups()
                case .done(0):
                    let got = parser.bufferedByteCount
                    fail(.handshake, "the WebSocket upgrade did not complete: \(endpoint.redacted) closed the connection before answering the upgrade request (\(got == 0 ? "no response at all" : "after \(got) bytes of an incomplete response")). A platform or proxy that does not support WebSocket can do this")
                    return false
                case .done(let n):
                    let t = MonotonicClock.now()
                    lastReceivedAt = t
                    let result: HTTPResponseHeadParser.Result
                    do {
                        result = try parser.feed(readBuffer[0..<n])
                    } catch {
                        fail(.handshake, "the WebSocket upgrade did not complete: \(error)", at: t)
                        return false
                    }
                    guard case .complete(let head, let leftover) = result else { continue }
                    do {
                        _ = try handshake.validate(head)
                    } catch {
                        rejectUpgrade(head, error, leftover: leftover, at: t)
                        return false
                    }
                    emit(.webSocketOpen(upgradeNs: t - started), at: t)
                    if !leftover.isEmpty {
                        guard handle(machine.receive(leftover), at: t) else { return false }
                    }
                    return true
                }
            }
        }

        /// Reports a refused upgrade with what the server said, so the user can see why.
        private func rejectUpgrade(_ head: HTTPResponseHead, _ rejection: WebSocketHandshake.Rejection, leftover: [UInt8], at t: Int64) {
            var message = "the WebSocket upgrade did not complete: \(rejection)"
            var kind = ErrorKind.handshake
            if case .status(let status, _) = rejection {
                emit(.httpResponse(status: status, contentType: head.value(of: "content-type")), at: t)
                if status == 429 || status >= 500 || status == 401 || status == 403 {
                    kind = .httpStatus
                }
                let body = bodyExcerpt(String(decoding: leftover.prefix(2000), as: UTF8.self))
                if !body.isEmpty { message += " (body: \(body))" }
                if kind == .handshake {
                    message += "; the endpoint, or a proxy or edge platform in front of it, does not accept WebSocket upgrades"
                }
            }
            fail(kind, message, at: t)
        }

        // MARK: session set-up

        /// Sends the set-up messages before anything queued, then waits (in the loop) for
        /// their acknowledgement before queued audio may leave.
        private mutating func beginSession() -> Bool {
            for message in configuration.setupMessages {
                let frame = WebSocketClient.frame(message)
                guard sendAll(frame, deadline: MonotonicClock.now() + configuration.connectTimeout).ok else { return false }
            }
            if configuration.setupMessages.isEmpty || configuration.isSetupAcknowledgement == nil {
                markReady(at: MonotonicClock.now(), timedOut: false)
            } else {
                setupDeadline = MonotonicClock.now() + configuration.connectTimeout
            }
            return true
        }

        private mutating func markReady(at t: Int64, timedOut: Bool) {
            ready = true
            setupDeadline = nil
            availableAt = max(availableAt, t)
            emit(.sessionReady(timedOut: timedOut), at: t)
        }

        // MARK: main loop

        private mutating func loop() {
            while true {
                // 1. Everything the socket has (TLS may hold decrypted bytes poll cannot see).
                while true {
                    let outcome: CurlEasy.IOResult
                    do {
                        outcome = try curl.receive(into: &readBuffer)
                    } catch {
                        if machine.state != .closed {
                            fail(.closed, "the WebSocket connection failed: \(error.message)")
                        }
                        return
                    }
                    guard case .done(let n) = outcome else { break }
                    let t = MonotonicClock.now()
                    if n == 0 {
                        if machine.state != .closed {
                            let silence = Double(t - lastReceivedAt) / 1e9
                            fail(.closed, "the server closed the WebSocket connection without a close frame, \(String(format: "%.1f", silence)) s after its last message; a proxy or load balancer closing idle connections is a common cause (nginx: proxy_read_timeout, 60 s by default)", at: t)
                        }
                        return
                    }
                    lastReceivedAt = t
                    guard handle(machine.receive(readBuffer[0..<n]), at: t) else { return }
                }
                if machine.state == .closed { return }

                // 2. Aborts and close requests.
                let (abortError, closeRequest) = client.control.withLock { c in
                    defer { c.closeRequested = nil }
                    return (c.abort?.error, c.closeRequested)
                }
                if let abortError {
                    emit(.failure(abortError))
                    let close = WebSocketFrameEncoder.encode(.close, payload: WebSocketFrameEncoder.closePayload(code: WebSocketCloseCode.normal, reason: ""), maskKey: Crypto.randomBytes(4))
                    _ = sendAll(close, deadline: MonotonicClock.now() + .milliseconds(200), quiet: true)
                    return
                }
                if let closeRequest {
                    if ready { flushDue(now: .max) }
                    guard handle(machine.close(code: closeRequest.code, reason: closeRequest.reason), at: MonotonicClock.now()) else { return }
                    closeDeadline = MonotonicClock.now() + .seconds(2)
                }

                // 3. The set-up's acknowledgement waited out; frames that are due.
                if !ready, let setupDeadline, MonotonicClock.now() >= setupDeadline {
                    markReady(at: MonotonicClock.now(), timedOut: true)
                }
                if ready {
                    guard flushDue(now: MonotonicClock.now()) else { return }
                }

                // 4. Sleep until data, a wake-up, the next due frame, the set-up or close deadline.
                if let closeDeadline, MonotonicClock.now() >= closeDeadline {
                    emit(.webSocketClose(code: WebSocketCloseCode.normal, reason: "no close reply from the server within 2 s", by: .client))
                    return
                }
                let deadline = [ready ? client.queue.nextDue : nil, setupDeadline, closeDeadline].compactMap { $0 }.min()
                let revents = pollDescriptors([(socket, Int16(POLLIN)), (client.queue.wakeDescriptor, Int16(POLLIN))], until: deadline)
                if revents[1] != 0 { client.queue.drainWakeups() }
            }
        }

        /// Sends every frame due at `now`. Returns false when the connection is gone.
        @discardableResult
        private mutating func flushDue(now: Int64) -> Bool {
            while machine.state == .open, let (command, due) = client.queue.popDue(now: now) {
                let start = MonotonicClock.now()
                let lag = max(0, start - max(due, availableAt))
                switch command {
                case .frame(let bytes, let tag, let turn):
                    let (ok, blocked) = sendAll(bytes, deadline: start + .seconds(10))
                    guard ok else { return false }
                    if blocked > 0 { availableAt = MonotonicClock.now() }
                    if case .audio(let index) = tag {
                        emit(.chunkSent(index: index, scheduled: due, lagNs: lag, blockedNs: blocked), at: start, turn: turn)
                    }
                case .speechEnd(let messages, let turn):
                    // The client's work after the end of speech: frame (mask) commit and response.create.
                    let frames = messages.map(WebSocketClient.frame)
                    let encoded = MonotonicClock.now()
                    var blocked: Int64 = 0
                    for frame in frames {
                        let (ok, waited) = sendAll(frame, deadline: start + .seconds(10))
                        blocked += waited
                        guard ok else { return false }
                    }
                    if blocked > 0 { availableAt = MonotonicClock.now() }
                    emit(.speechEnd(scheduled: due, lagNs: lag, blockedNs: blocked), at: start, turn: turn)
                    emit(.encoded(ns: encoded - start), at: encoded, turn: turn)
                }
            }
            return true
        }

        /// Performs the state machine's actions. Returns false when the connection is finished.
        private mutating func handle(_ actions: [WebSocketStateMachine.Action], at t: Int64) -> Bool {
            var alive = true
            for action in actions {
                switch action {
                case .deliver(let message):
                    emit(.webSocketMessage(message), at: t)
                    if !ready, case .text(let text) = message, configuration.isSetupAcknowledgement?(text) == true {
                        markReady(at: t, timedOut: false)
                    }
                case .receivedPing(let payload):
                    emit(.webSocketPing(payload), at: t)
                case .sendPong(let payload):
                    let frame = WebSocketFrameEncoder.encode(.pong, payload: payload, maskKey: Crypto.randomBytes(4))
                    if !sendAll(frame, deadline: MonotonicClock.now() + .seconds(2)).ok { alive = false }
                case .receivedPong(let payload):
                    emit(.webSocketPong(payload), at: t)
                case .sendClose(let code, let reason):
                    let frame = WebSocketFrameEncoder.encode(.close, payload: WebSocketFrameEncoder.closePayload(code: code, reason: reason), maskKey: Crypto.randomBytes(4))
                    _ = sendAll(frame, deadline: MonotonicClock.now() + .seconds(1), quiet: true)
                case .closed(let code, let reason, let by):
                    emit(.webSocketClose(code: code, reason: reason, by: by), at: t)
                    alive = false
                case .failed(let code, let reason):
                    emit(.webSocketClose(code: code, reason: reason, by: .client), at: t)
                    fail(.protocol, "the server broke the WebSocket protocol: \(reason) (connection failed with close code \(code))", at: t)
                    alive = false
                }
            }
            return alive
        }

        /// Writes all of `bytes`, waiting for the socket when it is full (and for nothing
        /// else: an abort ends the wait). Returns whether it succeeded and how long it waited
        /// for the socket.
        private func sendAll(_ bytes: [UInt8], deadline: Int64, quiet: Bool = false) -> (ok: Bool, blockedNs: Int64) {
            var offset = 0
            var blocked: Int64 = 0
            while offset < bytes.count {
                let outcome: CurlEasy.IOResult
                do {
                    outcome = try curl.send(bytes, from: offset)
                } catch {
                    if !quiet { fail(.closed, "sending on the WebSocket connection failed: \(error.message)") }
                    return (false, blocked)
                }
                switch outcome {
                case .done(let n):
                    offset += n
                case .wouldBlock:
                    if !quiet, let abort = client.pendingAbort {
                        emit(.failure(abort))
                        return (false, blocked)
                    }
                    let waitStart = MonotonicClock.now()
                    if waitStart >= deadline {
                        if !quiet { fail(.timeout, "the server stopped reading: a frame could not be sent within \((deadline - waitStart + blocked) / 1_000_000_000) s") }
                        return (false, blocked)
                    }
                    let revents = pollDescriptors([(socket, Int16(POLLOUT)), (client.queue.wakeDescriptor, Int16(POLLIN))], until: deadline)
                    if revents[1] != 0 { client.queue.drainWakeups() }
                    blocked += MonotonicClock.now() - waitStart
                }
            }
            return (true, blocked)
        }
    }
}

/// libcurl calls progress callbacks several times a second even while connecting or during a
/// TLS handshake, so an interrupt stops a connect within a fraction of a second.
private let webSocketConnectProgressCallback: CurlEasy.ProgressCallback = { userdata, _, _, _, _ in
    let client = Unmanaged<WebSocketClient>.fromOpaque(userdata!).takeUnretainedValue()
    return client.pendingAbort != nil ? 1 : 0
}
