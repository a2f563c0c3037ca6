import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization
import WebRTCMedia

/// OpenAI Realtime over WebRTC, as the reference server offers it:
/// - `POST /v1/realtime/client_secrets` — the edge's part: after the edge profile's invocation
///   overhead, `{"value": "ek_…", "expires_at": …, "session": …}`;
/// - `POST /v1/realtime/calls` — `Authorization: Bearer ek_…` (a secret minted here), the SDP
///   offer as `application/sdp` or as the `sdp` part of a multipart form; `201` with the SDP
///   answer and `Location: /v1/realtime/calls/rtc_…`. The call itself is a `WebRTCCall`.
/// Faults: `sdp-refused`, `ice-never`, `no-datachannel` here; the rest in the call.
final class WebRTCCalls: Sendable {
    let profile: DeploymentProfile
    let edge: DeploymentProfile
    let log: ServerLog
    private let secrets = Mutex<Set<String>>([])
    private let calls = Mutex<[String: WebRTCCall]>([:])

    init(profile: DeploymentProfile, edge: DeploymentProfile, log: ServerLog) {
        self.profile = profile
        self.edge = edge
        self.log = log
    }

    /// Hangs up every call still open (the server is stopping): their peers' threads, sockets
    /// and pipelines go with them. Closing waits for GStreamer's threads, so it happens on a
    /// thread of its own; this returns once every call is closed.
    func closeAll() async {
        let open = calls.withLock { calls -> [WebRTCCall] in
            defer { calls = [:] }
            return Array(calls.values)
        }
        guard !open.isEmpty else { return }
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            let thread = Thread {
                for call in open { call.close() }
                done.resume()
            }
            thread.name = "ttfa-serve-webrtc-close"
            thread.start()
        }
    }

    func mintSecret(_ request: Request) async throws -> Response {
        _ = try await request.body.collect(upTo: 64 << 10)
        let plan = edge.plan(sequence: log.nextSequence(for: "profile /v1/realtime/client_secrets"), audioSeconds: 0)
        try await Task.sleep(for: .nanoseconds(Int64(plan.edgeMs * 1_000_000)))
        let value = "ek_" + Wire.id("").replacingOccurrences(of: "_", with: "")
        secrets.withLock { _ = $0.insert(value) }
        let body = Wire.json([
            "value": value, "expires_at": Int(Date().timeIntervalSince1970) + 600,
            "session": WebRTCCall.session(id: Wire.id("sess_")),
        ])
        return Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }

    func call(_ request: Request) async throws -> Response {
        let authorization = request.headers[.authorization] ?? ""
        let key = authorization.hasPrefix("Bearer ") ? String(authorization.dropFirst(7)) : ""
        guard key.hasPrefix("ek_"), secrets.withLock({ $0.contains(key) }) else {
            return ChatCompletionsResponder.error(
                .unauthorized,
                message:
                    "A WebRTC call needs a client secret minted by POST /v1/realtime/client_secrets (Authorization: Bearer ek_...).",
                type: "invalid_request_error", code: "invalid_api_key")
        }
        let target = request.uri.description
        let options: RequestOptions
        do throws(RequestOptions.Problem) {
            options = try RequestOptions(target: target)
        } catch {
            return ChatCompletionsResponder.error(
                .badRequest, message: error.message, type: "invalid_request_error", code: "invalid_value")
        }
        let sequence = log.nextSequence(for: "calls " + target)
        let fault = options.fault(forRequest: sequence)
        let body = String(buffer: try await request.body.collect(upTo: 256 << 10))
        if fault == .sdpRefused {
            return ChatCompletionsResponder.error(
                .badRequest, message: "The SDP offer was refused (reference server fault=sdp-refused).",
                type: "invalid_request_error", code: "invalid_offer")
        }
        guard let offer = Self.offer(in: body, contentType: request.headers[.contentType]) else {
            return ChatCompletionsResponder.error(
                .badRequest,
                message: "The body is not an SDP offer: send application/sdp, or multipart/form-data with an sdp part.",
                type: "invalid_request_error", code: "invalid_offer")
        }
        if let reason = WebRTCPeer.unavailableReason {
            return ChatCompletionsResponder.error(
                .notImplemented, message: "This reference server cannot speak WebRTC: \(reason).", type: "server_error",
                code: "webrtc_unavailable")
        }
        let profile = self.profile
        let log = self.log
        let made: Result<WebRTCCall, WebRTCPeerError> = await withCheckedContinuation { done in
            let thread = Thread {
                do throws(WebRTCPeerError) {
                    done.resume(
                        returning: .success(
                            try WebRTCCall(offer: offer, profile: profile, options: options, target: target, log: log)))
                } catch {
                    done.resume(returning: .failure(error))
                }
            }
            thread.start()
        }
        let call: WebRTCCall
        switch made {
        case .success(let value): call = value
        case .failure(let error):
            return ChatCompletionsResponder.error(
                .badRequest, message: "The SDP offer could not be answered: \(error.description)",
                type: "invalid_request_error", code: "invalid_offer")
        }
        let id = call.id
        calls.withLock { $0[id] = call }
        call.onClose.withLock { $0 = { [weak self] in _ = self?.calls.withLock { $0.removeValue(forKey: id) } } }
        var answer = call.answer
        switch fault {
        case .iceNever:
            // An answer without candidates from a peer that is gone: no check is ever answered.
            // (SDP lines end in CRLF, which Swift reads as one Character: split on the string.)
            let end = answer.contains("\r\n") ? "\r\n" : "\n"
            answer = answer.components(separatedBy: end).filter { !$0.hasPrefix("a=candidate") }
                .joined(separator: end)
            call.close()
        case .noDataChannel:
            answer = answer.replacingOccurrences(of: "m=application 9 ", with: "m=application 0 ")
        default:
            break
        }
        var headers: HTTPFields = [.contentType: "application/sdp"]
        headers[.location] = "/v1/realtime/calls/\(id)"
        return Response(status: .created, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: answer)))
    }

    /// The SDP of an `application/sdp` body or of a multipart form's `sdp` part.
    static func offer(in body: String, contentType: String?) -> String? {
        if body.hasPrefix("v=0") { return body }
        guard let contentType, contentType.lowercased().hasPrefix("multipart/"),
            let boundary = contentType.components(separatedBy: "boundary=").last?.trimmingCharacters(
                in: .init(charactersIn: "\""))
        else { return nil }
        for part in body.components(separatedBy: "--" + boundary) {
            guard part.contains("name=\"sdp\""), let start = part.range(of: "\r\n\r\n") ?? part.range(of: "\n\n") else {
                continue
            }
            let sdp = String(part[start.upperBound...]).trimmingCharacters(in: .whitespacesAndNewlines) + "\r\n"
            if sdp.hasPrefix("v=0") { return sdp }
        }
        return nil
    }
}
