import Foundation
import Testing

@testable import VoiceTransport

@Suite("OpenAI Realtime dialect")
struct RealtimeDialectTests {
    static let speechEnd = TransportEvent.speechEnd(scheduled: 0, lagNs: 0, blockedNs: 0)

    /// Interprets `messages` as turn 1, with the end of speech before message `speechEndAfter`.
    func interpret(_ messages: [String], speechEndAfter: Int = 1, dialect: inout RealtimeDialect) -> [TransportEvent] {
        var out: [TransportEvent] = []
        for (i, message) in messages.enumerated() {
            if i == speechEndAfter { out += dialect.interpret(Self.speechEnd) }
            out += dialect.interpret(.webSocketMessage(.text(message)))
        }
        return out
    }

    func interpret(_ messages: [String], speechEndAfter: Int = 1) -> [TransportEvent] {
        var dialect = RealtimeDialect()
        dialect.beginTurn(1)
        return interpret(messages, speechEndAfter: speechEndAfter, dialect: &dialect)
    }

    func kinds(_ events: [TransportEvent]) -> [String] {
        events.compactMap {
            switch $0 {
            case .audio(let n, _): "audio(\(n))"
            case .transcript: "transcript"
            case .turnEnd: "turnEnd"
            case .serverError: "serverError"
            case .failure(let e): "failure(\(e.kind.rawValue))"
            case .anomaly: "anomaly"
            case .responseStarted(let id): "response(\(id))"
            case .contextCleared(let ok, _): "cleared(\(ok))"
            case .responseDone: nil
            default: "other"
            }
        }
    }

    let created = #"{"type":"session.created","session":{}}"#
    func responseCreated(_ id: String, turn: Int? = 1) -> String {
        turn.map { #"{"type":"response.created","response":{"id":"\#(id)","metadata":{"ttfa_turn":"\#($0)"}}}"# }
            ?? #"{"type":"response.created","response":{"id":"\#(id)"}}"#
    }
    func delta(_ response: String, _ payload: String = "AAECAw==", beta: Bool = false) -> String {
        #"{"type":"\#(beta ? "response.audio.delta" : "response.output_audio.delta")","response_id":"\#(response)","delta":"\#(payload)"}"#
    }
    func done(_ response: String, status: String = "completed") -> String {
        #"{"type":"response.done","response":{"id":"\#(response)","status":"\#(status)","status_details":{"error":{"message":"boom"}}}}"#
    }

    @Test func gaAndBetaAudioDeltasOfThisTurnsResponseCountAndEmptyDeltasDoNot() {
        let events = interpret([
            created,
            responseCreated("r1"),
            #"{"type":"response.output_audio_transcript.delta","response_id":"r1","delta":"Hi"}"#,
            delta("r1", ""),
            delta("r1"),
            delta("r1", "AAE=", beta: true),
            done("r1"),
        ])
        #expect(kinds(events) == ["response(r1)", "transcript", "audio(4)", "audio(2)", "turnEnd"])
    }

    @Test func audioOfAnotherResponseIsAnAnomalyNeverTheTurnsAudio() {
        let events = interpret([
            created,
            delta("r0"),  // a late delta of the previous answer, before this one starts
            responseCreated("r1"),
            delta("r0"),  // …and during it
            delta("r1"),
            done("r0"),  // someone else's end is not this turn's end
            done("r1"),
        ])
        #expect(kinds(events) == ["anomaly", "response(r1)", "anomaly", "audio(4)", "turnEnd"])
    }

    @Test func audioBeforeTheEndOfSpeechIsNeverCounted() {
        let events = interpret(
            [
                created,
                responseCreated("early", turn: nil),  // a response nobody asked for, while the user speaks
                delta("early"),
                done("early"),
                responseCreated("r1"),
                delta("r1"),
                done("r1"),
            ], speechEndAfter: 4)
        #expect(kinds(events) == ["anomaly", "anomaly", "response(r1)", "audio(4)", "turnEnd"])
    }

    @Test func aResponseTaggedForAnotherTurnIsNotThisTurns() {
        let events = interpret([
            created, responseCreated("r7", turn: 7), delta("r7"), responseCreated("r1"), delta("r1"), done("r1"),
        ])
        #expect(kinds(events) == ["anomaly", "anomaly", "response(r1)", "audio(4)", "turnEnd"])
    }

    @Test func aNewTurnForgetsTheLastTurnsResponse() {
        var dialect = RealtimeDialect()
        dialect.beginTurn(1)
        _ = interpret([created, responseCreated("r1"), delta("r1"), done("r1")], dialect: &dialect)
        dialect.beginTurn(2)
        let second = interpret(
            [delta("r1"), responseCreated("r2", turn: 2), delta("r2"), done("r2")], speechEndAfter: 0, dialect: &dialect
        )
        #expect(kinds(second) == ["anomaly", "response(r2)", "audio(4)", "turnEnd"])
    }

    @Test func cleanupDeletesTheTurnsItemsAndWaitsForEveryConfirmation() throws {
        var dialect = RealtimeDialect()
        dialect.beginTurn(1)
        _ = interpret(
            [
                created,
                #"{"type":"input_audio_buffer.committed","item_id":"user1"}"#,
                responseCreated("r1"),
                #"{"type":"response.output_item.added","response_id":"r1","item":{"id":"answer1"}}"#,
                delta("r1"),
                done("r1"),
            ], dialect: &dialect)
        let messages = dialect.cleanupMessages()
        let ids = try messages.map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        #expect(ids.map { $0["type"] as? String } == ["conversation.item.delete", "conversation.item.delete"])
        #expect(Set(ids.compactMap { $0["item_id"] as? String }) == ["user1", "answer1"])
        #expect(
            kinds(
                dialect.interpret(.webSocketMessage(.text(#"{"type":"conversation.item.deleted","item_id":"user1"}"#))))
                == [])
        #expect(
            kinds(
                dialect.interpret(
                    .webSocketMessage(.text(#"{"type":"conversation.item.deleted","item_id":"answer1"}"#)))) == [
                    "cleared(true)"
                ])
    }

    @Test func aRefusedDeletionIsReported() {
        var dialect = RealtimeDialect()
        dialect.beginTurn(1)
        _ = interpret(
            [
                created, #"{"type":"input_audio_buffer.committed","item_id":"u"}"#, responseCreated("r1"), delta("r1"),
                done("r1"),
            ], dialect: &dialect)
        _ = dialect.cleanupMessages()
        #expect(
            kinds(dialect.interpret(.webSocketMessage(.text(#"{"type":"error","error":{"message":"no such item"}}"#))))
                == ["cleared(false)"])
    }

    @Test func failedResponseIsAServerError() {
        let events = interpret([created, responseCreated("r1"), done("r1", status: "failed")])
        #expect(kinds(events) == ["response(r1)", "failure(server_error)"])
    }

    @Test func notJSONIsAProtocolError() {
        #expect(kinds(interpret([created, "{oops"])) == ["failure(protocol)"])
    }

    @Test func wrongFirstEventMeansWrongDialect() {
        #expect(kinds(interpret([#"{"type":"hello"}"#], speechEndAfter: 5)) == ["failure(protocol)"])
    }

    @Test func anEchoServerIsRecognised() {
        let events = interpret([#"{"type":"session.update","session":{}}"#], speechEndAfter: 5)
        guard case .failure(let error) = events.first else {
            Issue.record("no failure")
            return
        }
        #expect(error.kind == .protocol && error.message.contains("echo"))
    }

    @Test func serverCloseDuringATurnAfterAnErrorIsAServerError() {
        var dialect = RealtimeDialect()
        dialect.beginTurn(1)
        _ = dialect.interpret(.webSocketMessage(.text(created)))
        _ = dialect.interpret(Self.speechEnd)
        _ = dialect.interpret(
            .webSocketMessage(.text(#"{"type":"error","error":{"message":"invalid key","code":"invalid_api_key"}}"#)))
        let events = dialect.interpret(.webSocketClose(code: 3000, reason: "", by: .server))
        #expect(kinds(events) == ["failure(server_error)"])
    }

    @Test func clientMessagesAreWhatTheAPIExpects() throws {
        let update = try #require(
            try JSONSerialization.jsonObject(with: Data(RealtimeDialect().sessionUpdate().utf8)) as? [String: Any])
        #expect(update["type"] as? String == "session.update")
        let session = try #require(update["session"] as? [String: Any])
        #expect(session["type"] as? String == "realtime")
        let audio = try #require(session["audio"] as? [String: Any])
        let input = try #require(audio["input"] as? [String: Any])
        #expect((input["format"] as? [String: Any])?["rate"] as? Int == 24000)
        #expect(input["turn_detection"] is NSNull)
        let append = try #require(
            try JSONSerialization.jsonObject(with: Data(RealtimeDialect.append(pcm: [1, 2, 3]).utf8)) as? [String: Any])
        #expect(append["type"] as? String == "input_audio_buffer.append")
        #expect(append["audio"] as? String == "AQID")
        let create = try #require(
            try JSONSerialization.jsonObject(with: Data(RealtimeDialect.responseCreate(turn: 12).utf8))
                as? [String: Any])
        #expect(create["type"] as? String == "response.create")
        #expect(((create["response"] as? [String: Any])?["metadata"] as? [String: String]) == ["ttfa_turn": "12"])
        #expect(RealtimeDialect.isSessionAcknowledgement(#"{"type":"session.updated","session":{}}"#))
        #expect(RealtimeDialect.isSessionAcknowledgement(#"{"type":"error","error":{}}"#))
        #expect(
            !RealtimeDialect.isSessionAcknowledgement(
                #"{"type":"session.created","session":{"note":"session.updated"}}"#))
    }
}

@Suite("Chat Completions audio dialect")
struct ChatCompletionsDialectTests {
    func run(_ data: [String], end: Bool = false) -> [TransportEvent] {
        var dialect = ChatCompletionsDialect()
        dialect.beginTurn(1)
        var out = dialect.interpret(.speechEnd(scheduled: 0, lagNs: 0, blockedNs: 0))
        for d in data { out += dialect.interpret(.sse(SSEEvent(data: d))) }
        if end { out += dialect.interpret(.transferEnd(.zero, nil)) }
        return out
    }

    func isAudio(_ e: TransportEvent) -> Bool { if case .audio = e { return true } else { return false } }

    @Test func transcriptOnlyChunksAreNotFirstAudio() {
        let events = run([
            #"{"choices":[{"index":0,"delta":{"role":"assistant"}}]}"#,
            #"{"choices":[{"index":0,"delta":{"audio":{"id":"a","transcript":"Hi"}}}]}"#,
            #"{"choices":[{"index":0,"delta":{"audio":{"data":""}}}]}"#,
            #"{"choices":[{"index":0,"delta":{"audio":{"data":"AAAA"}}}]}"#,
            #"{"choices":[{"index":0,"delta":{"audio":{"expires_at":1}}}]}"#,
            #"{"choices":[],"usage":{"total_tokens":3}}"#,
            "[DONE]",
        ])
        #expect(events.filter(isAudio).count == 1)
        guard case .transcript = events.first, case .turnEnd = events.last else {
            Issue.record("order: \(events)")
            return
        }
    }

    @Test func theStreamsIdNamesTheAnswerAndItsAudio() {
        let events = run([
            #"{"id":"chatcmpl-1","choices":[{"index":0,"delta":{"role":"assistant"}}]}"#,
            #"{"id":"chatcmpl-1","choices":[{"index":0,"delta":{"audio":{"data":"AAAA"}}}]}"#,
            "[DONE]",
        ])
        guard case .responseStarted(let id) = events.first, case .audio(3, let response) = events.dropFirst().first
        else {
            Issue.record("\(events)")
            return
        }
        #expect(id == "chatcmpl-1" && response == "chatcmpl-1")
    }

    @Test func missingDoneIsAClosedStream() {
        let events = run([#"{"choices":[]}"#], end: true)
        guard case .failure(let error) = events.last else {
            Issue.record("no failure")
            return
        }
        #expect(error.kind == .closed)
    }

    @Test func errorChunkIsAServerError() {
        let events = run([#"{"error":{"message":"overloaded","type":"server_error"}}"#])
        guard case .failure(let error) = events.last else {
            Issue.record("no failure")
            return
        }
        #expect(error.kind == .serverError && error.message.contains("overloaded"))
    }

    @Test func otherJSONIsTheWrongDialect() {
        let events = run([#"{"type":"response.created"}"#])
        guard case .failure(let error) = events.last else {
            Issue.record("no failure")
            return
        }
        #expect(error.kind == .protocol)
    }

    @Test func requestBodyCarriesTheRecordingAsBase64WAV() throws {
        let body = ChatCompletionsDialect().requestBody(pcm: [1, 0, 2, 0])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
        #expect(object["stream"] as? Bool == true)
        #expect(object["modalities"] as? [String] == ["text", "audio"])
        #expect((object["audio"] as? [String: Any])?["format"] as? String == "pcm16")
        let messages = try #require(object["messages"] as? [[String: Any]])
        let part = try #require((messages.last?["content"] as? [[String: Any]])?.first)
        #expect(part["type"] as? String == "input_audio")
        let input = try #require(part["input_audio"] as? [String: Any])
        #expect(input["format"] as? String == "wav")
        let wav = try #require(Data(base64Encoded: input["data"] as? String ?? ""))
        #expect(try WAVFile.decode(Array(wav), name: "body") == [1, 0, 2, 0])
        #expect(!String(decoding: body, as: UTF8.self).contains("\\/"), "base64 slashes are not escaped")
    }
}

@Suite("Secrets")
struct SecretRedactorTests {
    @Test func registeredSecretsAreMaskedEverywhere() {
        let redactor = SecretRedactor(secrets: ["Bearer sk-live-123456"])
        #expect(redactor.redact("auth failed for sk-live-123456!") == "auth failed for ***!")
        #expect(redactor.redact("header: Bearer sk-live-123456") == "header: ***")
    }

    @Test func credentialQueryParametersAndPasswordsAreMasked() {
        let url = SecretRedactor().redactURL(
            "wss://user:pw@example.com/v1/realtime?model=gpt&api_key=abc&Access-Token=def&sig=x")
        #expect(url.contains("model=gpt"))
        #expect(!url.contains("abc") && !url.contains("def") && !url.contains(":pw@"))
        #expect(url.contains("api_key=***") && url.contains("Access-Token=***"))
    }

    @Test func urlCredentialsAreMaskedWhereverTheyTurnUp() {
        var redactor = SecretRedactor()
        redactor.addCredentials(fromURL: "https://u:hunter22@example.com/x?model=m&api_key=key-123456&token=tok-abcdef")
        #expect(
            redactor.redact("Incorrect API key provided: key-123456 (token tok-abcdef, password hunter22)")
                == "Incorrect API key provided: *** (token ***, password ***)")
        #expect(redactor.redact("model m") == "model m")
    }

    @Test func endpointPrintsRedacted() throws {
        let endpoint = try Endpoint("https://example.com/v1/chat/completions?key=secret", for: .sse)
        #expect(!endpoint.description.contains("secret"))
    }

    @Test func badURLsAreInputErrors() {
        #expect(throws: TransportError.self) { try Endpoint("not a url", for: .sse) }
        #expect(throws: TransportError.self) { try Endpoint("ws://example.com/x", for: .sse) }
        #expect(throws: TransportError.self) { try Endpoint("ftp://example.com/x", for: .websocket) }
    }
}

@Suite("Failure messages")
struct FailureMessageTests {
    @Test func aTLSFailureNamesTheCertificateProblemAndTheOptionsThatFixIt() {
        let error = CurlEasy.CurlError(
            code: 60, message: "SSL certificate problem: self-signed certificate", kind: .tls)
        let text = error.explained("could not connect to wss://example.test/v1/realtime")
        #expect(
            text.hasPrefix(
                "could not connect to wss://example.test/v1/realtime: SSL certificate problem: self-signed certificate."
            ))
        #expect(text.contains("--cacert FILE") && text.contains("--insecure"))
    }

    @Test func http09IsTheServersProtocolErrorNotOurInput() {
        let error = CurlEasy.CurlError(code: 1, message: "Received HTTP/0.9 when not allowed", kind: .protocol)
        #expect(error.explained("request failed").contains("left on a kept-alive connection"))
    }
}
