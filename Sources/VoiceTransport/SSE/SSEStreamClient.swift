import Foundation
import Synchronization

/// HTTP POST whose body streams while the user speaks (chunked transfer encoding), with the
/// answer as Server-Sent Events: the `sse-stream` transport's client, driven by an `IOLoop`.
///
/// Each chunk of speech is appended to the request body when it falls due (the replay clock
/// lives on the loop, as in the other clients), the upload pauses while it has sent everything
/// so far and resumes when the next chunk arrives, and the end of speech ends the chunked body.
/// The answer is stamped and parsed inside the write callback, as `SSEClient` does, and every
/// request ends with one `.transferEnd`.
final class SSEStreamClient: IOLoopClient, @unchecked Sendable {
    private enum Command: Sendable {
        case chunk(pcm: [UInt8], index: Int, turn: Int)
        case end(turn: Int)
        case prime(done: @Sendable () -> Void)
    }

    private struct Control: Sendable {
        var abort: (turn: Int?, error: TransportError)?
        var shutdown = false
        var currentTurn: Int?
        var connectionLost = false
    }

    /// The request on the wire.
    private enum Active {
        case post(SSETransfer, SSETransfer.StreamedBody)
        case prime(done: @Sendable () -> Void)
    }

    let configuration: SSEClientConfiguration
    private let loop: IOLoop
    private let queue = CommandQueue<Command>()
    private let control = Mutex(Control())
    private let emit: @Sendable (TimedEvent) -> Void
    private let onFinish: @Sendable () -> Void
    // Loop-thread state.
    private var curl: CurlEasy?
    private var active: Active?
    private var finished = false

    init(configuration: SSEClientConfiguration, loop: IOLoop = IOLoopGroup.shared.next(),
         emit: @escaping @Sendable (TimedEvent) -> Void, onFinish: @escaping @Sendable () -> Void) {
        self.configuration = configuration
        self.loop = loop
        self.emit = emit
        self.onFinish = onFinish
    }

    func start() {}

    /// Appends a chunk of `turn`'s speech to its request body at `due` (starting the request
    /// with the first chunk).
    func send(pcm: [UInt8], index: Int, turn: Int, due: Int64) {
        control.withLock { c in
            if c.currentTurn != turn, let abort = c.abort, abort.turn != nil { c.abort = nil }  // an old turn's
            c.currentTurn = turn
        }
        queue.enqueue(.chunk(pcm: pcm, index: index, turn: turn), due: due)
        loop.schedule(self, at: due)
    }

    /// Ends `turn`'s request body at `due`.
    func end(turn: Int, due: Int64) {
        queue.enqueue(.end(turn: turn), due: due)
        loop.schedule(self, at: due)
    }

    /// Opens a kept-alive connection now with an `OPTIONS` request (warm).
    func prime(done: @escaping @Sendable () -> Void) {
        let now = MonotonicClock.now()
        queue.enqueue(.prime(done: done), due: now)
        loop.schedule(self, at: now)
    }

    func abort(_ error: TransportError, turn: Int?) {
        control.withLock { c in
            guard turn == nil || turn == c.currentTurn else { return }
            if c.abort == nil || turn == nil { c.abort = (turn, error) }
        }
        loop.schedule(self, at: .min)
    }

    func discard(turn: Int) {
        queue.removeAll { command in
            switch command {
            case .chunk(_, _, let owner), .end(let owner): owner == turn
            case .prime: false
            }
        }
    }

    func shutdown() {
        control.withLock {
            $0.shutdown = true
            if $0.abort == nil { $0.abort = (nil, TransportError(.internal, "the transport was closed")) }
        }
        loop.schedule(self, at: .min)
    }

    var connectionLost: Bool { control.withLock { $0.connectionLost } }

    private func abortError(for turn: Int?) -> TransportError? {
        control.withLock { c in
            guard let abort = c.abort, abort.turn == nil || abort.turn == turn else { return nil }
            return abort.error
        }
    }

    // MARK: - loop thread

    func service(now: Int64) {
        guard !finished else { return }
        // 1. An abort ends the request at once, paused or not.
        switch active {
        case .post(let transfer, _):
            if let error = abortError(for: transfer.turn) {
                loop.remove(transfer.curl)
                control.withLock { c in
                    c.connectionLost = true
                    if c.abort?.turn == transfer.turn { c.abort = nil }
                }
                emit(TimedEvent(t: MonotonicClock.now(), .transferEnd(transfer.curl.times, error), turn: transfer.turn))
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
        // 2. Everything due: chunks go into the body, the end closes it.
        while let (next, _) = queue.first {
            if case .prime = active { break }
            if case .prime = next, active != nil { break }
            guard let (command, due) = queue.popDue(now: MonotonicClock.now()) else { break }
            let now = MonotonicClock.now()
            switch command {
            case .prime(let done):
                startPrime(done: done)
            case .chunk(let pcm, let index, let turn):
                if case .post(let transfer, _) = active, transfer.turn != turn {
                    finish(transfer, result: nil)
                }
                if active == nil { begin(turn: turn) }
                guard case .post(let transfer, let body) = active else { continue }
                body.bytes.append(contentsOf: pcm)
                emit(TimedEvent(t: now, .chunkSent(index: index, scheduled: due, lagNs: now - due, blockedNs: 0), turn: turn))
                resume(body, transfer.curl)
            case .end(let turn):
                // No client work is left at the end of speech: the body is already uploaded.
                emit(TimedEvent(t: now, .speechEnd(scheduled: due, lagNs: now - due, blockedNs: 0), turn: turn))
                emit(TimedEvent(t: MonotonicClock.now(), .encoded(ns: 0), turn: turn))
                if case .post(let transfer, let body) = active, transfer.turn == turn {
                    body.ended = true
                    resume(body, transfer.curl)
                } else {
                    emit(TimedEvent(t: now, .transferEnd(.zero, TransportError(.internal, "the end of speech came without a request (no audio was sent)")), turn: turn))
                }
            }
        }
        // 3. Closed: once nothing is in flight, the handle goes.
        if control.withLock({ $0.shutdown }) {
            if case .post(let transfer, _) = active {
                finish(transfer, result: CurlEasy.CurlError(code: 42, message: "the transport was closed", kind: .internal))
            }
            guard active == nil else { return }
            finished = true
            curl = nil
            queue.removeAll()
            onFinish()
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

    private func handle() -> CurlEasy {
        if let curl { return curl }
        let created = CurlEasy()
        curl = created
        return created
    }

    /// Starts `turn`'s request: a POST with a chunked body that grows as the user speaks.
    private func begin(turn: Int) {
        let curl = handle()
        let body = SSETransfer.StreamedBody()
        let transfer = SSETransfer(curl: curl, body: .streamed(body), turn: turn, configuration: configuration,
                                   emit: emit, isAborted: { [unowned self] in abortError(for: turn) != nil })
        let context = Unmanaged.passUnretained(transfer).toOpaque()
        configuration.prepare(curl, timeout: nil)
        curl.setStreamingPost()
        curl.setFreshConnection(configuration.freshConnectionPerRequest)
        curl.setHeaders(["Content-Type: audio/pcm; rate=24000; channels=1", "Accept: text/event-stream", "Transfer-Encoding: chunked", "Expect:"]
            + configuration.headers.map { "\($0.name): \($0.value)" })
        curl.setReadCallback(sseReadCallback, context: context)
        curl.setWriteCallback(sseWriteCallback, context: context)
        curl.setHeaderCallback(sseHeaderCallback, context: context)
        curl.setProgressCallback(sseProgressCallback, context: context)
        transfer.performStart = MonotonicClock.now()
        active = .post(transfer, body)
        loop.add(curl, for: self)
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
        let turn = transfer.turn
        let failure = transfer.outcome(result, abort: abortError(for: turn))
        control.withLock { c in if c.abort?.turn == turn { c.abort = nil } }
        emit(TimedEvent(t: MonotonicClock.now(), .transferEnd(transfer.curl.times, failure), turn: turn))
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
}
