import ReferenceServer
import VoiceTransport

extension TransportKind {
    /// This transport's endpoint on a running reference server (what the zero-setup run measures).
    /// - Parameter path: a dialect file's path, served there instead of the built-in dialect's.
    package func referenceURL(on server: RunningReferenceServer, path: String? = nil) -> String {
        referenceURL(host: server.host, port: server.port, tls: server.usesTLS, path: path)
    }
}
