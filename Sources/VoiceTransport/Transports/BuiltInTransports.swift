extension TransportKind {
    /// The transports ttfa ships, each described in its own folder: the registration.
    static let builtIn: [TransportKind] = [.websocket, .sse, .sseStream, .webrtc]
}
