import Foundation

/// A validated endpoint URL for one transport.
package struct Endpoint: Sendable, Equatable, CustomStringConvertible {
    /// The URL as given (may contain secrets; print `redacted` instead).
    package let url: URL
    package let scheme: String
    package let host: String
    package let port: Int

    /// Parses and checks `string` for a transport: its scheme must be one the transport takes
    /// (`TransportKind.schemes`), and is spoken as the transport says (`http://` as `ws://` for
    /// a WebSocket).
    /// - Parameter flag: the option the URL came from, named in error messages.
    package init(_ string: String, for transport: TransportKind, flag: String? = nil) throws(TransportError) {
        let flag = flag ?? "--url \(transport.rawValue)="
        guard let components = URLComponents(string: string), let scheme = components.scheme?.lowercased(),
            let host = components.host, !host.isEmpty, let url = components.url
        else {
            throw TransportError(
                .input,
                "\(flag) \"\(SecretRedactor().redactURL(string))\" is not an absolute URL; expected something like \(transport.exampleURL)"
            )
        }
        guard let spoken = transport.schemes[scheme] else {
            let own = Set(transport.schemes.values).sorted { $0.count < $1.count }.map { $0 + "://" }
            throw TransportError(
                .input, "\(flag) has scheme \"\(scheme)\"; \(transport.rawValue) needs \(own.joined(separator: " or "))"
            )
        }
        self.url = url
        self.scheme = spoken
        self.host = host
        self.port = components.port ?? (Self.tlsSchemes.contains(spoken) ? 443 : 80)
    }

    /// Schemes spoken over TLS.
    static let tlsSchemes: Set = ["https", "wss"]

    /// Whether the connection uses TLS.
    package var usesTLS: Bool { Self.tlsSchemes.contains(scheme) }

    /// The URL libcurl connects to: WebSocket schemes mapped to http(s), since Debian's libcurl
    /// has no `ws://` support and we speak RFC 6455 ourselves.
    var curlURL: String {
        var components = URLComponents(url: url, resolvingAgainstBaseURL: false)!
        components.scheme = usesTLS ? "https" : "http"
        return components.string!
    }

    /// `CURLOPT_CONNECT_TO` entries that send this endpoint's connections to `via`
    /// ("HOST:PORT") instead.
    func connectTo(_ via: String?) -> [String] {
        guard let via else { return [] }
        let name = host.contains(":") ? "[\(host)]" : host
        return ["\(name):\(port):\(via)"]
    }

    /// `Host` header value.
    var hostHeader: String {
        let bracketed = host.contains(":") ? "[\(host)]" : host
        let defaultPort = usesTLS ? 443 : 80
        return port == defaultPort ? bracketed : "\(bracketed):\(port)"
    }

    /// Request target: path and query.
    var requestTarget: String {
        let components = URLComponents(url: url, resolvingAgainstBaseURL: false)!
        let path = components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath
        return components.percentEncodedQuery.map { "\(path)?\($0)" } ?? path
    }

    /// The URL with credentials masked, for printing and storage.
    package var redacted: String { SecretRedactor().redactURL(url.absoluteString) }

    package var description: String { redacted }
}
