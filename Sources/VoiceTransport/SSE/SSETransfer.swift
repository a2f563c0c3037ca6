import Foundation

/// State of one POST with a streamed `text/event-stream` answer, touched only by the I/O thread
/// that drives it (inside libcurl's callbacks): the body it sends, and the answer it stamps and
/// parses as bytes arrive. Driven by `SSERequestClient`, for a whole body or a streamed one.
final class SSETransfer {
    let curl: CurlEasy
    let body: Body
    let turn: Int
    let configuration: SSEClientConfiguration
    private let emitter: @Sendable (TimedEvent) -> Void
    private let isAborted: () -> Bool
    var readOffset = 0
    var performStart: Int64 = 0
    var connected = false
    var sawFirstByte = false
    var status = 0
    var isEventStream = false
    var errorBody: [UInt8] = []
    var parser = SSEParser()
    var failure: TransportError?

    /// What the request sends.
    enum Body {
        /// The whole body, known before the request starts.
        case fixed([UInt8])
        /// A body that grows while the request runs (the streaming upload); the upload pauses
        /// when it has sent everything so far and resumes when more arrives.
        case streamed(StreamedBody)
    }

    /// The growing body of a streamed upload, fed by the I/O thread.
    final class StreamedBody {
        var bytes: [UInt8] = []
        var ended = false
        /// The upload paused waiting for bytes (resume the transfer when some arrive).
        var paused = false
    }

    init(
        curl: CurlEasy, body: Body, turn: Int, configuration: SSEClientConfiguration,
        emit: @escaping @Sendable (TimedEvent) -> Void, isAborted: @escaping () -> Bool
    ) {
        self.curl = curl
        self.body = body
        self.turn = turn
        self.configuration = configuration
        self.emitter = emit
        self.isAborted = isAborted
    }

    func emit(_ event: TransportEvent, at t: Int64) {
        emitter(TimedEvent(t: t, event, turn: turn))
    }

    var aborted: Bool { isAborted() }

    /// Bytes of the body so far.
    var bodyCount: Int {
        switch body {
        case .fixed(let bytes): bytes.count
        case .streamed(let streamed): streamed.bytes.count
        }
    }

    /// libcurl asks for body bytes: the connection is up (first call), then the upload runs.
    func read(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        if !connected {
            connected = true
            let timings = curl.connectTimings
            let connectedAt =
                timings.reused
                ? MonotonicClock.now()
                : performStart + timings.dnsNs + timings.connectNs + (timings.tlsNs ?? 0)
            emit(.connected(timings), at: connectedAt)
        }
        let bytes: [UInt8]
        switch body {
        case .fixed(let fixed):
            bytes = fixed
        case .streamed(let streamed):
            bytes = streamed.bytes
            if readOffset == bytes.count {
                if streamed.ended {
                    emit(.uploadDone(bytes: bytes.count), at: MonotonicClock.now())
                    return 0  // the end of the chunked body
                }
                streamed.paused = true
                return CurlEasy.readPause
            }
        }
        let n = min(buffer.count, bytes.count - readOffset)
        if n > 0 {
            bytes.withUnsafeBytes { source in
                buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[readOffset..<readOffset + n]))
            }
            readOffset += n
            if case .fixed = body, readOffset == bytes.count {
                // The last bytes are now in libcurl's hands; it writes them to the socket next.
                emit(.uploadDone(bytes: bytes.count), at: MonotonicClock.now())
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
                failure = TransportError(
                    .protocol, "the event stream has a line longer than \(parser.maxLineBytes) bytes")
                return false
            }
            return true
        }
        // Not an event stream: keep the start of the body for the error message.
        if errorBody.count < 4096 { errorBody.append(contentsOf: bytes.prefix(4096 - errorBody.count)) }
        return true
    }

    /// The transfer's failure, if it failed: libcurl's `error` classified (`abort` when this
    /// turn was aborted), or an answer that is not a 200 event stream.
    func outcome(_ error: CurlEasy.CurlError?, abort: TransportError?) -> TransportError? {
        let redact = configuration.redactor.redact
        let url = configuration.endpoint.redacted
        guard let error else {
            checkAnswer()
            _ = parser.finish()
            return failure
        }
        if let abort, error.code == CurlEasy.abortedByCallback || error.code == CurlEasy.writeError {
            return abort
        }
        if let failure { return failure }
        var kind = error.kind
        if kind == .timeout && !connected { kind = .connect }
        let what: String
        switch kind {
        case .timeout: what = "no complete answer from \(url) before the timeout (\(error.message))"
        case .closed: what = "the connection to \(url) closed before the response was complete (\(error.message))"
        default: what = error.explained("request to \(url) failed")
        }
        return TransportError(kind, redact(what))
    }

    /// Called by libcurl when the transfer completed; turns a non-stream answer into a failure.
    func checkAnswer() {
        guard failure == nil else { return }
        let url = configuration.endpoint.redacted
        let redact = configuration.redactor.redact
        if status == 413 {
            let detail = Self.describe(body: errorBody)
            failure = TransportError(
                .httpStatus,
                redact(
                    "\(url) answered HTTP 413: the request body (\(Self.size(bodyCount))) is too large\(detail.isEmpty ? "" : " (\(detail))"). Proxies and platforms limit request bodies — nginx's client_max_body_size is 1 MB by default, about 16 s of audio as base64 WAV; raise the limit or use shorter recordings"
                ))
        } else if status != 200 {
            let detail = Self.describe(body: errorBody)
            failure = TransportError(
                .httpStatus, redact("\(url) answered HTTP \(status)\(detail.isEmpty ? "" : ": \(detail)")"))
        } else if !isEventStream {
            let type = curl.contentType ?? "no content type"
            let detail = Self.describe(body: errorBody)
            failure = TransportError(
                .protocol,
                redact(
                    "\(url) answered \(type), not text/event-stream — is this a Chat Completions streaming endpoint?\(detail.isEmpty ? "" : " Body: \(detail)")"
                ))
        }
    }

    static func size(_ bytes: Int) -> String {
        bytes >= 1_000_000 ? String(format: "%.1f MB", Double(bytes) / 1e6) : "\(bytes / 1000) kB"
    }

    /// The API's `{"error": {"message": …}}` text when present, else the start of the body.
    static func describe(body: [UInt8]) -> String {
        let text = String(decoding: body, as: UTF8.self)
        if let object = jsonObject(text), let error = object["error"] as? [String: Any],
            let message = error["message"] as? String
        {
            return message
        }
        return bodyExcerpt(text)
    }
}

// libcurl callbacks: plain C function pointers, so no captures; the transfer arrives as userdata.

let sseReadCallback: CurlEasy.DataCallback = { pointer, size, count, userdata in
    let transfer = Unmanaged<SSETransfer>.fromOpaque(userdata!).takeUnretainedValue()
    if transfer.aborted { return CurlEasy.readAbort }
    return transfer.read(into: UnsafeMutableRawBufferPointer(start: pointer, count: size * count))
}

let sseWriteCallback: CurlEasy.DataCallback = { pointer, size, count, userdata in
    let transfer = Unmanaged<SSETransfer>.fromOpaque(userdata!).takeUnretainedValue()
    let n = size * count
    return transfer.bodyBytes(UnsafeRawBufferPointer(start: pointer, count: n)) ? n : CurlEasy.writeAbort
}

let sseHeaderCallback: CurlEasy.DataCallback = { pointer, size, count, userdata in
    let transfer = Unmanaged<SSETransfer>.fromOpaque(userdata!).takeUnretainedValue()
    let n = size * count
    transfer.header(UnsafeRawBufferPointer(start: pointer, count: n))
    return n
}

let sseProgressCallback: CurlEasy.ProgressCallback = { userdata, _, _, _, _ in
    let transfer = Unmanaged<SSETransfer>.fromOpaque(userdata!).takeUnretainedValue()
    return transfer.aborted ? 1 : 0
}

extension SSEClientConfiguration {
    /// Options every SSE request shares; `timeout` nil leaves the transfer
    /// without one (the turn's deadline aborts it).
    func prepare(_ curl: CurlEasy, timeout: Int64?) {
        curl.setURL(endpoint.curlURL)
        curl.setConnectTimeout(milliseconds: connectTimeout / 1_000_000)
        if let timeout { curl.setTimeout(milliseconds: timeout / 1_000_000) } else { curl.setNoTimeout() }
        curl.setTCPNoDelay()
        curl.setTLSVerification(verifyTLS)
        curl.setCAFile(caFile)
        curl.setConnectTo(endpoint.connectTo(connectVia))
    }

    /// A warm session's prime: an `OPTIONS` request on a connection of its own, kept alive in
    /// the loop's connection cache for the session's requests; its answer is read and dropped.
    func preparePrime(_ curl: CurlEasy) {
        prepare(curl, timeout: connectTimeout)
        curl.setOptionsRequest()
        curl.setNewKeptConnection()
        curl.setHeaders(headers.map { "\($0.name): \($0.value)" })
        curl.setDiscardingCallbacks()
    }
}
