import Foundation
import Synchronization

/// What the reference server did for each answer and saw on each WebSocket connection, so a
/// test (or `GET /debug/log`) can check every number a client stored against the server's own
/// record of that request: its id, the delay it chose, the fault it played, the conversation
/// it answered.
///
/// Times are `CLOCK_MONOTONIC` nanoseconds, the clock the client uses on the same machine.
/// The log keeps the most recent 50 000 answers and 2 000 connections.
package final class ServerLog: Sendable {
    /// One answer: a Realtime response or a Chat Completions stream.
    package struct Answer: Sendable, Codable, Equatable {
        /// The id the client sees: `resp_…` (Realtime `response.id`) or `chatcmpl-…` (every
        /// chunk's `id`).
        package var id: String
        /// `websocket` or `sse`.
        package var transport: String
        /// Path and query of the request (the WebSocket's upgrade request).
        package var target: String
        /// 1-based position among the answers to the same target (what `fault_every` counts).
        package var sequence: Int
        /// Server-side connection number.
        package var connection: Int
        /// The fault played on this answer, if any.
        package var fault: String?
        /// The delay the server chose between the complete request and the first audio.
        package var firstAudioDelayMs: Double
        /// Where that delay went (edge overhead, ingest, model), milliseconds.
        package var edgeMs: Double
        package var ingestMs: Double
        package var modelMs: Double
        /// WebSocket: items in the conversation when the response was created (the committed
        /// user turn included). 1 means a one-turn conversation.
        package var conversationItems: Int?
        /// `response.metadata` the client sent with `response.create`, if any.
        package var metadata: [String: String]?
        /// When the request was complete: `response.create` read, or the POST body read.
        package var requestCompleteNs: Int64
        /// When the first audio was written, if it was.
        package var firstAudioSentNs: Int64?
        /// Audio events written for this answer, counted when the answer's audio is over (0
        /// until then, and when the connection dropped mid-answer).
        package var audioEventsSent: Int

        enum CodingKeys: String, CodingKey {
            case id, transport, target, sequence, connection, fault, metadata
            case firstAudioDelayMs = "first_audio_delay_ms"
            case conversationItems = "conversation_items"
            case edgeMs = "edge_ms"
            case ingestMs = "ingest_ms"
            case modelMs = "model_ms"
            case requestCompleteNs = "request_complete_ns"
            case firstAudioSentNs = "first_audio_sent_ns"
            case audioEventsSent = "audio_events_sent"
        }

        init(
            id: String, transport: String, target: String, sequence: Int, connection: Int, fault: String?,
            plan: DeploymentProfile.Plan,
            conversationItems: Int?, metadata: [String: String]?, requestCompleteNs: Int64, firstAudioSentNs: Int64?
        ) {
            self.id = id
            self.transport = transport
            self.target = target
            self.sequence = sequence
            self.connection = connection
            self.fault = fault
            self.firstAudioDelayMs = plan.totalMs
            self.edgeMs = plan.edgeMs
            self.ingestMs = plan.ingestMs
            self.modelMs = plan.modelMs
            self.conversationItems = conversationItems
            self.metadata = metadata
            self.requestCompleteNs = requestCompleteNs
            self.firstAudioSentNs = firstAudioSentNs
            self.audioEventsSent = 0
        }
    }

    /// One WebSocket connection and the client messages it carried, in order.
    package struct Connection: Sendable, Codable, Equatable {
        package struct Message: Sendable, Codable, Equatable {
            /// The message's `type` (or `binary`, `not-json`).
            package var type: String
            package var receivedNs: Int64

            enum CodingKeys: String, CodingKey {
                case type
                case receivedNs = "received_ns"
            }
        }

        package var connection: Int
        package var target: String
        package var openedNs: Int64
        /// When each `session.updated` left.
        package var sessionUpdatedNs: [Int64]
        /// Client messages, oldest first (at most 20 000 per connection).
        package var messages: [Message]

        enum CodingKeys: String, CodingKey {
            case connection, target, messages
            case openedNs = "opened_ns"
            case sessionUpdatedNs = "session_updated_ns"
        }
    }

    private struct State {
        var answers: [Answer] = []
        var connections: [Connection] = []
        var sequences: [String: Int] = [:]
        var connectionNumbers: [ObjectIdentifier: Int] = [:]
        var nextConnection = 1
    }

    private let state = Mutex(State())

    static let maxAnswers = 50_000
    static let maxConnections = 2_000
    static let maxMessagesPerConnection = 20_000

    package init() {}

    /// Every answer so far, oldest first.
    package func answers() -> [Answer] { state.withLock { $0.answers } }

    /// The answer with this id (the newest, should an id repeat).
    package func answer(id: String) -> Answer? {
        state.withLock { $0.answers.last { $0.id == id } }
    }

    /// Every WebSocket connection so far, oldest first.
    package func connections() -> [Connection] { state.withLock { $0.connections } }

    /// The log as JSON (`GET /debug/log`).
    package func json() -> Data {
        struct Snapshot: Encodable {
            var answers: [Answer]
            var connections: [Connection]
        }
        let snapshot = state.withLock { Snapshot(answers: $0.answers, connections: $0.connections) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(snapshot)) ?? Data("{}".utf8)
    }

    // MARK: recording (server side)

    /// The next 1-based sequence number of a request to `target`.
    func nextSequence(for target: String) -> Int {
        state.withLock { s in
            s.sequences[target, default: 0] += 1
            return s.sequences[target]!
        }
    }

    /// The sequence number the next request to `target` will get.
    func peekSequence(for target: String) -> Int {
        state.withLock { $0.sequences[target, default: 0] + 1 }
    }

    /// The server-side number of the connection `channel` (one per TCP connection).
    func connectionNumber(of channel: AnyObject) -> Int {
        state.withLock { s in
            let key = ObjectIdentifier(channel)
            if let number = s.connectionNumbers[key] { return number }
            let number = s.nextConnection
            s.nextConnection += 1
            if s.connectionNumbers.count >= Self.maxConnections * 10 { s.connectionNumbers.removeAll() }
            s.connectionNumbers[key] = number
            return number
        }
    }

    func record(_ answer: Answer) {
        state.withLock { s in
            s.answers.append(answer)
            if s.answers.count > Self.maxAnswers { s.answers.removeFirst(s.answers.count - Self.maxAnswers) }
        }
    }

    func firstAudioSent(answer id: String, at t: Int64) {
        state.withLock { s in
            guard let index = s.answers.lastIndex(where: { $0.id == id }), s.answers[index].firstAudioSentNs == nil
            else { return }
            s.answers[index].firstAudioSentNs = t
        }
    }

    /// Records how many audio events the answer carried, once its audio is over.
    func audioSent(answer id: String, events: Int) {
        state.withLock { s in
            guard let index = s.answers.lastIndex(where: { $0.id == id }) else { return }
            s.answers[index].audioEventsSent = events
        }
    }

    func openConnection(_ connection: Int, target: String) {
        state.withLock { s in
            s.connections.append(
                Connection(
                    connection: connection, target: target, openedNs: MonotonicServerClock.now(), sessionUpdatedNs: [],
                    messages: []))
            if s.connections.count > Self.maxConnections {
                s.connections.removeFirst(s.connections.count - Self.maxConnections)
            }
        }
    }

    func clientMessage(_ type: String, on connection: Int, at t: Int64) {
        update(connection) { c in
            if c.messages.count < Self.maxMessagesPerConnection { c.messages.append(.init(type: type, receivedNs: t)) }
        }
    }

    func sessionUpdated(on connection: Int, at t: Int64) {
        update(connection) { $0.sessionUpdatedNs.append(t) }
    }

    private func update(_ connection: Int, _ body: (inout Connection) -> Void) {
        state.withLock { s in
            guard let index = s.connections.lastIndex(where: { $0.connection == connection }) else { return }
            body(&s.connections[index])
        }
    }
}
