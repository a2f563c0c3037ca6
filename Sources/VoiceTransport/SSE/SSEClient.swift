import Foundation
import Synchronization

/// Options for the SSE client.
public struct SSEClientConfiguration: Sendable {
    public var endpoint: Endpoint
    /// Extra request headers (authorization …).
    public var headers: [(name: String, value: String)]
    /// Limit for DNS + TCP + TLS, nanoseconds.
    public var connectTimeout: Int64
    /// Verify the server's TLS certificate.
    public var verifyTLS: Bool
    /// CA certificates (PEM file) to trust instead of the system's.
    public var caFile: String?
    /// Where to connect instead of the URL's host and port (a link emulator), as "HOST:PORT".
    public var connectVia: String?
    /// A new connection per request (cold) instead of keep-alive reuse (warm).
    public var freshConnectionPerRequest: Bool
    public var redactor: SecretRedactor

    public init(
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

/// HTTP POST with a streamed `text/event-stream` response, on libcurl, driven by an `IOLoop`.
///
/// The loop's thread owns the curl handle (so a kept-alive connection is reused across
/// requests, from the loop's connection cache). It runs a time-ordered queue: simulated
/// microphone captures (stamped to measure the replay clock's lag, as the WebSocket side is)
/// and POSTs that start when due — the request body is built then, as a client can only build
/// it once the user has stopped. Response bytes are stamped and parsed inside libcurl's write
/// callback, before any hop.
///
/// Every event of a POST carries its turn, and a POST always ends with one `.transferEnd`.
final class SSEClient: IOLoopClient, @unchecked Sendable {
    private enum Command: Sendable {
        case capture(index: Int, turn: Int)
        case post(pcm: [UInt8], turn: Int, deadline: Int64)
        case prime(done: @Sendable () -> Void)
    }

    private struct Control: Sendable {
        /// A pending abort: of one turn, or (nil) of whatever is in flight.
        var abort: (turn: Int?, error: TransportError)?
        var shutdown = false
        /// The turn whose POST is queued or in flight.
        var currentTurn: Int?
        /// A transfer failed: libcurl closed the kept-alive connection.
        var connectionLost = false
    }

    /// The request on the wire.
    private enum Active {
        case post(SSETransfer)
        case prime(done: @Sendable () -> Void)
    }

    let configuration: SSEClientConfiguration
    private let makeRequest: @Sendable ([UInt8], Int) -> DialectRequest
    private let loop: IOLoop
    private let queue = CommandQueue<Command>()
    private let control = Mutex(Control())
    private let emit: @Sendable (TimedEvent) -> Void
    private let onFinish: @Sendable () -> Void
    // Loop-thread state.
    private var curl: CurlEasy?
    private var active: Active?
    private var finished = false

    /// - Parameter makeRequest: builds the request from the captured audio and the turn
    ///   (runs on the loop's thread at the end of speech).
    init(
        configuration: SSEClientConfiguration,
        loop: IOLoop = IOLoopGroup.shared.next(),
        makeRequest: @escaping @Sendable ([UInt8], Int) -> DialectRequest,
        emit: @escaping @Sendable (TimedEvent) -> Void,
        onFinish: @escaping @Sendable () -> Void
    ) {
        self.configuration = configuration
        self.loop = loop
        self.makeRequest = makeRequest
        self.emit = emit
        self.onFinish = onFinish
    }

    func start() {}

    /// Records that audio chunk `index` of `turn` was captured at `due` (SSE uploads later).
    func capture(index: Int, turn: Int, due: Int64) {
        control.withLock { $0.currentTurn = turn }
        queue.enqueue(.capture(index: index, turn: turn), due: due)
        loop.schedule(self, at: due)
    }

    /// POSTs the captured `pcm` at `due`; the transfer fails with `timeout` at `deadline`.
    func post(pcm: [UInt8], turn: Int, due: Int64, deadline: Int64) {
        control.withLock { c in
            c.currentTurn = turn
            if let abort = c.abort, let owner = abort.turn, owner != turn { c.abort = nil }  // an old turn's
        }
        queue.enqueue(.post(pcm: pcm, turn: turn, deadline: deadline), due: due)
        loop.schedule(self, at: due)
    }

    /// Opens a kept-alive connection now with an `OPTIONS` request, so the first warm POST
    /// does not pay for connection setup. Whatever the endpoint answers is read and dropped:
    /// if it closes the connection, the next POST simply connects (and records that it did).
    func prime(done: @escaping @Sendable () -> Void) {
        let now = MonotonicClock.now()
        queue.enqueue(.prime(done: done), due: now)
        loop.schedule(self, at: now)
    }

    /// Drops what `turn` still has queued (captures after its upload).
    func discard(turn: Int) {
        queue.removeAll { command in
            if case .capture(_, let owner) = command { return owner == turn }
            return false
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

    /// Stops the client after aborting what is in flight.
    func shutdown() {
        control.withLock {
            $0.shutdown = true
            if $0.abort == nil { $0.abort = (nil, TransportError(.internal, "the transport was closed")) }
        }
        loop.schedule(self, at: .min)
    }

    /// Whether a failed transfer took the kept-alive connection with it.
    var connectionLost: Bool { control.withLock { $0.connectionLost } }

    /// The abort that applies to `turn` (nil: connection-level work such as the prime).
    fileprivate func abortError(for turn: Int?) -> TransportError? {
        control.withLock { c in
            guard let abort = c.abort, abort.turn == nil || abort.turn == turn else { return nil }
            return abort.error
        }
    }

    // MARK: - loop thread

    func service(now: Int64) {
        guard !finished else { return }
        // 1. An abort ends the request in flight at once.
        switch active {
        case .post(let transfer):
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
        // 2. What is due: captures at once, requests one at a time.
        while let (next, _) = queue.first {
            if active != nil, case .capture = next {} else if active != nil { break }
            guard let (command, due) = queue.popDue(now: MonotonicClock.now()) else { break }
            let now = MonotonicClock.now()
            switch command {
            case .capture(let index, let turn):
                emit(TimedEvent(t: now, .chunkCaptured(index: index, scheduled: due, lagNs: now - due), turn: turn))
            case .post(let pcm, let turn, let deadline):
                // The client's work after the end of speech starts now: build the body.
                emit(TimedEvent(t: now, .speechEnd(scheduled: due, lagNs: now - due, blockedNs: 0), turn: turn))
                let request = makeRequest(pcm, turn)
                let encoded = MonotonicClock.now()
                emit(TimedEvent(t: encoded, .encoded(ns: encoded - now), turn: turn))
                startPost(request: request, turn: turn, deadline: deadline)
            case .prime(let done):
                startPrime(done: done)
            }
        }
        // 3. Closed: once nothing is in flight, the handle goes.
        if active == nil, control.withLock({ $0.shutdown }) {
            finished = true
            curl = nil
            queue.removeAll()
            onFinish()
        }
    }

    func transferDone(_ result: CurlEasy.CurlError?) {
        guard let curl else { return }
        loop.remove(curl)
        switch active {
        case .post(let transfer):
            active = nil
            withExtendedLifetime(transfer) { finish(transfer, error: result) }
            forgetAbort(of: transfer.turn)
        case .prime(let done):
            active = nil
            if result == nil { emit(TimedEvent(t: MonotonicClock.now(), .connected(curl.connectTimings))) }
            done()
        case nil:
            break
        }
        service(now: MonotonicClock.now())
    }

    private func handle() -> CurlEasy {
        if let curl { return curl }
        let created = CurlEasy()
        curl = created
        return created
    }

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

    private func startPost(request: DialectRequest, turn: Int, deadline: Int64) {
        let body = request.body
        if let error = abortError(for: turn) {
            emit(TimedEvent(t: MonotonicClock.now(), .transferEnd(.zero, error), turn: turn))
            forgetAbort(of: turn)
            return
        }
        let curl = handle()
        let transfer = SSETransfer(curl: curl, body: .fixed(body), turn: turn, configuration: configuration,
                                   emit: emit, isAborted: { [unowned self] in abortError(for: turn) != nil })
        let context = Unmanaged.passUnretained(transfer).toOpaque()
        configuration.prepare(curl, timeout: deadline - MonotonicClock.now())
        curl.setPost(bodySize: body.count, method: request.method)
        curl.setFreshConnection(configuration.freshConnectionPerRequest)
        // An empty Expect: stops libcurl from waiting up to 1 s for "100 Continue" on bodies over 1 MiB.
        curl.setHeaders(request.headers + ["Accept: text/event-stream", "Expect:"]
            + configuration.headers.map { "\($0.name): \($0.value)" })
        curl.setReadCallback(sseReadCallback, context: context)
        curl.setWriteCallback(sseWriteCallback, context: context)
        curl.setHeaderCallback(sseHeaderCallback, context: context)
        curl.setProgressCallback(sseProgressCallback, context: context)
        transfer.performStart = MonotonicClock.now()
        active = .post(transfer)
        loop.add(curl, for: self)
    }

    /// A turn's abort is spent once its transfer is over.
    private func forgetAbort(of turn: Int) {
        control.withLock { c in
            if c.abort?.turn == turn { c.abort = nil }
        }
    }

    private func finish(_ transfer: SSETransfer, error: CurlEasy.CurlError?) {
        let now = MonotonicClock.now()
        if error != nil { control.withLock { $0.connectionLost = true } }
        let failure = transfer.outcome(error, abort: abortError(for: transfer.turn))
        emit(TimedEvent(t: now, .transferEnd(transfer.curl.times, failure), turn: transfer.turn))
    }
}
