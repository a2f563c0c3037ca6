import Foundation

/// The `endpoint` label of a transport's series: the host (with a port other than the scheme's
/// default) and the path — never the scheme, credentials, query string or fragment, where keys
/// and per-session parameters live, and where a label value would multiply the series.
package enum EndpointLabel {
    /// `wss://user:key@api.example.com/v1/realtime?model=x` → `api.example.com/v1/realtime`.
    package static func of(_ url: String) -> String {
        guard let components = URLComponents(string: url), let host = components.host, !host.isEmpty else {
            // Not a URL: its text up to a query or fragment, without anything like credentials.
            let bare = url.split(whereSeparator: { $0 == "?" || $0 == "#" }).first.map(String.init) ?? ""
            return bare.split(separator: "@").last.map(String.init) ?? ""
        }
        let defaults = ["http": 80, "ws": 80, "https": 443, "wss": 443]
        var label = host
        if let port = components.port, port != defaults[components.scheme?.lowercased() ?? ""] {
            label += ":\(port)"
        }
        return label + (components.path.isEmpty ? "/" : components.path)
    }

    /// The embedded reference server's endpoint: `embedded` and the path, the same every round
    /// although the server listens on a new port each time.
    package static func embedded(_ url: String) -> String {
        "embedded" + (URLComponents(string: url).map { $0.path.isEmpty ? "/" : $0.path } ?? "/")
    }
}
