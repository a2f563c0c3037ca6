import Foundation
import Testing

@testable import VoiceTransport

/// The shipped dialect files, read from the source tree.
let shippedDialects = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
    .appendingPathComponent("Sources/Replay/Resources/dialects")

func dialect(_ yaml: String) throws -> DialectFile {
    try DialectFile(yaml: yaml, source: "test.yaml")
}

/// A minimal valid SSE dialect with `events` replaced.
func sseDialect(events: String, request: String = "request:\n  json: {audio: \"{{audio.wav.base64}}\"}\n") throws
    -> DialectFile
{
    try dialect("name: t\ntransport: sse\n" + request + "events:\n" + events)
}

func sse(_ data: String) -> TransportEvent { sse("message", data) }

func sse(_ type: String, _ data: String) -> TransportEvent {
    .sse(SSEEvent(type: type, data: data))
}

@Suite("Dialect files: paths, templates, validation")
struct DialectFileTests {
    // MARK: JSON paths

    @Test func jsonPathsReadKeysIndexesAndQuotedKeys() throws {
        let object: Any = ["choices": [["delta": ["audio": ["data": "AAA"]]]], "a.b": ["c": 1], "type": "x"]
        #expect(try JSONPath("choices[0].delta.audio.data").string(in: object) == "AAA")
        #expect(try JSONPath("$.type").string(in: object) == "x")
        #expect(try JSONPath("[\"a.b\"].c").value(in: object) as? Int == 1)
        #expect(try JSONPath("choices[1].delta").value(in: object) == nil)
        #expect(try JSONPath("type.inner").value(in: object) == nil)
    }

    @Test(arguments: ["", "a..b", ".a", "a.", "a[x]", "a[0", "a]b", "a[0]b"])
    func aMalformedJSONPathIsRefused(path: String) {
        #expect(throws: JSONPath.SyntaxError.self) { try JSONPath(path) }
    }

    @Test func settingAPathBuildsTheObjectsOnTheWay() throws {
        let built = try JSONPath("choices[0].delta.audio.data").setting("AAA", in: nil)
        #expect(try JSONPath("choices[0].delta.audio.data").string(in: built) == "AAA")
    }

    // MARK: templates

    @Test func templatesKeepTheFilesKeyOrderAndTypeNumberPlaceholders() throws {
        let file = try sseDialect(
            events: "  audio: {path: audio}\n",
            request: """
                request:
                  json: {z: "{{audio.rate}}", a: "rate {{audio.rate}} \\"q\\"", m: "{{model}}", n: 1.5, b: true, x: null, l: [1, "{{turn}}"]}
                defaults: {model: "gpt \\\\ x"}

                """)
        let dialect = try FileSSEDialect(file)
        let request = dialect.request(audio: [1, 0, 2, 0], turn: 7)
        #expect(
            String(decoding: request.body, as: UTF8.self)
                == #"{"z":24000,"a":"rate 24000 \"q\"","m":"gpt \\ x","n":1.5,"b":true,"x":null,"l":[1,7]}"#)
        #expect(request.headers.first == "Content-Type: application/json")
        #expect(request.method == "POST")
    }

    @Test func rawAndMultipartBodiesCarryTheWAVFile() throws {
        let raw = try FileSSEDialect(
            try sseDialect(
                events: "  audio: {path: audio}\n", request: "request:\n  method: put\n  body: \"{{audio.wav}}\"\n"))
        let pcm: [UInt8] = [1, 0, 2, 0, 3, 0]
        let request = raw.request(audio: pcm, turn: 1)
        #expect(request.method == "PUT" && request.headers.contains("Content-Type: audio/wav"))
        #expect(request.body == WAVContainer.encode(pcm, format: .pcm16At24k))
        let multipart = try FileSSEDialect(
            try sseDialect(
                events: "  audio: {path: audio}\n",
                request: """
                    request:
                      multipart:
                        - {name: file, filename: speech.wav, value: "{{audio.wav}}"}
                        - {name: model, value: whisper-1}

                    """))
        let body = multipart.request(audio: pcm, turn: 1)
        let type = try #require(body.headers.first { $0.hasPrefix("Content-Type: multipart/form-data; boundary=") })
        let boundary = String(type.split(separator: "=").last!)
        let text = String(decoding: body.body, as: UTF8.self)
        #expect(
            text.hasPrefix(
                "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"speech.wav\"\r\nContent-Type: audio/wav\r\n\r\nRIFF"
            ))
        #expect(text.hasSuffix("name=\"model\"\r\n\r\nwhisper-1\r\n--\(boundary)--\r\n"))
    }

    @Test func headerValuesExpandFromTheEnvironmentAndAMissingVariableIsAnInputError() throws {
        let file = try sseDialect(
            events: "  audio: {path: audio}\n",
            request: "request:\n  headers: {Authorization: \"Bearer $EDGE_TOKEN\"}\n  json: {a: \"{{audio.base64}}\"}\n"
        )
        let dialect = try FileSSEDialect(file, values: FileDialectValues(environment: ["EDGE_TOKEN": "s3cret"]))
        #expect(dialect.request(audio: [], turn: 1).headers.contains("Authorization: Bearer s3cret"))
        #expect(dialect.headerValues == ["Bearer s3cret"])
        let error = #expect(throws: TransportError.self) {
            try FileSSEDialect(file, values: FileDialectValues(environment: [:]))
        }
        #expect(error?.kind == .input && error?.message.contains("$EDGE_TOKEN is not set") == true)
    }

    // MARK: validation

    @Test(
        arguments: [
            (
                "name: x\ntransport: sse\nrequest: {json: {a: \"{{audio.base64}}\"}}\nevents:\n  audio: {path: \"data..audio\"}\n",
                "test.yaml:5: events.audio.path: bad JSON path"
            ),
            (
                "name: x\ntransport: sse\nrequest: {json: {a: \"{{audio.mp3}}\"}}\nevents:\n  audio: {path: a}\n",
                "request.json.a: unknown placeholder {{audio.mp3}}"
            ),
            (
                "name: x\ntransport: sse\nrequest: {json: {a: \"{{audio.base64}}\"}}\nevents:\n  end: {event: done}\n",
                "events.audio: missing: no rule says which events carry the audio"
            ),
            (
                "name: x\ntransport: sse\nrequest: {json: {a: \"{{audio.base64}}\"}}\nevents:\n  audio: {path: a, rate: fast}\n",
                "events.audio.rate: expected a whole number from 8000 to 48000, found \"fast\""
            ),
            (
                "name: x\ntransport: sse\nrequest: {json: {a: \"{{audio.base64}}\"}}\nevents:\n  audio: [{path: a, sample_rate: 16000}]\n",
                "events.audio[0].sample_rate: unknown key"
            ),
            (
                "name: x\ntransport: sse\nrequest: {json: {a: \"{{audio.base64}}\"}}\nevents: [audio]\n",
                "events: expected a mapping"
            ),
            (
                "name: x\ntransport: carrier-pigeon\nevents: {}\n",
                "transport: \"carrier-pigeon\": expected sse or websocket"
            ),
            ("transport: sse\n", "name: missing"),
            (
                "name: x\ntransport: sse\nrequest: {json: {a: \"{{audio.wav}}\"}}\nevents:\n  audio: {path: a}\n",
                "request.json.a: {{audio.wav}} and {{audio.raw}} are bytes"
            ),
            (
                "name: x\ntransport: websocket\naudio: {json: {type: append}}\nevents:\n  binary: {rate: 16000}\n  end: {match: {type: done}}\n",
                "audio: the audio message must carry the chunk"
            ),
            (
                "name: x\ntransport: websocket\naudio: {frame: binary}\nevents:\n  binary: {rate: 16000}\n",
                "events.end: missing"
            ),
            (
                "name: x\ntransport: sse\nrequest: {json: {a: \"{{audio.base64}}\"}}\nevents:\n  audio: {path: a}\n  end: {response_id: id}\n",
                "events.end: matches every message"
            ),
        ] as [(String, String)])
    func aMalformedDialectNamesTheFieldAndWhatToDo(yaml: String, mentions: String) {
        let error = #expect(throws: DialectFileError.self) { try dialect(yaml) }
        #expect(error?.description.contains(mentions) == true, "\(error?.description ?? "no error")")
    }

    @Test func theShippedDialectsAreValid() throws {
        for name in ["openai-realtime", "openai-chat-completions", "openai-tts"] {
            let file = try DialectFile(contentsOf: shippedDialects.appendingPathComponent("\(name).yaml").path)
            #expect(file.name == name)
            #expect(file.sha256.count == 64)
        }
    }

    // MARK: the built-in dialects as files

    @Test func theChatCompletionsFileSendsTheBuiltInRequestByteForByte() throws {
        let file = try DialectFile(
            contentsOf: shippedDialects.appendingPathComponent("openai-chat-completions.yaml").path)
        let pcm = (0..<4800).map { UInt8(truncatingIfNeeded: $0 * 7) }
        let fromFile = try FileSSEDialect(file).request(audio: pcm, turn: 3)
        let builtIn = ChatCompletionsDialect().request(audio: pcm, turn: 3)
        #expect(fromFile == builtIn)
        let other = try FileSSEDialect(file, values: FileDialectValues(model: "gpt-audio-mini", voice: "verse"))
            .request(audio: pcm, turn: 3)
        #expect(
            other
                == ChatCompletionsDialect(options: .init(model: "gpt-audio-mini", voice: "verse")).request(
                    audio: pcm, turn: 3))
    }

    @Test func theRealtimeFileSendsTheBuiltInMessagesByteForByte() throws {
        let file = try DialectFile(contentsOf: shippedDialects.appendingPathComponent("openai-realtime.yaml").path)
        let fromFile = try FileWebSocketDialect(file)
        let builtIn = RealtimeDialect()
        #expect(fromFile.setupMessages() == builtIn.setupMessages())
        #expect(fromFile.audioMessage([1, 2, 3, 4], turn: 2) == builtIn.audioMessage([1, 2, 3, 4], turn: 2))
        #expect(fromFile.endOfSpeechMessages(turn: 9) == builtIn.endOfSpeechMessages(turn: 9))
        let ack = try #require(fromFile.setupAcknowledgement)
        #expect(
            ack(#"{"type":"session.updated","session":{}}"#) && ack(#"{"type":"error","error":{}}"#)
                && !ack(#"{"type":"session.created"}"#))
    }

    // MARK: audio formats

    @Test func muLawFollowsG711() {
        #expect(G711.muLaw(0) == 0xFF)
        #expect(G711.muLaw(-1) == 0x7F)
        #expect(G711.muLaw(32767) == 0x80)
        #expect(G711.muLaw(-32768) == 0x00)
        #expect(G711.linear(0xFF) == 0 && G711.linear(0x80) == 32124 && G711.linear(0x00) == -32124)
        for sample in stride(from: -32000, through: 32000, by: 997) {
            let back = Int(G711.linear(G711.muLaw(Int16(sample))))
            #expect(abs(back - sample) <= max(8, abs(sample) / 16), "\(sample) → \(back)")
        }
    }

    @Test func wavContainersAreReadChunkByChunk() throws {
        var wav = WAVContainer.encode([UInt8](repeating: 0, count: 3200), format: AudioFormat(.pcm16, rate: 16_000))
        // A LIST chunk between fmt and data, as some encoders write.
        wav.insert(contentsOf: Array("LIST".utf8) + [4, 0, 0, 0] + Array("INFO".utf8), at: 36)
        let info = try WAVContainer.parse(wav)
        #expect(info.format == AudioFormat(.pcm16, rate: 16_000) && info.data.count == 3200)
        #expect(info.pcm16At24kBytes == 4800, "100 ms")
        #expect(throws: WAVContainer.Problem.self) { try WAVContainer.parse(Array("RIFF....WAVEfmt ".utf8)) }
    }

    @Test func recordingsAreConvertedToTheDialectsInputFormatChunkForChunk() throws {
        // 1 s of a 440 Hz tone at 24 kHz, in 50 ms chunks.
        var pcm: [UInt8] = []
        for n in 0..<24_000 {
            let sample = Int16(10_000 * sin(2 * Double.pi * 440 * Double(n) / 24_000))
            pcm += [UInt8(truncatingIfNeeded: sample), UInt8(truncatingIfNeeded: sample >> 8)]
        }
        let chunks = stride(from: 0, to: pcm.count, by: 2400).map { Array(pcm[$0..<min($0 + 2400, pcm.count)]) }
        let at16k = try AudioConverter.convert(chunks: chunks, to: AudioFormat(.pcm16, rate: 16_000))
        #expect(at16k.count == chunks.count)
        #expect(at16k.dropLast().allSatisfy { $0.count == 1600 }, "50 ms at 16 kHz")
        #expect(abs(at16k.reduce(0) { $0 + $1.count } - 32_000) <= 4)
        // The tone survives: 440 Hz is 880 zero crossings a second.
        let samples = stride(from: 0, to: at16k.flatMap { $0 }.count - 1, by: 2).map { i -> Int16 in
            let b = at16k.flatMap { $0 }
            return Int16(bitPattern: UInt16(b[i]) | UInt16(b[i + 1]) << 8)
        }
        let crossings = zip(samples, samples.dropFirst()).filter { ($0 < 0) != ($1 < 0) }.count
        #expect(abs(crossings - 880) <= 4, "\(crossings)")
        let telephony = try AudioConverter.convert(chunks: chunks, to: AudioFormat(.mulaw, rate: 8_000))
        #expect(telephony.dropLast().allSatisfy { $0.count == 400 }, "50 ms of μ-law at 8 kHz: one byte a sample")
    }
}

@Suite("Dialect interpreter: what counts as the turn's audio")
struct DialectInterpreterTests {
    let edge = """
          started: {event: start, response_id: id}
          audio: {event: audio, path: audio, encoding: pcm16, rate: 16000, response_id: id}
          transcript: {event: text, path: text}
          error: {event: error, message: message, code: code}
          end: {event: done, response_id: id}
        """

    func run(_ file: DialectFile, _ events: [TransportEvent]) -> [TransportEvent] {
        var interpreter = DialectInterpreter(file)
        interpreter.beginTurn(1)
        return events.flatMap { interpreter.interpret($0) }
    }

    /// Events as comparable words.
    func words(_ events: [TransportEvent]) -> [String] {
        events.map { event in
            switch event {
            case .audio(let n, let r): "audio(\(n),\(r ?? "-"))"
            case .transcript(let t): "transcript(\(t))"
            case .turnEnd: "turnEnd"
            case .serverError(let m, let c): "serverError(\(m),\(c ?? "-"))"
            case .failure(let e): "failure(\(e.kind.rawValue))"
            case .anomaly: "anomaly"
            case .responseStarted(let id): "started(\(id))"
            case .responseDone(let id): "done(\(id ?? "-"))"
            default: "other"
            }
        }
    }

    @Test func namedEventsMapToAudioTranscriptAndTheEnd() throws {
        let file = try sseDialect(
            events: edge.split(separator: "\n").map { "  " + $0.trimmingCharacters(in: .whitespaces) }.joined(
                separator: "\n") + "\n")
        let out = run(
            file,
            [
                .speechEnd(scheduled: 0, lagNs: 0, blockedNs: 0),
                sse("start", #"{"id":"r1"}"#),
                sse("text", #"{"id":"r1","text":"Hi"}"#),
                sse("audio", #"{"id":"r1","audio":"\#(Data(repeating: 0, count: 3200).base64EncodedString())"}"#),
                sse("audio", #"{"id":"r2","audio":"AAAA"}"#),
                sse("done", #"{"id":"r1"}"#),
            ])
        #expect(
            words(out) == ["started(r1)", "transcript(Hi)", "audio(4800,r1)", "anomaly", "done(r1)", "turnEnd"],
            "100 ms at 16 kHz counts as 4800 bytes of 24 kHz PCM16; another answer's audio is an anomaly")
        #expect(out.contains { if case .anomaly(let text) = $0 { text.contains("r2") } else { false } })
    }

    @Test func audioBeforeTheEndOfSpeechIsNotCounted() throws {
        let file = try sseDialect(events: "  audio: {event: audio, path: audio}\n  end: {event: done}\n")
        let out = run(file, [sse("audio", #"{"audio":"AAAA"}"#), .speechEnd(scheduled: 0, lagNs: 0, blockedNs: 0)])
        #expect(!out.contains { if case .audio = $0 { true } else { false } })
        #expect(out.contains { if case .anomaly = $0 { true } else { false } })
    }

    @Test func aDialectThatNeverMatchesEndsAsNoAudioListingTheEventsItSaw() throws {
        let file = try sseDialect(events: "  audio: {event: audio, path: audio}\n  end: {event: done}\n")
        let out = run(
            file,
            [
                .speechEnd(scheduled: 0, lagNs: 0, blockedNs: 0),
                sse("chunk", #"{"audio":"AAAA"}"#), sse("chunk", #"{"audio":"AAAA"}"#),
                sse(#"{"type":"response.created"}"#), sse("[DONE]"),
                .transferEnd(CurlTimes.zero, nil),
            ])
        guard case .failure(let error) = out.last else {
            Issue.record("no failure: \(out)")
            return
        }
        #expect(error.kind == .noAudio)
        #expect(
            error.message.contains("chunk ×2") && error.message.contains("response.created ×1")
                && error.message.contains("\"[DONE]\" ×1"), "\(error.message)")
        #expect(error.message.contains("event \"audio\", path audio"))
    }

    @Test func wavAndMuLawPayloadsCountTheirDuration() throws {
        let file = try sseDialect(
            events:
                "  audio:\n    - {event: wav, path: a, encoding: wav}\n    - {event: ulaw, path: a, encoding: mulaw, rate: 8000}\n"
        )
        let wav = WAVContainer.encode([UInt8](repeating: 0, count: 1600), format: AudioFormat(.pcm16, rate: 8_000))
        let out = run(
            file,
            [
                .speechEnd(scheduled: 0, lagNs: 0, blockedNs: 0),
                sse("wav", #"{"a":"\#(Data(wav).base64EncodedString())"}"#),
                sse("ulaw", #"{"a":"\#(Data(repeating: 0xFF, count: 800).base64EncodedString())"}"#),
                sse("wav", #"{"a":"bm90IGEgd2F2"}"#),
            ])
        #expect(words(Array(out.prefix(2))) == ["audio(4800,-)", "audio(4800,-)"], "100 ms each")
        guard case .failure(let error) = out.last else {
            Issue.record("\(out)")
            return
        }
        #expect(error.kind == .protocol && error.message.contains("WAV"))
    }

    @Test func binaryWebSocketFramesAreAudioInTheDeclaredFormat() throws {
        let file = try dialect(
            """
            name: b
            transport: websocket
            audio: {frame: binary}
            end_of_speech: {send: [{type: end}]}
            events:
              binary: {encoding: pcm16, rate: 16000}
              error: {match: {type: error}, message: message, fatal: false}
              end: {match: {type: response.end}}
            """)
        let out = run(
            file,
            [
                .speechEnd(scheduled: 0, lagNs: 0, blockedNs: 0),
                .webSocketMessage(.binary([UInt8](repeating: 0, count: 3200))),
                .webSocketMessage(.text(#"{"type":"error","message":"slow down"}"#)),
                .webSocketMessage(.text(#"{"type":"response.end"}"#)),
            ])
        #expect(words(out) == ["audio(4800,-)", "serverError(slow down,-)", "turnEnd"])
        let ws = try FileWebSocketDialect(file)
        #expect(ws.audioMessage([9, 9], turn: 1) == .binary([9, 9]))
        #expect(ws.endOfSpeechMessages(turn: 1) == [.text(#"{"type":"end"}"#)])
    }

    @Test func aFatalErrorEventFailsTheTurnWithTheServersMessage() throws {
        let file = try sseDialect(
            events: "  audio: {path: audio}\n  error: {has: error, message: error.message, code: error.code}\n")
        let out = run(
            file,
            [.speechEnd(scheduled: 0, lagNs: 0, blockedNs: 0), sse(#"{"error":{"message":"quota","code":"429"}}"#)])
        #expect(words(out) == ["serverError(quota,429)", "failure(server_error)"])
        guard case .failure(let error) = out.last else {
            Issue.record("\(out)")
            return
        }
        #expect(error.kind == .serverError && error.message.contains("quota"))
    }
}
