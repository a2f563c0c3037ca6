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
    /// A new connection per request (cold) instead of keep-alive reuse (warm).
    public var freshConnectionPerRequest: Bool
    public var redactor: SecretRedactor

    public init(
        endpoint: Endpoint,
        headers: [(name: String, value: String)] = [],
        connectTimeout: Int64 = .seconds(10),
        verifyTLS: Bool = true,
        freshConnectionPerRequest: Bool = false,
        redactor: SecretRedactor = SecretRedactor()
    ) {
        self.endpoint = endpoint
        self.headers = headers
        self.connectTimeout = connectTimeout
        self.verifyTLS = verifyTLS
        self.freshConnectionPerRequest = freshConnectionPerRequest
        self.redactor = redactor
    }
}

/// HTTP POST with a streamed `text/event-stream` response, on libcurl.
///
/// One dedicated worker thread owns the curl handle (so a kept-alive connection is reused
/// across requests). It runs a time-ordered queue: simulated microphone captures (stamped to
/// measure the replay clock's lag, as the WebSocket side is) and POSTs that start when due.
/// Response bytes are stamped and parsed inside libcurl's write callback, before any hop.
final class SSEClient: Sendable {
    private enum Command: Sendable {
        case capture(index: Int)
        case post(body: [UInt8], deadline: Int64)
        case prime(done: @Sendable () -> Void)
    }

    private struct Control: Sendable {
        var abortError: TransportError?
        var shutdown = false
    }

    let configuration: SSEClientConfiguration
    private let queue = CommandQueue<Command>()
    private let thread = IOThread(name: "ttfa.sse")
    private let control = Mutex(Control())
    private let emit: @Sendable (TimedEvent) -> Void
    private let onFinish: @Sendable () -> Void

    init(
        configuration: SSEClientConfiguration,
        emit: @escaping @Sendable (TimedEvent) -> Void,
        onFinish: @escaping @Sendable () -> Void
    ) {
        self.configuration = configuration
        self.emit = emit
        self.onFinish = onFinish
    }

    func start() {
        thread.startOnce { [self] in run() }
    }

    /// Records that audio chunk `index` was captured at `due` (the SSE design uploads later).
    func capture(index: Int, due: Int64) {
        queue.enqueue(.capture(index: index), due: due)
    }

    /// POSTs `body` at `due`; the transfer fails with `timeout` at `deadline`.
    func post(body: [UInt8], due: Int64, deadline: Int64) {
        control.withLock { $0.abortError = nil }
        queue.enqueue(.post(body: body, deadline: deadline), due: due)
    }

    /// Opens a kept-alive connection now with a body-less `OPTIONS` request, so the first
    /// warm POST does not pay for connection setup. Whatever the endpoint answers is ignored:
    /// if it closes the connection, the next POST simply connects (and records that it did).
    func prime(done: @escaping @Sendable () -> Void) {
        queue.enqueue(.prime(done: done), due: MonotonicClock.now())
    }

    /// Aborts the request in flight (if any) with `error`.
    func abort(_ error: TransportError) {
        control.withLock { if $0.abortError == nil { $0.abortError = error } }
        queue.wake()
    }

    /// Stops the worker after aborting what is in flight.
    func shutdown() {
        control.withLock {
            $0.shutdown = true
            if $0.abortError == nil { $0.abortError = TransportError(.internal, "the transport was closed") }
        }
        queue.wake()
    }

    fileprivate var abortError: TransportError? { control.withLock { $0.abortError } }

    // MARK: - worker thread

    private func run() {
        let curl = CurlEasy()
        defer {
            queue.removeAll()
            onFinish()
        }
        while !control.withLock({ $0.shutdown }) {
            if let (command, due) = queue.popDue(now: MonotonicClock.now()) {
                let now = MonotonicClock.now()
                switch command {
                case .capture(let index):
                    emit(TimedEvent(t: now, .chunkSent(index: index, scheduled: due, lagNs: now - due)))
                case .post(let body, let deadline):
                    emit(TimedEvent(t: now, .speechEnd(scheduled: due, lagNs: now - due)))
                    perform(curl: curl, body: body, deadline: deadline)
                case .prime(let done):
                    primeConnection(curl: curl)
                    done()
                }
                continue
            }
            let revents = pollDescriptors([(queue.wakeDescriptor, Int16(POLLIN))], until: queue.nextDue)
            if revents[0] != 0 { queue.drainWakeups() }
        }
    }

    private func primeConnection(curl: CurlEasy) {
        curl.setURL(configuration.endpoint.curlURL)
        curl.setOptionsRequest()
        curl.setFreshConnection(false)
        curl.setConnectTimeout(milliseconds: configuration.connectTimeout / 1_000_000)
        curl.setTimeout(milliseconds: configuration.connectTimeout / 1_000_000)
        curl.setTCPNoDelay()
        curl.setTLSVerification(configuration.verifyTLS)
        curl.setHeaders(configuration.headers.map { "\($0.name): \($0.value)" })
        curl.setDiscardingCallbacks()
        do {
            try curl.perform()
            emit(TimedEvent(t: MonotonicClock.now(), .connected(curl.connectTimings)))
        } catch {
            // Not a trial: the first POST will connect and say so.
        }
    }

    private func perform(curl: CurlEasy, body: [UInt8], deadline: Int64) {
        if let error = abortError {
            emit(TimedEvent(t: MonotonicClock.now(), .failure(error)))
            return
        }
        let endpoint = configuration.endpoint
        let transfer = SSETransfer(client: self, curl: curl, body: body)
        let context = Unmanaged.passUnretained(transfer).toOpaque()
        curl.setURL(endpoint.curlURL)
        curl.setPost(bodySize: body.count)
        curl.setFreshConnection(configuration.freshConnectionPerRequest)
        curl.setConnectTimeout(milliseconds: configuration.connectTimeout / 1_000_000)
        curl.setTimeout(milliseconds: (deadline - MonotonicClock.now()) / 1_000_000)
        curl.setTCPNoDelay()
        curl.setTLSVerification(configuration.verifyTLS)
        // An empty Expect: stops libcurl from waiting up to 1 s for "100 Continue" on bodies over 1 MiB.
        curl.setHeaders(["Content-Type: application/json", "Accept: text/event-stream", "Expect:"]
            + configuration.headers.map { "\($0.name): \($0.value)" })
        curl.setReadCallback(sseReadCallback, context: context)
        curl.setWriteCallback(sseWriteCallback, context: context)
        curl.setHeaderCallback(sseHeaderCallback, context: context)
        curl.setProgressCallback(sseProgressCallback, context: context)
        transfer.performStart = MonotonicClock.now()
        let result: CurlEasy.CurlError?
        do {
            try curl.perform()
            result = nil
        } catch {
            result = error
        }
        withExtendedLifetime(transfer) {
            finish(transfer, error: result)
        }
    }

    private func finish(_ transfer: SSETransfer, error: CurlEasy.CurlError?) {
        let now = MonotonicClock.now()
        let curl = transfer.curl
        emit(TimedEvent(t: now, .curlTimes(curl.times)))
        let redact = configuration.redactor.redact
        let url = configuration.endpoint.redacted
        if let error {
            if let abort = abortError, error.code == CurlEasy.abortedByCallback || error.code == CurlEasy.writeError {
                emit(TimedEvent(t: now, .failure(abort)))
                return
            }
            if let failure = transfer.failure {
                emit(TimedEvent(t: now, .failure(failure)))
                return
            }
            var kind = error.kind
            if kind == .timeout && !transfer.connected { kind = .connect }
            let what: String
            switch kind {
            case .timeout: what = "no complete answer from \(url) before the timeout (\(error.message))"
            case .closed: what = "the connection to \(url) closed before the response was complete (\(error.message))"
            default: what = "request to \(url) failed: \(error.message)"
            }
            emit(TimedEvent(t: now, .failure(TransportError(kind, redact(what)))))
            return
        }
        transfer.checkAnswer()
        if let failure = transfer.failure {
            emit(TimedEvent(t: now, .failure(failure)))
            return
        }
        _ = transfer.parser.finish()
        emit(TimedEvent(t: now, .streamEnd))
    }

    /// State of one POST, touched only by the worker thread (inside libcurl's callbacks).
    fileprivate final class SSETransfer {
        let client: SSEClient
        let curl: CurlEasy
        let body: [UInt8]
        var readOffset = 0
        var performStart: Int64 = 0
        var connected = false
        var sawFirstByte = false
        var status = 0
        var isEventStream = false
        var errorBody: [UInt8] = []
        var parser = SSEParser()
        var failure: TransportError?

        init(client: SSEClient, curl: CurlEasy, body: [UInt8]) {
            self.client = client
            self.curl = curl
            self.body = body
        }

        func emit(_ event: TransportEvent, at t: Int64) {
            client.emit(TimedEvent(t: t, event))
        }

        /// libcurl asks for body bytes: the connection is up (first call), then the upload runs.
        func read(into buffer: UnsafeMutableRawBufferPointer) -> Int {
            if !connected {
                connected = true
                let timings = curl.connectTimings
                let connectedAt = timings.reused
                    ? MonotonicClock.now()
                    : performStart + timings.dnsNs + timings.connectNs + (timings.tlsNs ?? 0)
                emit(.connected(timings), at: connectedAt)
            }
            let n = min(buffer.count, body.count - readOffset)
            if n > 0 {
                body.withUnsafeBytes { source in
                    buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[readOffset..<readOffset + n]))
                }
                readOffset += n
                if readOffset == body.count {
                    // The last bytes are now in libcurl's hands; it writes them to the socket next.
                    emit(.uploadDone(bytes: body.count), at: MonotonicClock.now())
                }
            }
            return n
        }

        /// A header line arrived.
        func header(_ line: UnsafeRawBufferPointer) {
            let t = MonotonicClock.now()
            if !sawFirstByte {
                sawFirstByte = true
                emit(.firstByte, at: t)
            }
            // The empty line ends a header block; 1xx blocks are followed by the real one.
            guard line.count <= 2, line.allSatisfy({ $0 == 0x0D || $0 == 0x0A }) else { return }
            let code = curl.responseCode
            guard code >= 200 else { return }
            status = code
            let contentType = curl.contentType
            isEventStream = contentType?.lowercased().hasPrefix("text/event-stream") ?? false
            emit(.httpResponse(status: code, contentType: contentType), at: t)
        }

        /// Response body bytes arrived. Returns false to abort the transfer.
        func bodyBytes(_ bytes: UnsafeRawBufferPointer) -> Bool {
            let t = MonotonicClock.now()
            if status == 200 && isEventStream {
                do {
                    for event in try parser.feed(bytes) {
                        emit(.sse(event), at: t)
                    }
                } catch {
                    failure = TransportError(.protocol, "the event stream has a line longer than \(parser.maxLineBytes) bytes")
                    return false
                }
                return true
            }
            // Not an event stream: keep the start of the body for the error message.
            if errorBody.count < 4096 { errorBody.append(contentsOf: bytes.prefix(4096 - errorBody.count)) }
            return true
        }

        /// Called by libcurl when the transfer completed; turns a non-stream answer into a failure.
        func checkAnswer() {
            guard failure == nil else { return }
            let url = client.configuration.endpoint.redacted
            let redact = client.configuration.redactor.redact
            if status != 200 {
                let detail = Self.describe(body: errorBody)
                failure = TransportError(.httpStatus, redact("\(url) answered HTTP \(status)\(detail.isEmpty ? "" : ": \(detail)")"))
            } else if !isEventStream {
                let type = curl.contentType ?? "no content type"
                let detail = Self.describe(body: errorBody)
                failure = TransportError(.protocol, redact("\(url) answered \(type), not text/event-stream — is this a Chat Completions streaming endpoint?\(detail.isEmpty ? "" : " Body: \(detail)")"))
            }
        }

        /// The API's `{"error": {"message": …}}` text when present, else the start of the body.
        static func describe(body: [UInt8]) -> String {
            let text = String(decoding: body, as: UTF8.self)
            if let object = jsonObject(text), let error = object["error"] as? [String: Any], let message = error["message"] as? String {
                return message
            }
            return excerpt(text.trimmingCharacters(in: .whitespacesAndNewlines), limit: 300)
        }
    }
}

// libcurl callbacks: plain C function pointers, so no captures; the transfer arrives as userdata.

private let sseReadCallback: CurlEasy.DataCallback = { pointer, size, count, userdata in
    let transfer = Unmanaged<SSEClient.SSETransfer>.fromOpaque(userdata!).takeUnretainedValue()
    if transfer.client.abortError != nil { return CurlEasy.readAbort }
    return transfer.read(into: UnsafeMutableRawBufferPointer(start: pointer, count: size * count))
}

private let sseWriteCallback: CurlEasy.DataCallback = { pointer, size, count, userdata in
    let transfer = Unmanaged<SSEClient.SSETransfer>.fromOpaque(userdata!).takeUnretainedValue()
    let n = size * count
    return transfer.bodyBytes(UnsafeRawBufferPointer(start: pointer, count: n)) ? n : CurlEasy.writeAbort
}

private let sseHeaderCallback: CurlEasy.DataCallback = { pointer, size, count, userdata in
    let transfer = Unmanaged<SSEClient.SSETransfer>.fromOpaque(userdata!).takeUnretainedValue()
    let n = size * count
    transfer.header(UnsafeRawBufferPointer(start: pointer, count: n))
    return n
}

private let sseProgressCallback: CurlEasy.ProgressCallback = { userdata, _, _, _, _ in
    let transfer = Unmanaged<SSEClient.SSETransfer>.fromOpaque(userdata!).takeUnretainedValue()
    return transfer.client.abortError != nil ? 1 : 0
}
