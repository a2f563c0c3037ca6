import DialectSpec
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import HummingbirdWebSocket
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
import UnixSignals

/// A local server that speaks both dialects ttfa measures, built on Hummingbird 2 and
/// HummingbirdWebSocket — an implementation of HTTP, SSE and RFC 6455 independent of ttfa's
/// client, so the client is always tested against someone else's protocol stack.
///
/// - `GET /v1/realtime` (WebSocket upgrade): OpenAI Realtime GA, any number of turns per
///   connection.
/// - `POST /v1/chat/completions`: Chat Completions with audio, streamed as SSE.
/// - `GET /health`: "ok".
/// - `/v1/echo` (WebSocket and `POST`): echoes what it receives — an endpoint that speaks
///   neither dialect, for checking how ttfa reports the wrong dialect.
///
/// Per request, query parameters `first_audio_ms=N` (fixed delay before the first audio) and
/// `fault=NAME` (see `Fault`) shape the answer.
///
/// ```swift
/// let server = try await ReferenceServer.start(.init(port: 0))
/// print(server.realtimeURL)   // ws://127.0.0.1:PORT/v1/realtime
/// await server.stop()
/// ```
package struct ReferenceServer: Sendable {
    package struct Configuration: Sendable {
        package var host: String
        /// 0 picks a free port.
        package var port: Int
        /// The deployment each endpoint plays.
        package var profiles: EndpointProfiles
        /// Serve `https://` and `wss://` with this identity (nil: plain TCP).
        package var tls: ServerTLS?
        /// Dialect files spoken at their paths besides the built-in endpoints (SSE ones with
        /// the SSE profile, WebSocket ones with the realtime profile). A file whose path is a
        /// built-in endpoint's is left to the built-in code there.
        package var dialects: [DialectFile]
        package var logger: Logger

        package init(
            host: String = "127.0.0.1", port: Int = 0, profiles: EndpointProfiles = EndpointProfiles(),
            tls: ServerTLS? = nil,
            dialects: [DialectFile] = [], logger: Logger? = nil
        ) {
            self.tls = tls
            self.dialects = dialects
            self.host = host
            self.port = port
            self.profiles = profiles
            // Faults end connections abruptly on purpose, which Hummingbird reports as errors;
            // by default only critical problems are worth a line on the terminal.
            var defaultLogger = Logger(label: "ttfa.reference-server")
            defaultLogger.logLevel = .critical
            self.logger = logger ?? defaultLogger
        }
    }

    package let configuration: Configuration
    /// What the server did for each answer (see `ServerLog`; also `GET /debug/log`).
    package let log = ServerLog()
    let shutdown = ShutdownFlag()
    /// The WebRTC calls in progress, hung up when the server stops.
    let calls: WebRTCCalls

    package init(_ configuration: Configuration) {
        self.configuration = configuration
        calls = WebRTCCalls(
            profile: configuration.profiles.realtime, edge: configuration.profiles.chatCompletions, log: log)
    }

    /// Runs until SIGINT or SIGTERM (graceful shutdown) or until the task is cancelled.
    /// - Parameter onRunning: called once with the bound port (the real one when `port` is 0).
    package func run(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let group = serviceGroup(try makeApplication(onRunning: onRunning), signals: [.sigterm, .sigint])
        try await group.run()
    }

    /// Starts the server in this process (for tests and the zero-setup default run) and
    /// returns once it is listening.
    package static func start(_ configuration: Configuration = Configuration()) async throws -> RunningReferenceServer {
        let server = ReferenceServer(configuration)
        let (portStream, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let group = server.serviceGroup(
            try server.makeApplication { port in portContinuation.yield(port) }, signals: [])
        let task = Task {
            do {
                try await group.run()
            } catch {
                configuration.logger.error("reference server stopped: \(error)")
            }
            portContinuation.finish()
        }
        var iterator = portStream.makeAsyncIterator()
        guard let port = await iterator.next() else {
            throw ReferenceServerError(
                message:
                    "the reference server could not listen on \(configuration.host):\(configuration.port) (is the port in use?)"
            )
        }
        return RunningReferenceServer(
            host: configuration.host, port: port, usesTLS: configuration.tls != nil, log: server.log, group: group,
            task: task)
    }

    /// The application plus a watcher that raises `shutdown` as soon as graceful shutdown
    /// begins (services stop in reverse order, so the watcher goes first): long responses such
    /// as `stall` end, and the application's wait for in-flight requests can finish.
    func serviceGroup(_ app: some ApplicationProtocol, signals: [UnixSignal]) -> ServiceGroup {
        ServiceGroup(
            configuration: .init(
                services: [
                    .init(service: app),
                    .init(
                        service: ShutdownWatcher(flag: shutdown) { [calls] in await calls.closeAll() },
                        successTerminationBehavior: .ignore),
                ],
                gracefulShutdownSignals: signals,
                logger: configuration.logger
            ))
    }

    // MARK: application

    func makeApplication(onRunning: @escaping @Sendable (Int) async -> Void) throws -> some ApplicationProtocol {
        let profiles = configuration.profiles
        let realtimeAnswer = SyntheticAnswer(pacing: profiles.realtime.answer)
        let logger = configuration.logger
        let log = self.log
        let chat = ChatCompletionsResponder(
            profile: profiles.chatCompletions, answer: SyntheticAnswer(pacing: profiles.chatCompletions.answer),
            shutdown: shutdown, log: log, logger: logger)

        let router = Router(context: ReferenceRequestContext.self)
        router.get("/health") { _, _ in "ok\n" }
        router.get("/v1/realtime") { _, _ in
            ChatCompletionsResponder.error(
                .upgradeRequired, message: "/v1/realtime is a WebSocket endpoint: connect with Upgrade: websocket.",
                type: "invalid_request_error", code: "websocket_required")
        }
        let calls = self.calls
        router.post("/v1/realtime/client_secrets") { request, _ in try await calls.mintSecret(request) }
        router.post("/v1/realtime/calls") { request, _ in try await calls.call(request) }
        router.post("/v1/chat/completions") { request, context in
            try await chat.respond(to: request, context: context)
        }
        router.on("/v1/chat/completions", method: .options) { request, context in
            chat.options(for: request, context: context)
        }
        router.post("/v1/chat/completions/stream") { request, context in
            try await chat.respondToStreamedUpload(to: request, context: context)
        }
        router.on("/v1/chat/completions/stream", method: .options) { request, context in
            chat.options(for: request, context: context)
        }
        // Dialect files, each at its path (the built-in endpoints keep theirs).
        var wsDialects: [String: DialectSpeaker] = [:]
        for dialect in configuration.dialects where !Self.builtInPaths.contains(dialect.path) {
            switch dialect.transport {
            case .sse:
                let responder = DialectSSEResponder(
                    speaker: DialectSpeaker(dialect: dialect, pacing: profiles.chatCompletions.answer),
                    profile: profiles.chatCompletions, log: log)
                router.on(
                    RouterPath(dialect.path), method: HTTPRequest.Method(dialect.request?.method ?? "POST") ?? .post
                ) { request, context in
                    try await responder.respond(to: request, context: context)
                }
                router.on(RouterPath(dialect.path), method: .options) { request, context in
                    chat.options(for: request, context: context)
                }
            case .websocket:
                wsDialects[dialect.path] = DialectSpeaker(dialect: dialect, pacing: profiles.realtime.answer)
            }
        }
        let dialectSessions = wsDialects
        router.get("/debug/log") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: log.json())))
        }
        router.post("/v1/echo") { request, _ in
            var request = request
            let body = try await request.collectBody(upTo: ChatCompletionsResponder.maxBodyBytes)
            return Response(
                status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: body))
        }

        let webSocket = WebSocketServerConfiguration(
            maxFrameSize: 32 << 20,
            autoPing: .enabled(timePeriod: .seconds(20)),  // the Realtime API pings about every 20 s
            validateUTF8: true
        )
        let tls = try configuration.tls?.configuration()
        let server = HTTPServerBuilder { responder in
            let channel = EdgeChannel(
                base: HTTP1WebSocketUpgradeChannel(
                    responder: responder,
                    configuration: .init(ws: webSocket),
                    shouldUpgrade: { request, channel, logger in
                        let target = request.path ?? "/"
                        let path = target.split(separator: "?").first.map(String.init) ?? "/"
                        if path == "/v1/echo" {
                            return .upgrade([:]) { inbound, outbound, _ in
                                for try await message in inbound.messages(maxSize: 32 << 20) {
                                    switch message {
                                    case .text(let text): try await outbound.write(.text(text))
                                    case .binary(let bytes): try await outbound.write(.binary(bytes))
                                    }
                                }
                            }
                        }
                        let options = (try? RequestOptions(target: target)) ?? RequestOptions()
                        if let speaker = dialectSessions[path] {
                            return .upgrade([:]) { inbound, outbound, _ in
                                let session = DialectWebSocketSession(
                                    speaker: speaker, profile: profiles.realtime, options: options, target: target,
                                    channel: channel, log: log)
                                try await session.run(inbound: inbound, outbound: outbound)
                            }
                        }
                        guard path == "/v1/realtime" else { return .dontUpgrade }
                        let beta =
                            request.headerFields[HTTPField.Name("OpenAI-Beta")!]?.contains("realtime=v1") ?? false
                        return .upgrade([:]) { inbound, outbound, _ in
                            if beta {
                                // The beta interface was switched off: error event, then close 4000.
                                try await outbound.write(
                                    .text(
                                        Wire.json([
                                            "type": "error", "event_id": Wire.id("event_"),
                                            "error": Wire.errorObject(
                                                message:
                                                    "The Realtime beta interface (OpenAI-Beta: realtime=v1) is no longer supported; use the GA interface.",
                                                type: "invalid_request_error", code: "beta_api_shape_disabled"),
                                        ])))
                                try await outbound.close(.unknown(4000), reason: "beta_api_shape_disabled")
                                return
                            }
                            let session = RealtimeSession(
                                profile: profiles.realtime, answer: realtimeAnswer, options: options, target: target,
                                channel: channel, log: log, logger: logger)
                            try await session.run(inbound: inbound, outbound: outbound)
                        }
                    }
                ), log: log)
            guard let tls else { return channel }
            return try TLSChannel(channel, tlsConfiguration: tls)
        }
        return Application(
            router: router,
            server: server,
            configuration: .init(
                address: .hostname(configuration.host, port: configuration.port), serverName: "ttfa-reference"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) },
            logger: logger
        )
    }
}

extension ReferenceServer {
    /// Where the built-in dialects answer.
    package static let builtInPaths: Set<String> = [
        "/v1/realtime", "/v1/chat/completions", "/v1/chat/completions/stream", "/v1/echo", "/health", "/debug/log",
    ]
}

/// The deployment profile each endpoint plays.
package struct EndpointProfiles: Sendable, Equatable {
    /// `/v1/realtime` (WebSocket).
    package var realtime: DeploymentProfile
    /// `/v1/chat/completions` (SSE).
    package var chatCompletions: DeploymentProfile

    /// The seed scenario: a realtime model behind the WebSocket, an edge function in front of
    /// the Chat Completions endpoint.
    package init(realtime: DeploymentProfile = .realtime, chatCompletions: DeploymentProfile = .edgeSSE) {
        self.realtime = realtime
        self.chatCompletions = chatCompletions
    }

    /// One profile for every endpoint.
    package init(all profile: DeploymentProfile) {
        self.init(realtime: profile, chatCompletions: profile)
    }

    /// The slots by name, as transports name theirs (`TransportKind.profileSlot`): `realtime`
    /// plays `/v1/realtime`, `chat-completions` the Chat Completions endpoints.
    package static let slots = ["realtime", "chat-completions"]

    /// The profile of a slot (`slots`); nil for a name that is none.
    package subscript(slot slot: String) -> DeploymentProfile? {
        get {
            switch slot {
            case "realtime": realtime
            case "chat-completions": chatCompletions
            default: nil
            }
        }
        set {
            guard let newValue else { return }
            switch slot {
            case "realtime": realtime = newValue
            case "chat-completions": chatCompletions = newValue
            default: break
            }
        }
    }
}

/// A reference server running in this process.
package final class RunningReferenceServer: Sendable {
    package let host: String
    package let port: Int
    /// Serving `https://` and `wss://`.
    package let usesTLS: Bool
    /// What the server did for each answer.
    package let log: ServerLog
    private let group: ServiceGroup
    private let task: Task<Void, Never>

    init(host: String, port: Int, usesTLS: Bool, log: ServerLog, group: ServiceGroup, task: Task<Void, Never>) {
        self.host = host
        self.port = port
        self.usesTLS = usesTLS
        self.log = log
        self.group = group
        self.task = task
    }

    package var baseURL: String { "\(usesTLS ? "https" : "http")://\(host):\(port)" }
    /// `ws://HOST:PORT/v1/realtime` (`wss://` with TLS)
    package var realtimeURL: String { "\(usesTLS ? "wss" : "ws")://\(host):\(port)/v1/realtime" }
    /// `http://HOST:PORT/v1/chat/completions` (`https://` with TLS)
    package var chatCompletionsURL: String { baseURL + "/v1/chat/completions" }

    /// Stops accepting connections, ends stalled responses and waits for the server to finish.
    package func stop() async {
        await group.triggerGracefulShutdown()
        await task.value
    }
}

package struct ReferenceServerError: Error, CustomStringConvertible {
    package var message: String
    package var description: String { message }
}

/// Request context that keeps the connection's channel (faults close it on purpose).
struct ReferenceRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}

/// Waits for graceful shutdown, then raises the flag and ends what outlives requests (the
/// WebRTC calls).
struct ShutdownWatcher: Service {
    let flag: ShutdownFlag
    var then: @Sendable () async -> Void = {}

    func run() async throws {
        try? await gracefulShutdown()
        flag.set()
        await then()
    }
}

/// Set when the server is stopping; long faults (`stall`) watch it.
final class ShutdownFlag: Sendable {
    private let value = Atomic(false)
    var isSet: Bool { value.load(ordering: .relaxed) }
    func set() { value.store(true, ordering: .relaxed) }
}
