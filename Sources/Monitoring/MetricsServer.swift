import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// Serves a `TTFAMetrics` registry over HTTP for Prometheus to scrape: `GET /metrics` in the
/// format the `Accept` header asks for (OpenMetrics when named, else the text format 0.0.4).
package enum MetricsServer {
    /// Where to listen: `HOST:PORT`, `[IPv6]:PORT`, or `:PORT` (all addresses).
    package struct Address: Sendable, Equatable, CustomStringConvertible {
        package var host: String
        package var port: Int

        package init(host: String, port: Int) {
            self.host = host
            self.port = port
        }

        /// - Throws: a message naming the flag and what a valid address looks like.
        package init(parsing text: String, flag: String = "--metrics-listen") throws(MonitorInputError) {
            let usage = "\(flag) \(text): give HOST:PORT, for example 127.0.0.1:9464 (or :9464 for every address)"
            var host: Substring
            var port: Substring
            if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
                host = text[text.index(after: text.startIndex)..<close]
                let rest = text[text.index(after: close)...]
                guard rest.hasPrefix(":") else { throw MonitorInputError(usage) }
                port = rest.dropFirst()
            } else {
                guard let colon = text.lastIndex(of: ":") else { throw MonitorInputError(usage) }
                host = text[..<colon]
                port = text[text.index(after: colon)...]
                if host.contains(":") { throw MonitorInputError(usage + " (an IPv6 address goes in brackets)") }
            }
            guard let number = Int(port), (0...65535).contains(number) else {
                throw MonitorInputError(usage + " (the port must be 0–65535)")
            }
            self.host = host.isEmpty ? "0.0.0.0" : String(host)
            self.port = number
        }

        package var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    }

    /// The application (a service of the monitor's group); `onRunning` gets the port it bound.
    package static func application(
        metrics: TTFAMetrics, address: Address, logger: Logger,
        onRunning: @escaping @Sendable (Int) async -> Void
    ) -> some ApplicationProtocol {
        let router = Router()
        router.get("/metrics") { request, _ in
            let format = ExpositionFormat.negotiated(accept: request.headers[.accept])
            return Response(
                status: .ok, headers: [.contentType: format.contentType],
                body: ResponseBody(byteBuffer: ByteBuffer(string: metrics.exposition(format))))
        }
        router.get("/") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: "ttfa monitor: the metrics are at /metrics\n")))
        }
        return Application(
            router: router,
            configuration: .init(address: .hostname(address.host, port: address.port), serverName: "ttfa-monitor"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) },
            logger: logger)
    }
}

/// Monitoring input that is wrong before anything runs (exit 2).
package struct MonitorInputError: Error, Sendable {
    package var message: String
    package init(_ message: String) { self.message = message }
}
