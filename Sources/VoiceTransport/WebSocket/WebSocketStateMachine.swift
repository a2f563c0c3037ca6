/// The client side of an open RFC 6455 connection as a pure state machine: bytes from the
/// server in, actions out. It never touches a socket; `WebSocketClient` performs the actions.
///
/// It enforces what a client must enforce (RFC 6455 §5–§8), failing the connection with:
/// - 1002 for a masked server frame, non-zero RSV bits (no extension is ever negotiated),
///   an unknown opcode, a fragmented or over-125-byte control frame, a continuation with
///   nothing to continue, a new data frame inside a fragmented message, a 64-bit length with
///   the top bit set, a 1-byte Close payload or an invalid close code;
/// - 1007 for invalid UTF-8 in a text message (checked as bytes arrive, across fragments) or
///   in a close reason;
/// - 1009 when a message would exceed `maxMessageSize`.
///
/// Pings are answered immediately with the same payload, also in the middle of a fragmented
/// message. A Close from the server is echoed (same code, or no code) exactly once; anything
/// after it is ignored.
package struct WebSocketStateMachine: Sendable {
    package enum State: Sendable, Equatable {
        case open
        /// We sent Close and wait for the server's.
        case closeSent
        /// The close handshake completed (or the connection failed); ignore further input.
        case closed
    }

    package enum Action: Sendable, Equatable {
        /// A complete message for the application.
        case deliver(WebSocketMessage)
        /// A Ping arrived (informational; `sendPong` follows).
        case receivedPing([UInt8])
        /// Send a Pong with this payload.
        case sendPong([UInt8])
        /// A Pong arrived.
        case receivedPong([UInt8])
        /// Send a Close frame with this code (nil: empty payload) and reason.
        case sendClose(code: UInt16?, reason: String)
        /// The close handshake is complete; the TCP connection can be closed.
        case closed(code: UInt16?, reason: String, by: CloseInitiator)
        /// The connection failed (RFC 6455 §7.1.7): a Close with `code` was sent; drop the
        /// connection.
        case failed(code: UInt16, reason: String)
    }

    /// Largest message (all fragments together) accepted, in bytes.
    package let maxMessageSize: Int
    package private(set) var state: State = .open

    // Frame header being read.
    private var header: [UInt8] = []
    // Current frame, once its header is complete.
    private var frameOpcode: WebSocketOpcode = .continuation
    private var frameFin = false
    private var frameRemaining: UInt64 = 0
    private var inPayload = false
    private var control: [UInt8] = []
    // Message being assembled from data frames.
    private var messageOpcode: WebSocketOpcode?
    private var message: [UInt8] = []
    private var utf8 = UTF8Validator()

    package init(maxMessageSize: Int = 16 << 20) {
        self.maxMessageSize = maxMessageSize
    }

    /// Processes bytes received from the server.
    package mutating func receive(_ bytes: some Collection<UInt8>) -> [Action] {
        var actions: [Action] = []
        var index = bytes.startIndex
        while index != bytes.endIndex, state != .closed {
            if !inPayload {
                header.append(bytes[index])
                index = bytes.index(after: index)
                if let failure = headerByteAdded() {
                    fail(failure.code, failure.reason, into: &actions)
                    break
                }
                if inPayload && frameRemaining == 0 {
                    frameComplete(into: &actions)
                }
                continue
            }
            let available = bytes.distance(from: index, to: bytes.endIndex)
            let take = Int(min(UInt64(available), frameRemaining))
            let end = bytes.index(index, offsetBy: take)
            let slice = bytes[index..<end]
            index = end
            frameRemaining -= UInt64(take)
            if frameOpcode.isControl {
                control.append(contentsOf: slice)
            } else {
                if messageOpcode == .text, !utf8.validate(slice) {
                    fail(WebSocketCloseCode.invalidPayload, "invalid UTF-8 in a text message", into: &actions)
                    break
                }
                message.append(contentsOf: slice)
            }
            if frameRemaining == 0 {
                frameComplete(into: &actions)
            }
        }
        return actions
    }

    /// Starts a client-initiated close handshake. Returns the Close to send, or nothing when a
    /// close is already under way.
    package mutating func close(code: UInt16 = WebSocketCloseCode.normal, reason: String = "") -> [Action] {
        guard state == .open else { return [] }
        state = .closeSent
        return [.sendClose(code: code, reason: reason)]
    }

    // MARK: - frame header

    private struct Failure {
        var code: UInt16
        var reason: String
    }

    /// Called after each header byte; validates as early as the bytes allow.
    private mutating func headerByteAdded() -> Failure? {
        if header.count == 2 {
            let b0 = header[0]
            let b1 = header[1]
            if b0 & 0x70 != 0 {
                return Failure(
                    code: WebSocketCloseCode.protocolError, reason: "reserved bits set without a negotiated extension")
            }
            guard let opcode = WebSocketOpcode(rawValue: b0 & 0x0F) else {
                return Failure(code: WebSocketCloseCode.protocolError, reason: "unknown opcode \(b0 & 0x0F)")
            }
            if b1 & 0x80 != 0 {
                return Failure(code: WebSocketCloseCode.protocolError, reason: "the server sent a masked frame")
            }
            let fin = b0 & 0x80 != 0
            if opcode.isControl {
                if !fin { return Failure(code: WebSocketCloseCode.protocolError, reason: "fragmented control frame") }
                if b1 & 0x7F > 125 {
                    return Failure(
                        code: WebSocketCloseCode.protocolError, reason: "control frame longer than 125 bytes")
                }
            } else if opcode == .continuation {
                if messageOpcode == nil {
                    return Failure(
                        code: WebSocketCloseCode.protocolError, reason: "continuation frame with no message to continue"
                    )
                }
            } else if messageOpcode != nil {
                return Failure(
                    code: WebSocketCloseCode.protocolError, reason: "new data frame inside a fragmented message")
            }
            frameOpcode = opcode
            frameFin = fin
        }
        guard header.count >= 2 else { return nil }
        let len7 = header[1] & 0x7F
        let needed = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0)
        guard header.count == needed else { return nil }
        var length = UInt64(len7)
        if len7 == 126 {
            length = UInt64(header[2]) << 8 | UInt64(header[3])
        } else if len7 == 127 {
            length = header[2...9].reduce(0) { $0 << 8 | UInt64($1) }
            if length & (1 << 63) != 0 {
                return Failure(
                    code: WebSocketCloseCode.protocolError,
                    reason: "64-bit payload length with the most significant bit set")
            }
        }
        if !frameOpcode.isControl && UInt64(message.count) + length > UInt64(maxMessageSize) {
            return Failure(
                code: WebSocketCloseCode.messageTooBig, reason: "message larger than \(maxMessageSize) bytes")
        }
        header.removeAll(keepingCapacity: true)
        frameRemaining = length
        inPayload = true
        if frameOpcode.isControl {
            control.removeAll(keepingCapacity: true)
        } else if frameOpcode != .continuation {
            messageOpcode = frameOpcode
            message.removeAll(keepingCapacity: true)
            if length > 0 { message.reserveCapacity(Int(length)) }
            utf8 = UTF8Validator()
        }
        return nil
    }

    // MARK: - complete frames

    private mutating func frameComplete(into actions: inout [Action]) {
        inPayload = false
        switch frameOpcode {
        case .ping:
            actions.append(.receivedPing(control))
            actions.append(.sendPong(control))
        case .pong:
            actions.append(.receivedPong(control))
        case .close:
            closeReceived(control, into: &actions)
        case .text, .binary, .continuation:
            guard frameFin, let opcode = messageOpcode else { return }
            messageOpcode = nil
            if opcode == .text {
                guard utf8.isComplete else {
                    fail(WebSocketCloseCode.invalidPayload, "text message ends inside a UTF-8 sequence", into: &actions)
                    return
                }
                actions.append(.deliver(.text(String(decoding: message, as: UTF8.self))))
            } else {
                actions.append(.deliver(.binary(message)))
            }
            message.removeAll(keepingCapacity: message.count < 1 << 20)
        }
    }

    private mutating func closeReceived(_ payload: [UInt8], into actions: inout [Action]) {
        var code: UInt16?
        var reason = ""
        if payload.count == 1 {
            fail(WebSocketCloseCode.protocolError, "Close frame with a 1-byte payload", into: &actions)
            return
        }
        if payload.count >= 2 {
            let value = UInt16(payload[0]) << 8 | UInt16(payload[1])
            guard WebSocketCloseCode.isValidOnWire(value) else {
                fail(WebSocketCloseCode.protocolError, "invalid close code \(value)", into: &actions)
                return
            }
            var validator = UTF8Validator()
            let reasonBytes = payload[2...]
            guard validator.validate(reasonBytes), validator.isComplete else {
                fail(WebSocketCloseCode.invalidPayload, "close reason is not valid UTF-8", into: &actions)
                return
            }
            code = value
            reason = String(decoding: reasonBytes, as: UTF8.self)
        }
        switch state {
        case .open:
            // Echo the peer's code (RFC 6455 §5.5.1); a partial fragmented message is dropped.
            actions.append(.sendClose(code: code, reason: ""))
            actions.append(.closed(code: code, reason: reason, by: .server))
        case .closeSent:
            actions.append(.closed(code: code, reason: reason, by: .client))
        case .closed:
            return
        }
        state = .closed
    }

    private mutating func fail(_ code: UInt16, _ reason: String, into actions: inout [Action]) {
        if state == .open {
            actions.append(.sendClose(code: code, reason: reason))
        }
        actions.append(.failed(code: code, reason: reason))
        state = .closed
    }
}
