import Foundation
import Synchronization

/// HTTP POST whose body streams while the user speaks (chunked transfer encoding), with the
/// answer as Server-Sent Events: the `sse-stream` transport's client.
///
/// One I/O thread drives one libcurl multi handle: each chunk of speech is appended to the
/// request body when it falls due (the replay clock lives here, as in the other clients), the
/// upload pauses while it has sent everything so far and resumes when the next chunk arrives,
/// and the end of speech ends the chunked body. The answer is stamped and parsed inside the
/// write callback, as `SSEClient` does, and every request ends with one `.transferEnd`.
final class SSEStreamClient: Sendable {
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

    let configuration: SSEClientConfiguration
    private let queue = CommandQueue<Command>()
    private let thread = IOThread(name: "ttfa.sse-stream")
    private let control = Mutex(Control())
    private let emit: @Sendable (TimedEvent) -> Void
    private let onFinish: @Sendable () -> Void

    init(configuration: SSEClientConfiguration, emit: @escaping @Sendable (TimedEvent) -> Void, onFinish: @escaping @Sendable () -> Void) {
        self.configuration = configuration
        self.emit = emit
        self.onFinish = onFinish
    }

    func start() {
        thread.startOnce { [self] in run() }
    }

    /// Appends a chunk of `turn`'s speech to its request body at `due` (starting the request
    /// with the first chunk).
    func send(pcm: [UInt8], index: Int, turn: Int, due: Int64) {
        control.withLock { c in
            if c.currentTurn != turn, let abort = c.abort, abort.turn != nil { c.abort = nil }  // an old turn's
            c.currentTurn = turn
        }
        queue.enqueue(.chunk(pcm: pcm, index: index, turn: turn), due: due)
    }

    /// Ends `turn`'s request body at `due`.
    func end(turn: Int, due: Int64) {
        queue.enqueue(.end(turn: turn), due: due)
    }

    /// Opens a kept-alive connection now with an `OPTIONS` request (warm).
    func prime(done: @escaping @Sendable () -> Void) {
        queue.enqueue(.prime(done: done), due: MonotonicClock.now())
    }

    func abort(_ error: TransportError, turn: Int?) {
        control.withLock { c in
            guard turn == nil || turn == c.currentTurn else { return }
            if c.abort == nil || turn == nil { c.abort = (turn, error) }
        }
        queue.wake()
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
        queue.wake()
    }

    var connectionLost: Bool { control.withLock { $0.connectionLost } }

    private func abortError(for turn: Int?) -> TransportError? {
        control.withLock { c in
            guard let abort = c.abort, abort.turn == nil || abort.turn == turn else { return nil }
            return abort.error
        }
    }

    // MARK: - I/O thread

    /// The request in flight.
    private struct Active {
        var transfer: SSETransfer
        var body: SSETransfer.StreamedBody
    }

    /// The I/O thread's body. The handles live in `serve()` and are cleaned up when it returns,
    /// before `onFinish` tells the owner the connection is gone: a process that exits right after
    /// must not find this thread still inside libcurl or OpenSSL.
    private func run() {
        serve()
        queue.removeAll()
        onFinish()
    }

    private func serve() {
        let multi = CurlMulti()
        let curl = CurlEasy()
        var active: Active?
        defer {
            if let active { finish(active, result: CurlEasy.CurlError(code: 42, message: "the transport was closed", kind: .internal), multi: multi) }
        }
        while !control.withLock({ $0.shutdown }) {
            // 1. Everything due: chunks go into the body, the end closes it.
            while let (command, due) = queue.popDue(now: MonotonicClock.now()) {
                let now = MonotonicClock.now()
                switch command {
                case .prime(let done):
                    prime(curl: curl, multi: multi)
                    done()
                case .chunk(let pcm, let index, let turn):
                    if active == nil || active!.transfer.turn != turn {
                        if let stale = active { finish(stale, result: nil, multi: multi) }
                        active = begin(turn: turn, curl: curl, multi: multi)
                    }
                    active!.body.bytes.append(contentsOf: pcm)
                    emit(TimedEvent(t: now, .chunkSent(index: index, scheduled: due, lagNs: now - due, blockedNs: 0), turn: turn))
                    resume(active!, curl: curl)
                case .end(let turn):
                    // No client work is left at the end of speech: the body is already uploaded.
                    emit(TimedEvent(t: now, .speechEnd(scheduled: due, lagNs: now - due, blockedNs: 0), turn: turn))
                    emit(TimedEvent(t: MonotonicClock.now(), .encoded(ns: 0), turn: turn))
                    if let current = active, current.transfer.turn == turn {
                        current.body.ended = true
                        resume(current, curl: curl)
                    } else {
                        emit(TimedEvent(t: now, .transferEnd(.zero, TransportError(.internal, "the end of speech came without a request (no audio was sent)")), turn: turn))
                    }
                }
            }
            // 2. An abort ends the request at once, paused or not.
            if let current = active, let error = abortError(for: current.transfer.turn) {
                multi.remove(curl)
                control.withLock { c in
                    c.connectionLost = true
                    if c.abort?.turn == current.transfer.turn { c.abort = nil }
                }
                emit(TimedEvent(t: MonotonicClock.now(), .transferEnd(curl.times, error), turn: current.transfer.turn))
                active = nil
                continue
            }
            // 3. Let libcurl work; a finished request reports its end.
            if let current = active {
                withExtendedLifetime(current.transfer) { _ = multi.perform() }
                for done in multi.finished() where done.easy == curl.handle {
                    finish(current, result: curl.result(done.code), multi: multi)
                    active = nil
                }
            }
            // 4. Wait for the sockets, a wake-up or the next due command (to the nanosecond:
            // libcurl's poll counts milliseconds, ppoll finishes the rest).
            let next = queue.nextDue
            if active != nil {
                let remaining = next.map { $0 - MonotonicClock.now() } ?? 50_000_000
                if remaining >= 1_000_000 {
                    multi.poll(extraDescriptor: queue.wakeDescriptor, timeoutMs: Int32(min(remaining, 50_000_000) / 1_000_000))
                    queue.drainWakeups()
                } else if remaining > 0 {
                    _ = pollDescriptors([(queue.wakeDescriptor, Int16(POLLIN))], until: next)
                }
            } else {
                let revents = pollDescriptors([(queue.wakeDescriptor, Int16(POLLIN))], until: next)
                if revents[0] != 0 { queue.drainWakeups() }
            }
        }
    }

    /// Starts `turn`'s request: a POST with a chunked body that grows as the user speaks.
    private func begin(turn: Int, curl: CurlEasy, multi: CurlMulti) -> Active {
        let body = SSETransfer.StreamedBody()
        let transfer = SSETransfer(curl: curl, body: .streamed(body), turn: turn, configuration: configuration,
                                   emit: emit, isAborted: { [unowned self] in abortError(for: turn) != nil })
        let context = Unmanaged.passUnretained(transfer).toOpaque()
        prepare(curl)
        curl.setStreamingPost()
        curl.setFreshConnection(configuration.freshConnectionPerRequest)
        curl.setHeaders(["Content-Type: audio/pcm; rate=24000; channels=1", "Accept: text/event-stream", "Transfer-Encoding: chunked", "Expect:"]
            + configuration.headers.map { "\($0.name): \($0.value)" })
        curl.setReadCallback(sseReadCallback, context: context)
        curl.setWriteCallback(sseWriteCallback, context: context)
        curl.setHeaderCallback(sseHeaderCallback, context: context)
        curl.setProgressCallback(sseProgressCallback, context: context)
        transfer.performStart = MonotonicClock.now()
        multi.add(curl)
        return Active(transfer: transfer, body: body)
    }

    private func resume(_ active: Active, curl: CurlEasy) {
        guard active.body.paused else { return }
        active.body.paused = false
        curl.resume()
    }

    private func finish(_ active: Active, result: CurlEasy.CurlError?, multi: CurlMulti) {
        multi.remove(active.transfer.curl)
        if result != nil { control.withLock { $0.connectionLost = true } }
        let turn = active.transfer.turn
        let failure = active.transfer.outcome(result, abort: abortError(for: turn))
        control.withLock { c in if c.abort?.turn == turn { c.abort = nil } }
        emit(TimedEvent(t: MonotonicClock.now(), .transferEnd(active.transfer.curl.times, failure), turn: turn))
    }

    private func prepare(_ curl: CurlEasy) {
        curl.setURL(configuration.endpoint.curlURL)
        curl.setConnectTimeout(milliseconds: configuration.connectTimeout / 1_000_000)
        curl.setNoTimeout()  // the turn's deadline aborts it
        curl.setTCPNoDelay()
        curl.setTLSVerification(configuration.verifyTLS)
        curl.setCAFile(configuration.caFile)
        curl.setConnectTo(configuration.endpoint.connectTo(configuration.connectVia))
    }

    /// The warm prime, through the multi handle: its connection cache is the one later
    /// requests reuse.
    private func prime(curl: CurlEasy, multi: CurlMulti) {
        prepare(curl)
        curl.setTimeout(milliseconds: configuration.connectTimeout / 1_000_000)
        curl.setOptionsRequest()
        curl.setFreshConnection(false)
        curl.setHeaders(configuration.headers.map { "\($0.name): \($0.value)" })
        curl.setDiscardingCallbacks()
        multi.add(curl)
        defer { multi.remove(curl) }
        while abortError(for: nil) == nil {
            multi.perform()
            if multi.finished().contains(where: { $0.easy == curl.handle }) {
                emit(TimedEvent(t: MonotonicClock.now(), .connected(curl.connectTimings)))
                return
            }
            multi.poll(extraDescriptor: queue.wakeDescriptor, timeoutMs: 20)
            queue.drainWakeups()
        }
    }
}
