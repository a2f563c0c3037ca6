import Foundation
import Synchronization

/// Options for the SSE client.
package struct SSEClientConfiguration: Sendable {
    package var endpoint: Endpoint
    /// Extra request headers (authorization …).
    package var headers: [(name: String, value: String)]
    /// Limit for DNS + TCP + TLS, nanoseconds.
    package var connectTimeout: Int64
    /// Verify the server's TLS certificate.
    package var verifyTLS: Bool
    /// CA certificates (PEM file) to trust instead of the system's.
    package var caFile: String?
    /// Where to connect instead of the URL's host and port (a link emulator), as "HOST:PORT".
    package var connectVia: String?
    /// A new connection per request (cold) instead of keep-alive reuse (warm).
    package var freshConnectionPerRequest: Bool
    package var redactor: SecretRedactor

    package init(
        endpoint: Endpoint,
        headers: [(name: String, value: String)] = [],
        connectTimeout: Int64 = .seconds(10),
        verifyTLS: Bool = true,
        caFile: String? = nil,
        connectVia: String? = nil,
        freshConnectionPerRequest: Bool = false,
        redactor: SecretRedactor = SecretRedactor()
    ) {
        self.endpoint = endpoint
        self.headers = headers
        self.connectTimeout = connectTimeout
        self.verifyTLS = verifyTLS
        self.caFile = caFile
        self.connectVia = connectVia
        self.freshConnectionPerRequest = freshConnectionPerRequest
        self.redactor = redactor
    }
}

/// HTTP POST with a streamed `text/event-stream` answer, on libcurl, driven by an `IOLoop`:
/// the one request driver of the SSE transports. Its dialect says how the recording goes up
/// (`SSEDialect.upload`):
/// - `.whole`: chunks are captured on the replay schedule (stamped, to measure the replay
///   clock's lag as the WebSocket side is) and, at the end of speech, the dialect builds the
///   request from them — the client's work a user waits for — and it is POSTed;
/// - `.streamed`: the request starts with the first chunk, each chunk is appended to its
///   chunked body when due (the upload pauses when it has sent everything so far), and the end
///   of speech ends the body.
///
/// The loop's thread owns the curl handle (so a kept-alive connection is reused across
/// requests, from the loop's connection cache). Response bytes are stamped and parsed inside
/// libcurl's write callback, before any hop. Every event of a request carries its turn, and a
/// request always ends with one `.transferEnd`.
final class SSERequestClient: TransportClient, IOLoopClient, @unchecked Sendable {
    private enum Command: Sendable {
        case chunk(pcm: [UInt8], index: Int, turn: Int)
        case end(turn: Int, deadline: Int64)
        case prime(done: @Sendable () -> Void)
    }

    private struct Control: Sendable {
        /// A pending abort: of one turn, or (nil) of whatever is in flight.
        var abort: (turn: Int?, error: TransportError)?
        var shutdown = false
        /// The turn whose request is queued or in flight.
        var currentTurn: Int?
        /// A transfer failed: libcurl closed the kept-alive connection.
        var connectionLost = false
        /// `.whole`: each turn's captured audio, until its end of speech.
        var captured: [Int: [UInt8]] = [:]
    }

    /// The request on the wire.
    private enum Active {
        /// A POST; its growing body when the upload streams.
        case post(SSETransfer, SSETransfer.StreamedBody?)
        case prime(done: @Sendable () -> Void)
    }

    let configuration: SSEClientConfiguration
    let dialect: any SSEDialect
    private let loop: IOLoop
    private let queue = CommandQueue<Command>()
    private let control = Mutex(Control())
    private let emit: @Sendable (TimedEvent) -> Void
    private let onFinish: @Sendable () -> Void
    // Loop-thread state.
    private var curl: CurlEasy?
    private var active: Active?
    private var finished = false

    init(
        configuration: SSEClientConfiguration, dialect: any SSEDialect, loop: IOLoop,
        emit: @escaping @Sendable (TimedEvent) -> Void, onFinish: @escaping @Sendable () -> Void
    ) {
        self.configuration = configuration
        self.dialect = dialect
        self.loop = loop
        self.emit = emit
        self.onFinish = onFinish
    }

    var endpoint: Endpoint { configuration.endpoint }

    /// Whether a failed transfer took the kept-alive connection with it.
    var connectionLost: Bool { control.withLock { $0.connectionLost } }

    private var streams: Bool { dialect.upload == .streamed }

    /// Warm: opens the kept-alive connection now with an `OPTIONS` request, so the first POST
    /// does not pay for connection setup (whatever the endpoint answers is read and dropped; if
    /// it closes the connection, the next POST connects and records that it did). Cold: every
    /// POST connects, so there is nothing to open.
    func open(ready: @escaping @Sendable (TransportError?) -> Void) {
        guard !configuration.freshConnectionPerRequest else { return ready(nil) }
        let now = MonotonicClock.now()
        queue.enqueue(.prime(done: { ready(nil) }), due: now)
        loop.schedule(self, at: now)
    }

    /// `.whole`: records that the chunk was captured at its due time (the upload comes later).
    /// `.streamed`: appends it to the turn's request body then (starting the request).
    func send(_ chunk: AudioChunk) {
        let streams = streams
        control.withLock { c in
            // A streamed turn's first chunk starts its request: an old turn's abort is spent.
            if streams, c.currentTurn != chunk.turn, let abort = c.abort, abort.turn != nil { c.abort = nil }
            c.currentTurn = chunk.turn
            if !streams { c.captured[chunk.turn, default: []].append(contentsOf: chunk.pcm) }
        }
        queue.enqueue(.chunk(pcm: streams ? chunk.pcm : [], index: chunk.index, turn: chunk.turn), due: chunk.due)
        loop.schedule(self, at: chunk.due)
    }

    /// `.whole`: POSTs the turn's recording at `due` (the body is built then, on the loop);
    /// the transfer fails with `timeout` at `deadline`. `.streamed`: ends the body at `due`.
    func endSpeech(turn: Int, at due: Int64, deadline: Int64) {
        if !streams {
            // The whole request starts now: an old turn's abort is spent.
            control.withLock { c in
                c.currentTurn = turn
                if let abort = c.abort, let owner = abort.turn, owner != turn { c.abort = nil }
            }
        }
        queue.enqueue(.end(turn: turn, deadline: deadline), due: due)
        loop.schedule(self, at: due)
    }

    /// Chat Completions keeps no conversation between requests: nothing to send.
    func sendControl(_ messages: [String]) {}

    /// Drops what `turn` still has queued: its audio (and, streamed, its end: the request is
    /// over by the time the turn is).
    func discard(turn: Int) {
        let streams = streams
        control.withLock { _ = $0.captured.removeValue(forKey: turn) }
        queue.removeAll { command in
            switch command {
            case .chunk(_, _, let owner): owner == turn
            case .end(let owner, _): streams && owner == turn
            case .prime: false
            }
        }
    }

    /// Aborts `turn`'s request (nil: whatever is in flight, the prime included) with `error`.
    func abort(_ error: TransportError, turn: Int?) {
        control.withLock { c in
            guard turn == nil || turn == c.currentTurn else { return }
            if c.abort == nil || turn == nil { c.abort = (turn, error) }
        }
        loop.schedule(self, at: .min)
    }

    /// Stops the client after aborting what is in flight; `onFinish` follows on the loop.
    func shutdown() {
        control.withLock {
            $0.shutdown = true
            if $0.abort == nil { $0.abort = (nil, TransportError(.internal, "the transport was closed")) }
        }
        loop.schedule(self, at: .min)
    }

    /// The abort that applies to `turn` (nil: connection-level work such as the prime).
    private func abortError(for turn: Int?) -> TransportError? {
        control.withLock { c in
            guard let abort = c.abort, abort.turn == nil || abort.turn == turn else { return nil }
            return abort.error
        }
    }

    /// A turn's abort is spent once its transfer is over.
    private func forgetAbort(of turn: Int) {
        control.withLock { c in
            if c.abort?.turn == turn { c.abort = nil }
        }
    }

    // MARK: - loop thread

    func service(now: Int64) {
        guard !finished else { return }
        // 1. An abort ends the request in flight at once, paused or not.
        switch active {
        case .post(let transfer, _):
            if let error = abortError(for: transfer.turn) {
                loop.remove(transfer.curl)
                control.withLock { $0.connectionLost = true }
                emit(TimedEvent(t: MonotonicClock.now(), .transferEnd(transfer.curl.times, error), turn: transfer.turn))
                forgetAbort(of: transfer.turn)
                active = nil
            }
        case .prime(let done):
            if abortError(for: nil) != nil, let curl {
                loop.remove(curl)
                active = nil
                done()
            }
        case nil:
            break
        }
        // 2. What is due, in order.
        while let (next, _) = queue.first {
            if !mayStart(next) { break }
            guard let (command, due) = queue.popDue(now: MonotonicClock.now()) else { break }
            let now = MonotonicClock.now()
            switch command {
            case .prime(let done):
                startPrime(done: done)
            case .chunk(let pcm, let index, let turn):
                if streams {
                    append(pcm, index: index, turn: turn, due: due, now: now)
                } else {
                    emit(TimedEvent(t: now, .chunkCaptured(index: index, scheduled: due, lagNs: now - due), turn: turn))
                }
            case .end(let turn, let deadline):
                emit(TimedEvent(t: now, .speechEnd(scheduled: due, lagNs: now - due, blockedNs: 0), turn: turn))
                if streams {
                    endBody(turn: turn, now: now)
                } else {
                    // The client's work after the end of speech starts now: build the body.
                    let pcm = control.withLock { $0.captured.removeValue(forKey: turn) ?? [] }
                    let request = dialect.request(audio: pcm, turn: turn)
                    let encoded = MonotonicClock.now()
                    emit(TimedEvent(t: encoded, .encoded(ns: encoded - now), turn: turn))
                    startPost(request: request, turn: turn, deadline: deadline)
                }
            }
        }
        // 3. Closed: once nothing is in flight, the handle goes.
        if control.withLock({ $0.shutdown }) {
            // A streamed body may be paused forever: end its request (a whole one ends itself).
            if case .post(let transfer, _?) = active {
                finish(
                    transfer, result: CurlEasy.CurlError(code: 42, message: "the transport was closed", kind: .internal)
                )
            }
            guard active == nil else { return }
            finished = true
            curl = nil
            queue.removeAll()
            onFinish()
        }
    }

    /// Whether `command` may run now: one request at a time. Captured chunks are only stamped,
    /// so they run while a request is in flight; a streamed chunk or end joins its own request.
    private func mayStart(_ command: Command) -> Bool {
        switch (active, command) {
        case (nil, _): true
        case (.prime, .chunk): !streams
        case (.prime, _): false
        case (.post, .prime): false
        case (.post, .chunk): true
        case (.post, .end): streams
        }
    }

    func transferDone(_ result: CurlEasy.CurlError?) {
        guard let curl else { return }
        switch active {
        case .post(let transfer, _):
            withExtendedLifetime(transfer) { finish(transfer, result: result) }
        case .prime(let done):
            loop.remove(curl)
            active = nil
            if result == nil { emit(TimedEvent(t: MonotonicClock.now(), .connected(curl.connectTimings))) }
            done()
        case nil:
            break
        }
        service(now: MonotonicClock.now())
    }

    func socketReady(_ events: UInt32) {}

    private func handle() -> CurlEasy {
        if let curl { return curl }
        let created = CurlEasy()
        curl = created
        return created
    }

    /// The warm prime, through the loop's multi handle: its connection cache is the one later
    /// requests reuse.
    private func startPrime(done: @escaping @Sendable () -> Void) {
        if abortError(for: nil) != nil {
            done()
            return
        }
        let curl = handle()
        configuration.preparePrime(curl)
        active = .prime(done: done)
        loop.add(curl, for: self)
    }

    /// `.whole`: the request with its complete body.
    private func startPost(request: DialectRequest, turn: Int, deadline: Int64) {
        if let error = abortError(for: turn) {
            emit(TimedEvent(t: MonotonicClock.now(), .transferEnd(.zero, error), turn: turn))
            forgetAbort(of: turn)
            return
        }
        let curl = handle()
        let transfer = SSETransfer(
            curl: curl, body: .fixed(request.body), turn: turn, configuration: configuration,
            emit: emit, isAborted: { [unowned self] in abortError(for: turn) != nil })
        configuration.prepare(curl, timeout: deadline - MonotonicClock.now())
        curl.setPost(bodySize: request.body.count, method: request.method)
        start(transfer, body: nil, headers: request.headers)
    }

    /// `.streamed`: the request whose chunked body grows as the user speaks (no timeout of its
    /// own: the turn's deadline aborts it).
    private func begin(turn: Int) {
        let curl = handle()
        let body = SSETransfer.StreamedBody()
        let transfer = SSETransfer(
            curl: curl, body: .streamed(body), turn: turn, configuration: configuration,
            emit: emit, isAborted: { [unowned self] in abortError(for: turn) != nil })
        let request = dialect.request(audio: [], turn: turn)
        configuration.prepare(curl, timeout: nil)
        curl.setStreamingPost(method: request.method)
        start(transfer, body: body, headers: request.headers + ["Transfer-Encoding: chunked"])
    }

    private func start(_ transfer: SSETransfer, body: SSETransfer.StreamedBody?, headers: [String]) {
        let curl = transfer.curl
        let context = Unmanaged.passUnretained(transfer).toOpaque()
        curl.setFreshConnection(configuration.freshConnectionPerRequest)
        // An empty Expect: stops libcurl from waiting up to 1 s for "100 Continue" on bodies over 1 MiB.
        curl.setHeaders(
            headers + ["Accept: text/event-stream", "Expect:"] + configuration.headers.map { "\($0.name): \($0.value)" }
        )
        curl.setReadCallback(sseReadCallback, context: context)
        curl.setWriteCallback(sseWriteCallback, context: context)
        curl.setHeaderCallback(sseHeaderCallback, context: context)
        curl.setProgressCallback(sseProgressCallback, context: context)
        transfer.performStart = MonotonicClock.now()
        active = .post(transfer, body)
        loop.add(curl, for: self)
    }

    /// `.streamed`: a chunk joins its turn's body (a request of an older turn still running is
    /// over: its body ended with its end of speech).
    private func append(_ pcm: [UInt8], index: Int, turn: Int, due: Int64, now: Int64) {
        if case .post(let transfer, _) = active, transfer.turn != turn {
            finish(transfer, result: nil)
        }
        if active == nil { begin(turn: turn) }
        guard case .post(let transfer, let body?) = active else { return }
        body.bytes.append(contentsOf: pcm)
        emit(TimedEvent(t: now, .chunkSent(index: index, scheduled: due, lagNs: now - due, blockedNs: 0), turn: turn))
        resume(body, transfer.curl)
    }

    /// `.streamed`: no client work is left at the end of speech (the body is already
    /// uploaded); the body ends.
    private func endBody(turn: Int, now: Int64) {
        emit(TimedEvent(t: MonotonicClock.now(), .encoded(ns: 0), turn: turn))
        if case .post(let transfer, let body?) = active, transfer.turn == turn {
            body.ended = true
            resume(body, transfer.curl)
        } else {
            emit(
                TimedEvent(
                    t: now,
                    .transferEnd(
                        .zero, TransportError(.internal, "the end of speech came without a request (no audio was sent)")
                    ), turn: turn))
        }
    }

    private func resume(_ body: SSETransfer.StreamedBody, _ curl: CurlEasy) {
        guard body.paused else { return }
        body.paused = false
        curl.resume()
    }

    private func finish(_ transfer: SSETransfer, result: CurlEasy.CurlError?) {
        loop.remove(transfer.curl)
        active = nil
        if result != nil { control.withLock { $0.connectionLost = true } }
        let failure = transfer.outcome(result, abort: abortError(for: transfer.turn))
        forgetAbort(of: transfer.turn)
        emit(TimedEvent(t: MonotonicClock.now(), .transferEnd(transfer.curl.times, failure), turn: transfer.turn))
    }
}
