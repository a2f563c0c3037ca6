import Foundation

/// The RFC 6455 §4 opening handshake, client side: builds the upgrade request and checks the
/// server's answer. Pure: no I/O.
package struct WebSocketHandshake: Sendable {
    /// The `Sec-WebSocket-Key` sent (base64 of 16 random bytes).
    package let key: String
    /// Subprotocols offered in `Sec-WebSocket-Protocol` (none for OpenAI Realtime).
    package let protocols: [String]

    /// - Parameter key: the key to send; by default 16 fresh random bytes, base64.
    package init(key: String? = nil, protocols: [String] = []) {
        self.key = key ?? Data(Crypto.randomBytes(16)).base64EncodedString()
        self.protocols = protocols
    }

    /// `base64(SHA-1(key + GUID))`, what the server must put in `Sec-WebSocket-Accept`.
    package static func acceptValue(for key: String) -> String {
        Data(Crypto.sha1(Array((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").utf8))).base64EncodedString()
    }

    /// The HTTP/1.1 upgrade request.
    /// - Parameters:
    ///   - host: `Host` header value (host, plus `:port` when not the scheme's default).
    ///   - target: path and query, e.g. `/v1/realtime?model=gpt-realtime`.
    ///   - headers: extra headers (authorization …), sent as given.
    package func request(host: String, target: String, headers: [(name: String, value: String)]) -> [UInt8] {
        var text = "GET \(target) HTTP/1.1\r\n"
        text += "Host: \(host)\r\n"
        text += "Upgrade: websocket\r\n"
        text += "Connection: Upgrade\r\n"
        text += "Sec-WebSocket-Key: \(key)\r\n"
        text += "Sec-WebSocket-Version: 13\r\n"
        if !protocols.isEmpty {
            text += "Sec-WebSocket-Protocol: \(protocols.joined(separator: ", "))\r\n"
        }
        for header in headers {
            text += "\(header.name): \(header.value)\r\n"
        }
        text += "\r\n"
        return Array(text.utf8)
    }

    /// Why the server's answer does not open a WebSocket.
    package enum Rejection: Error, Sendable, Equatable {
        /// The status was not 101: the server (or a proxy in front of it) answered with plain HTTP.
        case status(Int, reasonPhrase: String)
        case missingUpgradeHeader(found: String?)
        case missingConnectionUpgrade(found: String?)
        case badAccept(found: String?, expected: String)
        case unrequestedExtension(String)
        case unrequestedProtocol(String)
        case malformedResponse(String)
    }

    /// Checks a complete response head against RFC 6455 §4.1 (client requirements 1–6).
    /// - Returns: the subprotocol the server selected, if any.
    package func validate(_ head: HTTPResponseHead) throws(Rejection) -> String? {
        guard head.status == 101 else { throw .status(head.status, reasonPhrase: head.reasonPhrase) }
        let upgrade = head.value(of: "upgrade")
        guard let upgrade, upgrade.trimmingASCIIWhitespace.lowercased() == "websocket" else {
            throw .missingUpgradeHeader(found: upgrade)
        }
        let connection = head.value(of: "connection")
        let tokens = (connection ?? "").split(separator: ",").map { $0.trimmingASCIIWhitespace.lowercased() }
        guard tokens.contains("upgrade") else { throw .missingConnectionUpgrade(found: connection) }
        let expected = Self.acceptValue(for: key)
        let accept = head.value(of: "sec-websocket-accept")?.trimmingASCIIWhitespace
        guard accept == expected else { throw .badAccept(found: accept, expected: expected) }
        if let extensions = head.value(of: "sec-websocket-extensions"),
            !extensions.trimmingASCIIWhitespace.isEmpty
        {
            throw .unrequestedExtension(extensions)  // we never offer an extension
        }
        if let selected = head.value(of: "sec-websocket-protocol")?.trimmingASCIIWhitespace,
            !selected.isEmpty
        {
            guard protocols.contains(selected) else { throw .unrequestedProtocol(selected) }
            return selected
        }
        return nil
    }
}

extension WebSocketHandshake.Rejection: CustomStringConvertible {
    package var description: String {
        switch self {
        case .status(let status, let phrase):
            return
                "the server answered HTTP \(status)\(phrase.isEmpty ? "" : " \(phrase)") instead of 101 Switching Protocols"
        case .missingUpgradeHeader(let found):
            return
                "the 101 response has \(found.map { "Upgrade: \($0)" } ?? "no Upgrade header") instead of Upgrade: websocket"
        case .missingConnectionUpgrade(let found):
            return
                "the 101 response has \(found.map { "Connection: \($0)" } ?? "no Connection header") without the Upgrade token"
        case .badAccept(let found, let expected):
            return "Sec-WebSocket-Accept is \(found.map { "\"\($0)\"" } ?? "missing"), expected \"\(expected)\""
        case .unrequestedExtension(let ext):
            return "the server selected extension \"\(ext)\" that the client did not offer"
        case .unrequestedProtocol(let proto):
            return "the server selected subprotocol \"\(proto)\" that the client did not offer"
        case .malformedResponse(let what):
            return "malformed HTTP response: \(what)"
        }
    }
}

/// A parsed HTTP/1.x response head.
package struct HTTPResponseHead: Sendable, Equatable {
    package var version: String
    package var status: Int
    package var reasonPhrase: String
    /// Header fields in order, names as sent.
    package var headers: [(name: String, value: String)]

    /// The value of a header (case-insensitive name); repeated fields are joined with ", ".
    package func value(of name: String) -> String? {
        let wanted = name.lowercased()
        let values = headers.filter { $0.name.lowercased() == wanted }.map(\.value)
        return values.isEmpty ? nil : values.joined(separator: ", ")
    }

    package static func == (lhs: HTTPResponseHead, rhs: HTTPResponseHead) -> Bool {
        lhs.version == rhs.version && lhs.status == rhs.status && lhs.reasonPhrase == rhs.reasonPhrase
            && lhs.headers.elementsEqual(rhs.headers) { $0.name == $1.name && $0.value == $1.value }
    }
}

/// Incremental parser for an HTTP/1.x response head (status line and header fields up to the
/// empty line). Bytes after the head — the first WebSocket frames — are returned as leftover.
package struct HTTPResponseHeadParser: Sendable {
    /// Largest head accepted.
    package let maxHeadBytes: Int
    private var buffer: [UInt8] = []

    package init(maxHeadBytes: Int = 64 << 10) {
        self.maxHeadBytes = maxHeadBytes
    }

    package enum Result: Sendable, Equatable {
        case needMore
        case complete(HTTPResponseHead, leftover: [UInt8])
    }

    /// Bytes received so far (for error messages when the connection closes mid-head).
    package var bufferedByteCount: Int { buffer.count }

    package mutating func feed(_ bytes: some Sequence<UInt8>) throws(WebSocketHandshake.Rejection) -> Result {
        buffer.append(contentsOf: bytes)
        // The head ends at the first empty line: CRLFCRLF (or bare LFLF from sloppy servers).
        var end: Int?
        var bodyStart = 0
        var i = 0
        while i < buffer.count {
            if buffer[i] == 0x0A {
                if i + 1 < buffer.count, buffer[i + 1] == 0x0A {
                    end = i
                    bodyStart = i + 2
                    break
                }
                if i + 2 < buffer.count, buffer[i + 1] == 0x0D, buffer[i + 2] == 0x0A {
                    end = i
                    bodyStart = i + 3
                    break
                }
            }
            i += 1
        }
        guard let end else {
            if buffer.count > maxHeadBytes {
                throw .malformedResponse("no end of headers within \(maxHeadBytes) bytes")
            }
            return .needMore
        }
        let headText = String(decoding: buffer[..<end], as: UTF8.self)
        let lines = headText.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" }
            .map { $0.hasSuffix("\r") ? String($0.dropLast()) : String($0) }
        guard let statusLine = lines.first else { throw .malformedResponse("empty response") }
        let parts = statusLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/"), let status = Int(parts[1]), (100...999).contains(status)
        else {
            throw .malformedResponse("status line \"\(statusLine.prefix(80))\" is not HTTP")
        }
        var headers: [(name: String, value: String)] = []
        for line in lines.dropFirst() where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else {
                throw .malformedResponse("header line \"\(line.prefix(80))\" has no colon")
            }
            headers.append((String(line[..<colon]), line[line.index(after: colon)...].trimmingASCIIWhitespace))
        }
        let head = HTTPResponseHead(
            version: String(parts[0]),
            status: status,
            reasonPhrase: parts.count > 2 ? String(parts[2]) : "",
            headers: headers
        )
        let leftover = Array(buffer[bodyStart...])
        buffer = []
        return .complete(head, leftover: leftover)
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces and tabs (HTTP's optional whitespace).
    var trimmingASCIIWhitespace: String {
        let isWhitespace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = firstIndex(where: { !isWhitespace($0) }), let last = lastIndex(where: { !isWhitespace($0) })
        else { return "" }
        return String(self[first...last])
    }
}
