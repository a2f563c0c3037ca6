import Foundation
import Synchronization

/// Options for one WebSocket connection.
package struct WebSocketClientConfiguration: Sendable {
    package var endpoint: Endpoint
    /// Extra request headers (authorization …).
    package var headers: [(name: String, value: String)]
    /// Limit for DNS + TCP + TLS + upgrade, and for the set-up's acknowledgement, nanoseconds.
    package var connectTimeout: Int64
    /// Largest message accepted (close 1009 above it).
    package var maxMessageSize: Int
    /// Verify the server's TLS certificate (off only for self-signed test servers).
    package var verifyTLS: Bool
    /// CA certificates (PEM file) to trust instead of the system's.
    package var caFile: String?
    /// Where to connect instead of the URL's host and port (a link emulator), as "HOST:PORT".
    package var connectVia: String?
    /// Removes secrets from error messages.
    package var redactor: SecretRedactor
    /// Messages sent right after the upgrade, before anything queued (session set-up).
    package var setupMessages: [OutgoingMessage]
    /// Whether a received text message acknowledges the set-up. Queued audio waits for it (at
    /// most `connectTimeout`). Nil: nothing to wait for.
    package var isSetupAcknowledgement: (@Sendable (String) -> Bool)?

    package init(
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

/// An RFC 6455 client over a libcurl `CONNECT_ONLY` connection, driven by an `IOLoop`.
///
/// The loop's thread owns the curl handle for the connection's whole life: libcurl connects
/// it on the loop's multi handle, then the client performs the upgrade, sends the session
/// set-up and waits for its acknowledgement, and from then on — whenever the loop services it
/// or its socket is ready — sends the frames that fell due (the replay clock lives on the loop,
/// so pacing is not at the mercy of the task scheduler), receives with a timestamp taken right
/// after `curl_easy_recv` returns, answers pings and runs the close handshake. Nothing blocks:
/// a full socket keeps the rest of a frame in an outbox until the loop says it is writable.
/// Every observation goes to `emit` with its timestamp; `emit` is called on the loop's thread.
/// Over plain TCP the socket is read and written with `recv`/`send` directly (what libcurl's
/// calls do for it, without their per-call connection lookup); TLS goes through libcurl.
///
/// Lag bookkeeping: a frame's lag is stamped when its write starts and counts only the
/// harness's lateness — from when the frame was due, or from when the connection could take it
/// (the session became ready; a write blocked on a full socket finished), whichever is later.
/// Time spent blocked on a full socket is the network's and is reported apart.
final class WebSocketClient: TransportClient, IOLoopClient, @unchecked Sendable {
    private enum Command: Sendable {
        case frame(bytes: [UInt8], tag: SendTag, turn: Int?)
        /// The end of speech: its messages are framed when it falls due, as a client can only
        /// send them once the user has stopped.
        case speechEnd(messages: [OutgoingMessage], turn: Int)
    }

    private struct Control: Sendable {
        var started = false
        var closeRequested: (code: UInt16, reason: String)?
        var abort: (turn: Int?, error: TransportError)?
        /// The turn whose frames were queued last.
        var currentTurn: Int?
    }

    let configuration: WebSocketClientConfiguration
    let dialect: any WebSocketDialect
    /// Who waits for the session to be ready (`open`), until it is or the connection fails.
    private let readyWaiter = LockedBox<(@Sendable (TransportError?) -> Void)?>(nil)
    private let loop: IOLoop
    private let queue = CommandQueue<Command>()
    private let control = Mutex(Control())
    private let emit: @Sendable (TimedEvent) -> Void
    private let onFinish: @Sendable () -> Void
    /// The connection's state, touched only on the loop's thread (nil before `start` and after
    /// the end).
    private var connection: Connection?
    private var finished = false

    /// - Parameters:
    ///   - configuration: the connection; its set-up messages and acknowledgement are the
    ///     dialect's.
    ///   - emit: receives every event, on the loop's thread.
    ///   - onFinish: called once, on the loop's thread, after the connection is gone.
    init(
        configuration: WebSocketClientConfiguration,
        dialect: any WebSocketDialect,
        loop: IOLoop,
        emit: @escaping @Sendable (TimedEvent) -> Void,
        onFinish: @escaping @Sendable () -> Void
    ) {
        var configuration = configuration
        configuration.setupMessages = dialect.setupMessages()
        configuration.isSetupAcknowledgement = dialect.setupAcknowledgement
        self.configuration = configuration
        self.dialect = dialect
        self.loop = loop
        let waiter = readyWaiter
        let take: @Sendable () -> (@Sendable (TransportError?) -> Void)? = {
            waiter.withLock { w in
                defer { w = nil }
                return w
            }
        }
        // `open` returns when the session is ready, or with the failure that ended the attempt.
        self.emit = { event in
            emit(event)
            switch event.event {
            case .sessionReady: take()?(nil)
            case .failure(let error): take()?(error)
            default: break
            }
        }
        self.onFinish = {
            onFinish()
            take()?(TransportError(.closed, "the connection ended before the WebSocket session was ready"))
        }
    }

    // MARK: TransportClient

    var endpoint: Endpoint { configuration.endpoint }

    /// The connection is one object's life: when it is gone, the client is finished.
    var connectionLost: Bool { false }

    /// Connects, upgrades, sends the dialect's set-up and calls `ready` once the server
    /// acknowledged it (or with the failure).
    func open(ready: @escaping @Sendable (TransportError?) -> Void) {
        let first = control.withLock { !$0.started }
        guard first else { return ready(TransportError(.internal, "open() called twice on one WebSocket connection")) }
        readyWaiter.withLock { $0 = ready }
        start()
    }

    func send(_ chunk: AudioChunk) {
        send(
            dialect.audioMessage(chunk.pcm, turn: chunk.turn), due: chunk.due, tag: .audio(index: chunk.index),
            turn: chunk.turn)
    }

    /// The dialect's end-of-speech messages at `due` (Realtime, manual turns: commit and
    /// `response.create`). With none — the server finds the end itself — `due` only marks it.
    func endSpeech(turn: Int, at due: Int64, deadline: Int64) {
        endSpeech(messages: dialect.endOfSpeechMessages(turn: turn), turn: turn, due: due)
    }

    func sendControl(_ messages: [String]) {
        let now = MonotonicClock.now()
        for message in messages { send(.text(message), due: now, tag: .other, turn: nil) }
    }

    /// Closes the connection (a never-started client is done at once).
    func shutdown() {
        let started = control.withLock { c in
            defer { c.started = true }
            return c.started
        }
        if started { close() } else { onFinish() }
    }

    /// Starts connecting on the loop. Frames sent before the session is ready wait for it.
    func start() {
        let first = control.withLock { c in
            defer { c.started = true }
            return !c.started
        }
        if first { loop.schedule(self, at: .min) }
    }

    /// Queues a message to leave at `due` (monotonic ns; now or in the past: at once).
    /// The frame is masked here, on the caller's thread, so the loop only writes.
    func send(_ message: OutgoingMessage, due: Int64, tag: SendTag, turn: Int?) {
        let frame = Self.frame(message)
        if let turn { control.withLock { $0.currentTurn = turn } }
        queue.enqueue(.frame(bytes: frame, tag: tag, turn: turn), due: due)
        loop.schedule(self, at: due)
    }

    /// Queues the end of speech of `turn` at `due`: `messages` are framed and sent then.
    func endSpeech(messages: [OutgoingMessage], turn: Int, due: Int64) {
        control.withLock { $0.currentTurn = turn }
        queue.enqueue(.speechEnd(messages: messages, turn: turn), due: due)
        loop.schedule(self, at: due)
    }

    /// A client frame (masked) carrying `message`.
    static func frame(_ message: OutgoingMessage) -> [UInt8] {
        switch message {
        case .text(let text): WebSocketFrameEncoder.encode(.text, payload: text.utf8, maskKey: Crypto.maskKey())
        case .binary(let bytes): WebSocketFrameEncoder.encode(.binary, payload: bytes, maskKey: Crypto.maskKey())
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
        loop.schedule(self, at: .min)
    }

    /// Fails the connection now with `error` (emitted as `.failure`) — unless `turn` names a
    /// turn that is no longer the current one (a late timeout of a finished turn).
    func abort(_ error: TransportError, turn: Int?) {
        control.withLock { c in
            guard turn == nil || turn == c.currentTurn else { return }
            if c.abort == nil { c.abort = (turn, error) }
        }
        loop.schedule(self, at: .min)
    }

    fileprivate var pendingAbort: TransportError? { control.withLock { $0.abort?.error } }

    private func redact(_ text: String) -> String { configuration.redactor.redact(text) }

    // MARK: - loop thread

    func service(now: Int64) {
        guard !finished else { return }
        if connection == nil {
            guard control.withLock({ $0.started }) else { return }
            connection = Connection(client: self, loop: loop)
            connection!.connect()
        }
        connection!.service()
        endIfDone()
    }

    func socketReady(_ events: UInt32) {
        guard !finished, let connection else { return }
        connection.socketReady(events)
        endIfDone()
    }

    func transferDone(_ result: CurlEasy.CurlError?) {
        guard !finished, let connection else { return }
        connection.connected(result)
        endIfDone()
    }

    /// Once the connection is over: its handle leaves the loop and is cleaned up here, on the
    /// loop's thread, before `onFinish` tells the owner the connection is gone.
    private func endIfDone() {
        guard let connection, connection.over else { return }
        connection.release()
        self.connection = nil
        finished = true
        queue.removeAll()
        onFinish()
    }

    /// The connection's I/O, owned by the loop's thread: what to do and when is decided by
    /// `WebSocketConnectionMachine` (the connection's life) and `WebSocketStateMachine` (its
    /// frames); this performs their actions on the socket.
    private final class Connection {

        /// What to report once the outbox has written a frame's last byte.
        enum Completion {
            case chunk(index: Int, scheduled: Int64, lag: Int64, start: Int64, turn: Int?)
            case speechEnd(scheduled: Int64, lag: Int64, start: Int64, encoded: Int64, turn: Int)
        }

        unowned let client: WebSocketClient
        let loop: IOLoop
        let curl = CurlEasy()
        var socket: Int32 = -1
        /// The connection's life: upgrade, set-up, close deadline.
        var session: WebSocketConnectionMachine
        /// The frames of the open connection.
        var machine: WebSocketStateMachine
        /// The earliest a frame could leave: when the session became ready, or when a write
        /// that blocked on a full socket finished. Lateness before it is not the harness's.
        var availableAt: Int64 = 0
        /// When the last bytes arrived from the server.
        var lastReceivedAt: Int64 = 0
        /// Bytes accepted for sending that the socket has not taken yet.
        var outbox: [UInt8] = []
        var outboxOffset = 0
        /// Frames in the outbox to report when written: (end offset in the outbox, what).
        var completions: [(end: Int, what: Completion?)] = []
        /// Since when the outbox waits for a full socket (nil: not waiting).
        var blockedSince: Int64?
        /// Time the frame at the head of the outbox has waited for the socket so far.
        var headBlocked: Int64 = 0
        /// Until when a blocked write may wait (the server stopped reading).
        var sendDeadline: Int64?
        /// A close frame was queued: a failing write ends the connection without a failure of its own.
        var closing = false

        init(client: WebSocketClient, loop: IOLoop) {
            self.client = client
            self.loop = loop
            let configuration = client.configuration
            let endpoint = configuration.endpoint
            self.session = WebSocketConnectionMachine(
                endpoint: endpoint.redacted, host: endpoint.hostHeader, target: endpoint.requestTarget,
                headers: configuration.headers,
                connectTimeout: configuration.connectTimeout,
                acknowledges: configuration.setupMessages.isEmpty ? nil : configuration.isSetupAcknowledgement)
            self.machine = WebSocketStateMachine(maxMessageSize: configuration.maxMessageSize)
        }

        var configuration: WebSocketClientConfiguration { client.configuration }
        var phase: WebSocketConnectionMachine.Phase { session.phase }
        var ready: Bool { session.ready }
        var over: Bool { phase == .over }

        func emit(_ event: TransportEvent, at t: Int64 = MonotonicClock.now(), turn: Int? = nil) {
            client.emit(TimedEvent(t: t, event, turn: turn))
        }

        func fail(_ kind: ErrorKind, _ message: String, at t: Int64 = MonotonicClock.now()) {
            emit(.failure(TransportError(kind, client.redact(message))), at: t)
            end()
        }

        /// The connection is over.
        func end() {
            _ = session.handle(.ended)
        }

        /// Performs the connection machine's actions in order. Reports always go out; socket
        /// work stops once the connection is over (a write or read may end it).
        func perform(_ actions: [WebSocketConnectionMachine.Action]) {
            for action in actions {
                switch action {
                case .sendUpgradeRequest, .sendSetup, .receiveFrames, .ready:
                    if phase == .over { continue }
                default:
                    break
                }
                switch action {
                case .sendUpgradeRequest(let request):
                    write(request, completion: nil)
                    if phase == .upgrading { receive() }
                case .wake(let t):
                    loop.schedule(client, at: t)
                case .opened(let upgradeNs, let t):
                    emit(.webSocketOpen(upgradeNs: upgradeNs), at: t)
                case .sendSetup:
                    for message in configuration.setupMessages {
                        write(WebSocketClient.frame(message), completion: nil)
                    }
                    perform(session.handle(.setupSent(at: MonotonicClock.now())))
                case .receiveFrames(let bytes, let t):
                    if phase == .open, !handle(machine.receive(bytes), at: t) { end() }
                case .ready(let t, let timedOut):
                    availableAt = max(availableAt, t)
                    emit(.sessionReady(timedOut: timedOut), at: t)
                    flushDue(now: MonotonicClock.now())
                case .httpResponse(let status, let contentType, let t):
                    emit(.httpResponse(status: status, contentType: contentType), at: t)
                case .closeTimedOut(let t):
                    emit(
                        .webSocketClose(
                            code: WebSocketCloseCode.normal, reason: "no close reply from the server within 2 s",
                            by: .client), at: t)
                case .fail(let kind, let message, let t):
                    emit(.failure(TransportError(kind, client.redact(message))), at: t)
                }
            }
        }

        /// A proxy from the environment may wrap the connection (an HTTPS proxy in TLS): then
        /// every byte goes through libcurl.
        static let proxyConfigured: Bool = {
            let environment = ProcessInfo.processInfo.environment
            return ["http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"].contains { !(environment[$0] ?? "").isEmpty }
        }()

        /// Takes the handle off the loop (the socket first), so it can be cleaned up.
        func release() {
            if socket >= 0 { loop.unwatch(socket) }
            loop.remove(curl)
        }

        // MARK: connect (libcurl, on a multi handle of its own on the loop)

        func connect() {
            let endpoint = configuration.endpoint
            curl.setURL(endpoint.curlURL)
            curl.setConnectOnly()
            curl.forceHTTP11()
            curl.setConnectTimeout(milliseconds: configuration.connectTimeout / 1_000_000)
            curl.setTCPNoDelay()
            curl.setTLSVerification(configuration.verifyTLS)
            curl.setCAFile(configuration.caFile)
            curl.setConnectTo(endpoint.connectTo(configuration.connectVia))
            loop.addConnectOnly(curl, for: client)
        }

        /// libcurl finished connecting (or failed to).
        func connected(_ error: CurlEasy.CurlError?) {
            guard phase == .connecting else { return }
            let endpoint = configuration.endpoint
            if let error {
                var kind = error.kind
                if kind == .timeout { kind = .connect }
                fail(
                    kind,
                    CurlEasy.CurlError(code: error.code, message: error.message, kind: kind).explained(
                        "could not connect to \(endpoint.redacted)"))
                return
            }
            let t = MonotonicClock.now()
            emit(.connected(curl.connectTimings), at: t)
            emit(.curlTimes(curl.times), at: t)
            guard let fd = curl.activeSocket else {
                fail(.internal, "libcurl connected but reports no socket")
                return
            }
            socket = fd
            if !endpoint.usesTLS && !Self.proxyConfigured { curl.directSocket = fd }
            loop.watch(fd, events: IOEvents.readable, for: client)
            perform(session.handle(.connected(at: MonotonicClock.now())))
        }

        // MARK: service: aborts, close requests, deadlines, due frames

        func service() {
            if let error = client.pendingAbort, phase != .over {
                abort(error)
                return
            }
            switch phase {
            case .connecting, .over:
                return
            case .upgrading:
                perform(session.handle(.tick(at: MonotonicClock.now())))
                return
            case .open:
                break
            }
            let closeRequest = client.control.withLock { c in
                defer { c.closeRequested = nil }
                return c.closeRequested
            }
            if let closeRequest {
                if ready { flushDue(now: .max) }
                guard phase == .open,
                    handle(
                        machine.close(code: closeRequest.code, reason: closeRequest.reason), at: MonotonicClock.now())
                else { return }
                perform(session.handle(.closeSent(at: MonotonicClock.now())))
            }
            let now = MonotonicClock.now()
            perform(session.handle(.tick(at: now)))
            guard phase == .open else { return }
            if let sendDeadline, blockedSince != nil, now >= sendDeadline {
                fail(
                    .timeout,
                    "the server stopped reading: a frame could not be sent within \((sendDeadline - (blockedSince ?? sendDeadline) + headBlocked) / 1_000_000_000) s"
                )
                return
            }
            if ready { flushDue(now: now) }
            if phase == .open { perform(session.handle(.closeTick(at: MonotonicClock.now()))) }
        }

        private func abort(_ error: TransportError) {
            emit(.failure(error))
            if phase == .open || phase == .upgrading, socket >= 0 {
                // A courtesy close frame, if the socket takes it now; the connection ends anyway.
                let close = WebSocketFrameEncoder.encode(
                    .close, payload: WebSocketFrameEncoder.closePayload(code: WebSocketCloseCode.normal, reason: ""),
                    maskKey: Crypto.maskKey())
                if outbox.count == outboxOffset { _ = try? curl.send(close, from: 0) }
            }
            end()
        }

        // MARK: socket events

        func socketReady(_ events: UInt32) {
            if events & IOEvents.writable != 0 || events & IOEvents.failed != 0 {
                flushOutbox()
                if phase == .over { return }
                if outbox.isEmpty, ready { flushDue(now: MonotonicClock.now()) }
            }
            if phase != .over, events & IOEvents.readable | IOEvents.failed != 0 {
                receive()
            }
        }

        /// Everything the socket has (TLS may hold decrypted bytes epoll cannot see, so read
        /// until libcurl says it would block).
        private func receive() {
            while phase == .upgrading || phase == .open {
                let outcome: CurlEasy.IOResult
                do {
                    outcome = try curl.receive(into: &loop.readBuffer)
                } catch {
                    if phase == .upgrading {
                        fail(
                            .handshake,
                            "the WebSocket upgrade did not complete: the connection failed while waiting for the server's answer (\(error.message)) after \(session.upgradeBytesSoFar) bytes"
                        )
                    } else if machine.state != .closed {
                        fail(.closed, "the WebSocket connection failed: \(error.message)")
                    } else {
                        end()
                    }
                    return
                }
                guard case .done(let n) = outcome else { return }
                let t = MonotonicClock.now()
                if n == 0 {
                    if phase == .upgrading {
                        let got = session.upgradeBytesSoFar
                        fail(
                            .handshake,
                            "the WebSocket upgrade did not complete: \(configuration.endpoint.redacted) closed the connection before answering the upgrade request (\(got == 0 ? "no response at all" : "after \(got) bytes of an incomplete response")). A platform or proxy that does not support WebSocket can do this"
                        )
                    } else if machine.state != .closed {
                        let silence = Double(t - lastReceivedAt) / 1e9
                        fail(
                            .closed,
                            "the server closed the WebSocket connection without a close frame, \(String(format: "%.1f", silence)) s after its last message; a proxy or load balancer closing idle connections is a common cause (nginx: proxy_read_timeout, 60 s by default)",
                            at: t)
                    } else {
                        end()
                    }
                    return
                }
                lastReceivedAt = t
                if phase == .upgrading {
                    perform(session.handle(.upgradeBytes(loop.readBuffer[0..<n], at: t)))
                } else if !handle(machine.receive(loop.readBuffer[0..<n]), at: t) {
                    end()
                    return
                }
                if machine.state == .closed { end() }
            }
        }

        // MARK: sending

        /// Sends every frame due at `now`, unless the socket is still taking an earlier one.
        private func flushDue(now: Int64) {
            while phase == .open, machine.state == .open, outboxOffset == outbox.count,
                let (command, due) = client.queue.popDue(now: now)
            {
                let start = MonotonicClock.now()
                let lag = max(0, start - max(due, availableAt))
                switch command {
                case .frame(let bytes, let tag, let turn):
                    if case .audio(let index) = tag {
                        write(
                            bytes, completion: .chunk(index: index, scheduled: due, lag: lag, start: start, turn: turn))
                    } else {
                        write(bytes, completion: nil)
                    }
                case .speechEnd(let messages, let turn):
                    // The client's work after the end of speech: frame (mask) commit and response.create.
                    let frames = messages.map(WebSocketClient.frame)
                    let encoded = MonotonicClock.now()
                    write(
                        frames.flatMap { $0 },
                        completion: .speechEnd(scheduled: due, lag: lag, start: start, encoded: encoded, turn: turn))
                }
            }
        }

        /// Queues `bytes` behind whatever the outbox holds and writes what the socket takes.
        private func write(_ bytes: [UInt8], completion: Completion?) {
            if outboxOffset == outbox.count {
                outbox.removeAll(keepingCapacity: true)
                outboxOffset = 0
            }
            outbox.append(contentsOf: bytes)
            completions.append((outbox.count, completion))
            flushOutbox()
        }

        /// Writes the outbox until it is empty or the socket is full (then waits for EPOLLOUT).
        private func flushOutbox() {
            while outboxOffset < outbox.count {
                let outcome: CurlEasy.IOResult
                do {
                    outcome = try curl.send(outbox, from: outboxOffset)
                } catch {
                    if closing {
                        end()
                    } else {
                        fail(.closed, "sending on the WebSocket connection failed: \(error.message)")
                    }
                    return
                }
                switch outcome {
                case .done(let n):
                    if let since = blockedSince {
                        headBlocked += MonotonicClock.now() - since
                        blockedSince = nil
                        sendDeadline = nil
                        loop.watch(socket, events: IOEvents.readable, for: client)
                        availableAt = MonotonicClock.now()
                    }
                    outboxOffset += n
                    reportWritten()
                case .wouldBlock:
                    if blockedSince == nil {
                        let now = MonotonicClock.now()
                        blockedSince = now
                        sendDeadline = now + .seconds(10)
                        loop.schedule(client, at: sendDeadline!)
                        loop.watch(socket, events: IOEvents.readable | IOEvents.writable, for: client)
                    }
                    return
                }
            }
        }

        /// Reports the frames whose last byte the socket has taken.
        private func reportWritten() {
            while let first = completions.first, first.end <= outboxOffset {
                completions.removeFirst()
                let blocked = headBlocked
                headBlocked = 0
                switch first.what {
                case .chunk(let index, let scheduled, let lag, let start, let turn):
                    emit(
                        .chunkSent(index: index, scheduled: scheduled, lagNs: lag, blockedNs: blocked), at: start,
                        turn: turn)
                case .speechEnd(let scheduled, let lag, let start, let encoded, let turn):
                    emit(.speechEnd(scheduled: scheduled, lagNs: lag, blockedNs: blocked), at: start, turn: turn)
                    emit(.encoded(ns: encoded - start), at: encoded, turn: turn)
                case nil:
                    break
                }
            }
        }

        // MARK: receiving

        /// Performs the state machine's actions. Returns false when the connection is finished.
        private func handle(_ actions: [WebSocketStateMachine.Action], at t: Int64) -> Bool {
            var alive = true
            for action in actions {
                switch action {
                case .deliver(let message):
                    emit(.webSocketMessage(message), at: t)
                    if !ready, case .text(let text) = message { perform(session.handle(.textMessage(text, at: t))) }
                case .receivedPing(let payload):
                    emit(.webSocketPing(payload), at: t)
                case .sendPong(let payload):
                    write(
                        WebSocketFrameEncoder.encode(.pong, payload: payload, maskKey: Crypto.maskKey()),
                        completion: nil)
                    if phase == .over { alive = false }
                case .receivedPong(let payload):
                    emit(.webSocketPong(payload), at: t)
                case .sendClose(let code, let reason):
                    closing = true
                    write(
                        WebSocketFrameEncoder.encode(
                            .close, payload: WebSocketFrameEncoder.closePayload(code: code, reason: reason),
                            maskKey: Crypto.maskKey()), completion: nil)
                case .closed(let code, let reason, let by):
                    emit(.webSocketClose(code: code, reason: reason, by: by), at: t)
                    alive = false
                case .failed(let code, let reason):
                    emit(.webSocketClose(code: code, reason: reason, by: .client), at: t)
                    fail(
                        .protocol,
                        "the server broke the WebSocket protocol: \(reason) (connection failed with close code \(code))",
                        at: t)
                    alive = false
                }
            }
            if !alive { end() }
            return alive
        }
    }
}
