import CCurl
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// One libcurl easy handle: with `CurlMulti`, the only Swift types that touch libcurl (and the
/// only files that import `CCurl`). Not thread-safe — one owner thread creates, uses and
/// destroys it.
///
/// CURLcode failures become `CurlError` here, once, with libcurl's error-buffer text and a
/// stable `ErrorKind`.
final class CurlEasy {
    let handle: UnsafeMutableRawPointer
    private var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private var connectToList: UnsafeMutablePointer<curl_slist>?

    /// libcurl's return code and message, classified.
    struct CurlError: Error {
        var code: Int
        var message: String
        var kind: ErrorKind
    }

    /// `curl_global_init`, exactly once per process, before the first handle.
    static let globalInit: Void = {
        _ = ttfa_curl_global_init()
    }()

    init() {
        _ = Self.globalInit
        guard let h = curl_easy_init() else { fatalError("curl_easy_init returned NULL (out of memory)") }
        handle = h
        errorBuffer.withUnsafeMutableBufferPointer { buf in
            _ = ttfa_curl_setopt_pointer(h, CURLOPT_ERRORBUFFER, buf.baseAddress)
        }
        set(CURLOPT_NOSIGNAL, 1)
    }

    deinit {
        curl_easy_cleanup(handle)
        if let headerList { curl_slist_free_all(headerList) }
        if let connectToList { curl_slist_free_all(connectToList) }
    }

    // MARK: options

    func set(_ option: CURLoption, _ value: Int) {
        _ = ttfa_curl_setopt_long(handle, option, value)
    }

    func set(_ option: CURLoption, _ value: String) {
        _ = value.withCString { ttfa_curl_setopt_string(handle, option, $0) }  // libcurl copies strings
    }

    func set(_ option: CURLoption, largeValue value: Int64) {
        _ = ttfa_curl_setopt_off(handle, option, curl_off_t(value))
    }

    func set(_ option: CURLoption, pointer: UnsafeMutableRawPointer?) {
        _ = ttfa_curl_setopt_pointer(handle, option, pointer)
    }

    /// Sets the request headers (`CURLOPT_HTTPHEADER`); the list lives until replaced or deinit.
    func setHeaders(_ headers: [String]) {
        if let headerList { curl_slist_free_all(headerList) }
        var list: UnsafeMutablePointer<curl_slist>?
        for header in headers {
            list = header.withCString { curl_slist_append(list, $0) }
        }
        headerList = list
        _ = ttfa_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, list)
    }

    typealias DataCallback = @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int
    typealias ProgressCallback =
        @convention(c) (UnsafeMutableRawPointer?, curl_off_t, curl_off_t, curl_off_t, curl_off_t) -> Int32

    func setWriteCallback(_ callback: DataCallback, context: UnsafeMutableRawPointer) {
        _ = ttfa_curl_setopt_data_callback(handle, CURLOPT_WRITEFUNCTION, callback)
        set(CURLOPT_WRITEDATA, pointer: context)
    }

    func setHeaderCallback(_ callback: DataCallback, context: UnsafeMutableRawPointer) {
        _ = ttfa_curl_setopt_data_callback(handle, CURLOPT_HEADERFUNCTION, callback)
        set(CURLOPT_HEADERDATA, pointer: context)
    }

    func setReadCallback(_ callback: DataCallback, context: UnsafeMutableRawPointer) {
        _ = ttfa_curl_setopt_data_callback(handle, CURLOPT_READFUNCTION, callback)
        set(CURLOPT_READDATA, pointer: context)
    }

    /// Callbacks that accept and drop everything (for requests whose answer does not matter).
    func setDiscardingCallbacks() {
        let discard: DataCallback = { _, size, count, _ in size * count }
        _ = ttfa_curl_setopt_data_callback(handle, CURLOPT_WRITEFUNCTION, discard)
        _ = ttfa_curl_setopt_data_callback(handle, CURLOPT_HEADERFUNCTION, discard)
        set(CURLOPT_WRITEDATA, pointer: nil)
        set(CURLOPT_HEADERDATA, pointer: nil)
        set(CURLOPT_NOPROGRESS, 1)
    }

    func setProgressCallback(_ callback: ProgressCallback, context: UnsafeMutableRawPointer) {
        _ = ttfa_curl_setopt_xferinfo(handle, callback)
        set(CURLOPT_XFERINFODATA, pointer: context)
        set(CURLOPT_NOPROGRESS, 0)
    }

    /// Forces HTTP/1.1 (needed for the WebSocket upgrade: with ALPN h2 libcurl would wrap our raw
    /// upgrade request in HTTP/2 frames).
    func forceHTTP11() {
        set(CURLOPT_HTTP_VERSION, Int(TTFA_CURL_HTTP_VERSION_1_1))
    }

    // Semantic setters, so callers never see CURLOPT_* constants.

    func setURL(_ url: String) { set(CURLOPT_URL, url) }

    /// `CURLOPT_CONNECT_ONLY = 1`: `perform()` stops after DNS/TCP/TLS; then `send`/`receive`.
    /// (Value 2 would perform a GET instead — never use it.)
    func setConnectOnly() { set(CURLOPT_CONNECT_ONLY, 1) }

    func setConnectTimeout(milliseconds: Int64) { set(CURLOPT_CONNECTTIMEOUT_MS, Int(max(1, milliseconds))) }

    /// Whole-transfer limit; libcurl fails with `CURLE_OPERATION_TIMEDOUT` after it.
    func setTimeout(milliseconds: Int64) { set(CURLOPT_TIMEOUT_MS, Int(max(1, milliseconds))) }

    /// No whole-transfer limit (the caller aborts the transfer itself).
    func setNoTimeout() { set(CURLOPT_TIMEOUT_MS, 0) }

    func setTCPNoDelay() { set(CURLOPT_TCP_NODELAY, 1) }

    func setTLSVerification(_ verify: Bool) {
        set(CURLOPT_SSL_VERIFYPEER, verify ? 1 : 0)
        set(CURLOPT_SSL_VERIFYHOST, verify ? 2 : 0)
    }

    /// Connects somewhere else than the URL's host and port (`CURLOPT_CONNECT_TO`,
    /// "HOST:PORT:CONNECT-TO-HOST:CONNECT-TO-PORT"), keeping the URL's name for TLS SNI,
    /// certificate checks and the Host header: how a link emulator is put in front of an endpoint.
    func setConnectTo(_ entries: [String]) {
        if let connectToList { curl_slist_free_all(connectToList) }
        var list: UnsafeMutablePointer<curl_slist>?
        for entry in entries { list = entry.withCString { curl_slist_append(list, $0) } }
        connectToList = list
        _ = ttfa_curl_setopt_slist(handle, CURLOPT_CONNECT_TO, list)
    }

    /// Trusts the CA certificates in `path` (PEM) instead of the system's (`CURLOPT_CAINFO`;
    /// libcurl does not read `SSL_CERT_FILE` itself).
    func setCAFile(_ path: String?) {
        if let path { set(CURLOPT_CAINFO, path) }
    }

    /// POST (or `method`, sent the same way: `PUT`, `PATCH`) with a body of `size` bytes
    /// supplied by the read callback.
    func setPost(bodySize: Int, method: String = "POST") {
        if method == "POST" {
            _ = ttfa_curl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, nil)
        } else {
            set(CURLOPT_CUSTOMREQUEST, method)
        }
        set(CURLOPT_NOBODY, 0)
        set(CURLOPT_POST, 1)
        set(CURLOPT_POSTFIELDSIZE_LARGE, largeValue: Int64(bodySize))
    }

    /// POST with `body` copied into the handle (a small request: a client secret, an SDP offer).
    func setPostBody(_ body: String) {
        setPost(bodySize: body.utf8.count)
        set(CURLOPT_COPYPOSTFIELDS, body)
    }

    /// `OPTIONS`, whose answer — any status, with or without a body — is read to its end, so
    /// the kept-alive connection is left clean for the next request. (With `CURLOPT_NOBODY`
    /// libcurl would leave a body that a server sends anyway on the connection, and the next
    /// request would read it as its response: "Received HTTP/0.9 when not allowed".)
    func setOptionsRequest() {
        set(CURLOPT_NOBODY, 0)
        set(CURLOPT_HTTPGET, 1)
        set(CURLOPT_CUSTOMREQUEST, "OPTIONS")
    }

    /// Cold (`true`): a new connection for this transfer, closed afterwards. Warm (`false`):
    /// reuse the handle's kept-alive connection when there is one.
    func setFreshConnection(_ fresh: Bool) {
        set(CURLOPT_FRESH_CONNECT, fresh ? 1 : 0)
        set(CURLOPT_FORBID_REUSE, fresh ? 1 : 0)
    }

    /// A new connection for this transfer, kept alive afterwards for later ones (a warm
    /// session's prime: on a loop's shared connection cache, reusing another session's idle
    /// connection would leave that session without one).
    func setNewKeptConnection() {
        set(CURLOPT_FRESH_CONNECT, 1)
        set(CURLOPT_FORBID_REUSE, 0)
    }

    /// Read-callback return value that aborts the transfer.
    static let readAbort = Int(CURL_READFUNC_ABORT)
    /// Read-callback return value that pauses the upload until `resume()`.
    static let readPause = Int(TTFA_CURL_READFUNC_PAUSE)

    /// Resumes a paused transfer (call from the thread that drives it).
    func resume() {
        _ = curl_easy_pause(handle, TTFA_CURLPAUSE_CONT)
    }

    /// A streamed upload of unknown length: `Transfer-Encoding: chunked`.
    func setStreamingPost(method: String = "POST") {
        if method == "POST" {
            _ = ttfa_curl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, nil)
        } else {
            set(CURLOPT_CUSTOMREQUEST, method)
        }
        set(CURLOPT_NOBODY, 0)
        set(CURLOPT_POST, 1)
        set(CURLOPT_POSTFIELDSIZE_LARGE, largeValue: -1)
    }
    /// Write-callback return value that pauses nothing and signals an error (any short count).
    static let writeAbort = 0

    // MARK: transfer

    /// Runs the transfer (blocking). With `CURLOPT_CONNECT_ONLY` it returns once connected.
    func perform() throws(CurlError) {
        errorBuffer[0] = 0
        let code = curl_easy_perform(handle)
        guard code == CURLE_OK else { throw error(for: code) }
    }

    /// Clears libcurl's error text before a transfer on a multi handle.
    func clearError() {
        errorBuffer[0] = 0
    }

    enum IOResult {
        case done(Int)
        case wouldBlock
    }

    /// A plain-TCP `CONNECT_ONLY` connection's socket, read and written with `send`/`recv`
    /// directly — the calls `curl_easy_send`/`curl_easy_recv` make for it — because Debian 12's
    /// libcurl (7.88) finds a connect-only connection by walking its multi handle's whole
    /// connection cache on every call: at 1,000 WebSockets on one loop that walk was a tenth of
    /// ttfa's time. TLS connections keep going through libcurl (and OpenSSL).
    var directSocket: Int32?

    /// `curl_easy_send` of `bytes[offset...]` on a `CONNECT_ONLY` connection.
    func send(_ bytes: [UInt8], from offset: Int) throws(CurlError) -> IOResult {
        if let fd = directSocket {
            let n = bytes.withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL))
            }
            if n >= 0 { return .done(n) }
            if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { return .wouldBlock }
            throw CurlError(
                code: Int(CURLE_SEND_ERROR.rawValue), message: "Send failure: \(String(cString: strerror(errno)))",
                kind: .closed)
        }
        var sent = 0
        let code = bytes.withUnsafeBytes { buffer in
            curl_easy_send(handle, buffer.baseAddress! + offset, buffer.count - offset, &sent)
        }
        if code == CURLE_AGAIN { return .wouldBlock }
        guard code == CURLE_OK else { throw error(for: code) }
        return .done(sent)
    }

    /// `curl_easy_recv` into `buffer` on a `CONNECT_ONLY` connection; `.done(0)` means the peer
    /// closed.
    func receive(into buffer: inout [UInt8]) throws(CurlError) -> IOResult {
        if let fd = directSocket {
            let n = buffer.withUnsafeMutableBytes { Glibc.recv(fd, $0.baseAddress, $0.count, 0) }
            if n >= 0 { return .done(n) }
            if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { return .wouldBlock }
            throw CurlError(
                code: Int(CURLE_RECV_ERROR.rawValue), message: "Recv failure: \(String(cString: strerror(errno)))",
                kind: .closed)
        }
        var received = 0
        let code = buffer.withUnsafeMutableBytes { curl_easy_recv(handle, $0.baseAddress, $0.count, &received) }
        if code == CURLE_AGAIN { return .wouldBlock }
        guard code == CURLE_OK else { throw error(for: code) }
        return .done(received)
    }

    // MARK: info

    var activeSocket: Int32? {
        var socket: curl_socket_t = -1
        guard ttfa_curl_getinfo_socket(handle, &socket) == CURLE_OK, socket != -1 else { return nil }
        return socket
    }

    var responseCode: Int {
        var code = 0
        _ = ttfa_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &code)
        return code
    }

    var contentType: String? {
        var pointer: UnsafeMutablePointer<CChar>?
        guard ttfa_curl_getinfo_string(handle, CURLINFO_CONTENT_TYPE, &pointer) == CURLE_OK, let pointer else {
            return nil
        }
        return String(cString: pointer)
    }

    /// Number of new connections the last transfer had to make (0: a kept-alive one was reused).
    var newConnections: Int {
        var n = 0
        _ = ttfa_curl_getinfo_long(handle, CURLINFO_NUM_CONNECTS, &n)
        return n
    }

    private func microseconds(_ info: CURLINFO) -> Int64 {
        var value: curl_off_t = 0
        _ = ttfa_curl_getinfo_off(handle, info, &value)
        return Int64(value)
    }

    /// libcurl's cumulative timers, converted to nanoseconds.
    var times: CurlTimes {
        var version = 0
        _ = ttfa_curl_getinfo_long(handle, CURLINFO_HTTP_VERSION, &version)
        let versionName: String
        switch version {
        case Int(CURL_HTTP_VERSION_1_0): versionName = "1.0"
        case Int(CURL_HTTP_VERSION_1_1): versionName = "1.1"
        case Int(CURL_HTTP_VERSION_2_0): versionName = "2"
        case Int(CURL_HTTP_VERSION_3): versionName = "3"
        default: versionName = ""
        }
        return CurlTimes(
            namelookupNs: microseconds(CURLINFO_NAMELOOKUP_TIME_T) * 1000,
            connectNs: microseconds(CURLINFO_CONNECT_TIME_T) * 1000,
            appconnectNs: microseconds(CURLINFO_APPCONNECT_TIME_T) * 1000,
            pretransferNs: microseconds(CURLINFO_PRETRANSFER_TIME_T) * 1000,
            starttransferNs: microseconds(CURLINFO_STARTTRANSFER_TIME_T) * 1000,
            totalNs: microseconds(CURLINFO_TOTAL_TIME_T) * 1000,
            httpVersion: versionName
        )
    }

    /// DNS/TCP/TLS phase durations of the current connection.
    var connectTimings: ConnectTimings {
        let t = times
        let reused = newConnections == 0 && t.connectNs == 0
        return ConnectTimings(
            dnsNs: t.namelookupNs,
            connectNs: max(0, t.connectNs - t.namelookupNs),
            tlsNs: t.appconnectNs > 0 ? max(0, t.appconnectNs - t.connectNs) : nil,
            reused: reused
        )
    }

    // MARK: errors

    /// libcurl's result of a finished transfer as an error (nil for success).
    func result(_ code: CURLcode) -> CurlError? {
        code == CURLE_OK ? nil : error(for: code)
    }

    private func error(for code: CURLcode) -> CurlError {
        let detail = errorBuffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        let message = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
        var kind = Self.kind(of: code)
        // "Received HTTP/0.9 when not allowed": the URL was fine, the bytes that came back
        // were not an HTTP response (often a body left on a kept-alive connection).
        if code == CURLE_UNSUPPORTED_PROTOCOL && message.contains("HTTP/0.9") { kind = .protocol }
        return CurlError(code: Int(code.rawValue), message: message, kind: kind)
    }

    static func kind(of code: CURLcode) -> ErrorKind {
        switch code {
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY: return .dns
        case CURLE_COULDNT_CONNECT: return .connect
        case CURLE_OPERATION_TIMEDOUT: return .timeout
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
            CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH,
            CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_ENGINE_NOTFOUND, CURLE_SSL_ENGINE_SETFAILED,
            CURLE_SSL_SHUTDOWN_FAILED, CURLE_SSL_CRL_BADFILE, CURLE_USE_SSL_FAILED:
            return .tls
        case CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE, CURLE_RECV_ERROR, CURLE_SEND_ERROR: return .closed
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL: return .input
        case CURLE_WEIRD_SERVER_REPLY, CURLE_HTTP2, CURLE_HTTP2_STREAM, CURLE_BAD_CONTENT_ENCODING: return .protocol
        default: return .internal
        }
    }

    static let abortedByCallback = Int(CURLE_ABORTED_BY_CALLBACK.rawValue)
    static let writeError = Int(CURLE_WRITE_ERROR.rawValue)
}

extension LibraryVersions {
    /// libcurl's version ("7.88.1").
    package static var curl: String {
        _ = CurlEasy.globalInit
        return String(cString: ttfa_curl_version_string())
    }

}

extension CurlEasy.CurlError {
    /// A sentence a person can act on: what failed, libcurl's words, and how to fix what we
    /// know how to fix.
    func explained(_ what: String) -> String {
        var text = "\(what): \(message)"
        if kind == .tls {
            text +=
                ". If the server's certificate comes from a private CA, trust that CA with --cacert FILE; for a throwaway test server, --insecure skips verification"
        }
        if kind == .protocol && message.contains("HTTP/0.9") {
            text +=
                " (what came back is not an HTTP response — often the body of an earlier answer left on a kept-alive connection)"
        }
        return text
    }
}
