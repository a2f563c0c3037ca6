import Monitoring
import Testing

@Suite("Metric labels: no secrets, bounded series")
struct MetricLabelTests {
    @Test("the endpoint label is the host and path, never credentials, query or fragment")
    func endpointLabelDropsSecrets() {
        #expect(
            EndpointLabel.of("wss://user:sk-secret@api.openai.com/v1/realtime?model=gpt-realtime&key=sk-x#frag")
                == "api.openai.com/v1/realtime")
        #expect(
            EndpointLabel.of("https://edge.example.com:8443/functions/v1/voice?apikey=x")
                == "edge.example.com:8443/functions/v1/voice")
        #expect(EndpointLabel.of("https://edge.example.com:443/v1") == "edge.example.com/v1")
        #expect(EndpointLabel.of("http://127.0.0.1:80") == "127.0.0.1/")
        #expect(EndpointLabel.of("not a url?key=secret") == "not a url")
        #expect(EndpointLabel.embedded("https://127.0.0.1:41234/v1/realtime?x=1") == "embedded/v1/realtime")
    }

    @Test("a thousand distinct recordings give 20 labels and `other`, and say so once")
    func recordingLabelsAreCapped() {
        let metrics = TTFAMetrics(version: "0.0.0", commit: nil)
        var notes: [String] = []
        for index in 0..<1000 {
            var trial = trialRecord(seq: index + 1, ttfaMs: 300)
            trial.recording = "speaker-\(index).wav"
            if let note = metrics.record(trial, endpoint: "embedded/v1/realtime") { notes.append(note) }
        }
        let page = metrics.exposition(.prometheus)
        let recordings = Set(
            page.split(separator: "\n").filter { $0.hasPrefix("ttfa_time_to_first_audio_seconds_count{") }
                .compactMap { line in
                    line.split(separator: "recording=\"").dropFirst().first?.split(separator: "\"").first
                }
                .map(String.init))
        #expect(recordings.count == 21)
        #expect(recordings.contains("other"))
        #expect(page.contains("ttfa_recording_labels_folded 980"))
        #expect(notes.count == 1)
        #expect(notes.first?.contains("more than 20 distinct recordings") == true)
        #expect(notes.first?.contains("speaker-20.wav") == true)
        // Every trial is still counted.
        #expect(
            page.contains(#"ttfa_trials_total{transport="websocket",endpoint="embedded/v1/realtime",status="ok"} 1000"#)
        )
    }

    @Test("listen addresses: HOST:PORT, [IPv6]:PORT and :PORT; anything else is refused with the flag")
    func listenAddresses() throws {
        #expect(try MetricsServer.Address(parsing: "127.0.0.1:9464") == .init(host: "127.0.0.1", port: 9464))
        #expect(try MetricsServer.Address(parsing: ":9464") == .init(host: "0.0.0.0", port: 9464))
        #expect(try MetricsServer.Address(parsing: "[::1]:0") == .init(host: "::1", port: 0))
        for bad in ["9464", "localhost:http", "::1:9464", "127.0.0.1:70000"] {
            #expect(throws: MonitorInputError.self) { try MetricsServer.Address(parsing: bad) }
            do {
                _ = try MetricsServer.Address(parsing: bad)
            } catch {
                #expect(error.message.hasPrefix("--metrics-listen \(bad): give HOST:PORT"))
            }
        }
    }
}
