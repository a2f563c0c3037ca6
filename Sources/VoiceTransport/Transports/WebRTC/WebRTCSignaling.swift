import Foundation

/// The two HTTP requests that set up a WebRTC call, on libcurl like every other request ttfa
/// makes: the client secret from the edge (`POST …/client_secrets`) and the SDP offer to the
/// calls URL (`POST …/calls`, `Content-Type: application/sdp`, answer `201` with the SDP).
/// Blocking; run on the call's set-up thread.
struct WebRTCSignaling {
    struct Response {
        var status: Int
        var body: String
        var contentType: String?
    }

    var headers: [(name: String, value: String)]
    var connectTimeout: Int64
    var verifyTLS: Bool
    var caFile: String?
    var connectVia: String?

    /// POSTs `body` to `url`; the HTTP answer, whatever its status.
    func post(
        _ url: String, body: String, contentType: String, headers extra: [(name: String, value: String)],
        timeoutNs: Int64
    )
        throws(TransportError) -> Response
    {
        let curl = CurlEasy()
        curl.setURL(url)
        curl.setConnectTimeout(milliseconds: connectTimeout / 1_000_000)
        curl.setTimeout(milliseconds: timeoutNs / 1_000_000)
        curl.setTLSVerification(verifyTLS)
        curl.setCAFile(caFile)
        if let connectVia, let endpoint = URL(string: url), let host = endpoint.host {
            let port = endpoint.port ?? (endpoint.scheme == "https" ? 443 : 80)
            curl.setConnectTo(["\(host):\(port):\(connectVia)"])
        }
        curl.setHeaders(
            (headers + extra).map { "\($0.name): \($0.value)" } + ["Content-Type: \(contentType)", "Expect:"])
        curl.setPostBody(body)
        let sink = Sink()
        let context = Unmanaged.passUnretained(sink).toOpaque()
        curl.setWriteCallback(
            { data, size, count, context in
                guard let data, let context else { return 0 }
                let sink = Unmanaged<Sink>.fromOpaque(context).takeUnretainedValue()
                data.withMemoryRebound(to: UInt8.self, capacity: size * count) {
                    sink.body.append(contentsOf: UnsafeBufferPointer(start: $0, count: size * count))
                }
                return sink.body.count > 1 << 20 ? 0 : size * count
            }, context: context)
        curl.setHeaderCallback(
            { data, size, count, context in
                guard let data, let context else { return 0 }
                let sink = Unmanaged<Sink>.fromOpaque(context).takeUnretainedValue()
                let line = data.withMemoryRebound(to: UInt8.self, capacity: size * count) {
                    String(decoding: UnsafeBufferPointer(start: $0, count: size * count), as: UTF8.self)
                }
                if line.lowercased().hasPrefix("content-type:") {
                    sink.contentType = line.dropFirst("content-type:".count).trimmingCharacters(
                        in: .whitespacesAndNewlines)
                }
                return size * count
            }, context: context)
        do throws(CurlEasy.CurlError) {
            try withExtendedLifetime(sink) { () throws(CurlEasy.CurlError) in try curl.perform() }
        } catch {
            throw TransportError(error.kind, "POST \(SecretRedactor().redactURL(url)): \(error.message)")
        }
        return Response(
            status: curl.responseCode, body: String(decoding: sink.body, as: UTF8.self), contentType: sink.contentType)
    }

    private final class Sink {
        var body: [UInt8] = []
        var contentType: String?
    }

    /// The client secret the edge minted (`{"value": "ek_…"}`, or the beta's
    /// `{"client_secret": {"value": …}}`).
    static func secret(from response: Response, url: String) throws(TransportError) -> String {
        guard (200..<300).contains(response.status) else {
            throw TransportError(
                .httpStatus,
                "the client-secret request to \(SecretRedactor().redactURL(url)) answered HTTP \(response.status): \(response.body.prefix(200))"
            )
        }
        let object = jsonObject(response.body)
        let value =
            object?["value"] as? String ?? (object?["client_secret"] as? [String: Any])?["value"] as? String
        guard let value, !value.isEmpty else {
            throw TransportError(
                .protocol,
                "the client-secret response from \(SecretRedactor().redactURL(url)) has no \"value\" (expected {\"value\": \"ek_…\"})"
            )
        }
        return value
    }

    /// The SDP answer of a calls response.
    static func answer(from response: Response, url: String) throws(TransportError) -> String {
        guard response.status == 201 || response.status == 200 else {
            throw TransportError(
                .httpStatus,
                "the SDP offer to \(SecretRedactor().redactURL(url)) was refused: HTTP \(response.status): \(response.body.prefix(200))"
            )
        }
        guard response.body.hasPrefix("v=0") else {
            throw TransportError(
                .protocol,
                "the calls response from \(SecretRedactor().redactURL(url)) is not an SDP answer (it starts \(response.body.prefix(40).debugDescription))"
            )
        }
        return response.body
    }
}
