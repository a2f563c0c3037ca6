import Foundation
import Testing

/// Runs the built `ttfa` as a user would.
struct Command {
    var status: Int32
    var stdout: String
    var stderr: String

    var lines: [String] { stdout.split(separator: "\n").map(String.init) }

    /// The JSON lines of a trace.
    var jsonLines: [[String: Any]] {
        lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }
}

/// Runs blocking work on its own thread: the cooperative pool has only as many threads as cores
/// (two here), and blocking one would stall the in-process server other tests use.
func onDedicatedThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread {
            continuation.resume(with: Result { try work() })
        }.start()
    }
}

/// The suite runs dozens of `ttfa` processes at once on a two-core machine: with a real-time I/O
/// loop in each (their default where allowed), busy loops of other processes can hold both cores
/// and starve the kernel's deferred network work and the in-process servers — with them, one
/// full-suite run in three saw a trial's answer arrive about 200 ms late (322 vs 123 ms), and
/// the hostile suite saw 200 ms stalls too. So processes run with ordinary loops unless a test's
/// `environment` sets `TTFA_IO_REALTIME` (an empty value: the flag decides). The README tells
/// users the same about running several processes at once.
func ttfa(_ arguments: [String], environment: [String: String] = [:], currentDirectory: URL? = nil) async throws -> Command {
    try await command(ttfaExecutable, arguments, environment: ["TTFA_IO_REALTIME": "0"].merging(environment) { $1 },
                      currentDirectory: currentDirectory)
}

/// Runs a program to its end, collecting its output.
func command(_ executable: URL, _ arguments: [String], environment: [String: String] = [:], currentDirectory: URL? = nil) async throws -> Command {
    try await onDedicatedThread {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        if let currentDirectory { process.currentDirectoryURL = currentDirectory }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Drain stderr on another thread so neither pipe can fill up and block the process.
        let errData = LockedData()
        let errThread = Thread { errData.set(err.fileHandleForReading.readDataToEndOfFile()) }
        errThread.start()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let e = errData.waitForValue()
        return Command(status: process.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }
}

/// Data handed from one thread to another.
final class LockedData: @unchecked Sendable {
    private let condition = NSCondition()
    private var value: Data?

    func set(_ data: Data) {
        condition.lock()
        value = data
        condition.signal()
        condition.unlock()
    }

    func waitForValue() -> Data {
        condition.lock()
        defer { condition.unlock() }
        while value == nil { condition.wait() }
        return value!
    }
}

/// `ttfa serve --port 0` in the background; reads the port from its first line.
final class ServeProcess: @unchecked Sendable {
    let process = Process()
    let port: Int

    init(arguments: [String] = []) async throws {
        let process = self.process
        process.executableURL = ttfaExecutable
        process.arguments = ["serve", "--port", "0"] + arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let text = try await onDedicatedThread {
            var line = Data()
            while true {
                let byte = out.fileHandleForReading.readData(ofLength: 1)
                if byte.isEmpty || byte == Data("\n".utf8) { break }
                line.append(byte)
            }
            return String(decoding: line, as: UTF8.self)
        }
        guard text.hasPrefix("listening on http://127.0.0.1:") || text.hasPrefix("listening on https://127.0.0.1:"),
              let port = Int(text.split(separator: ":").last ?? "") else {
            process.terminate()
            throw CocoaError(.fileReadCorruptFile, userInfo: [NSLocalizedDescriptionKey: "unexpected first line from ttfa serve: \(text)"])
        }
        self.port = port
    }

    /// SIGINT (graceful shutdown) and wait, off the cooperative pool. Returns whether the
    /// server exited within `seconds`; if not, it is killed.
    @discardableResult
    func stop(within seconds: Double = 30) async -> Bool {
        let process = self.process
        process.interrupt()
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        guard !process.isRunning else {
            kill(process.processIdentifier, SIGKILL)
            _ = try? await onDedicatedThread { process.waitUntilExit() }
            return false
        }
        return true
    }
}

/// Runs `body` with a `ttfa serve` process and stops it afterwards.
func withServe(_ arguments: [String] = [], _ body: (ServeProcess) async throws -> Void) async throws {
    let server = try await ServeProcess(arguments: arguments)
    do {
        try await body(server)
    } catch {
        await server.stop()
        throw error
    }
    await server.stop()
}

@Suite("The ttfa executable", .serialized)
struct ExecutableTests {
    @Test func traceAgainstServePrintsCompleteTracesForBothTransports() async throws {
        try await withServe { server in
            for (transport, url) in [("websocket", "ws://127.0.0.1:\(server.port)/v1/realtime?first_audio_ms=300"),
                                     ("sse", "http://127.0.0.1:\(server.port)/v1/chat/completions?first_audio_ms=300")] {
                let result = try await ttfa(["trace", "--transport", transport, "--url", url])
                #expect(result.status == 0, "\(transport): \(result.stderr)")
                let lines = result.jsonLines
                #expect(lines.count == result.lines.count, "every line is JSON")
                let types = lines.compactMap { $0["type"] as? String }
                #expect(types.first == (transport == "websocket" ? "connect" : "speech.end"), "SSE connects when the POST starts, at speech end")
                #expect(types.contains("speech.end") && types.contains("audio"))
                #expect(types.contains(transport == "websocket" ? "ws.message" : "sse.event"))
                #expect(types.last == "done")
                let times = lines.compactMap { $0["t_ms"] as? Double }
                #expect(times.count == lines.count)
                let speechEnd = try #require(lines.first { $0["type"] as? String == "speech.end" }?["t_ms"] as? Double)
                let firstAudio = try #require(lines.first { $0["type"] as? String == "audio" }?["t_ms"] as? Double)
                #expect(firstAudio - speechEnd >= 300, "\(transport): first audio \(firstAudio - speechEnd) ms after speech end")
                #expect(firstAudio - speechEnd < 300 + 1000, "and not absurdly later")
                let done = try #require(lines.last)
                #expect(done["status"] as? String == "ok")
                #expect(abs((done["ttfa_ms"] as? Double ?? 0) - (firstAudio - speechEnd)) < 0.01)
            }
        }
    }

    @Test func faultsEndInAnErrorLineWithExitCode3() async throws {
        try await withServe { server in
            let cases: [(String, String, String)] = [
                ("websocket", "reject-upgrade", "handshake"),
                ("websocket", "close-before-upgrade", "handshake"),
                ("websocket", "stall", "timeout"),
                ("sse", "http-429", "http_status"),
                ("sse", "bad-json", "protocol"),
            ]
            for (transport, fault, kind) in cases {
                let path = transport == "websocket" ? "ws://127.0.0.1:\(server.port)/v1/realtime" : "http://127.0.0.1:\(server.port)/v1/chat/completions"
                let result = try await ttfa(["trace", "--transport", transport, "--url", "\(path)?fault=\(fault)", "--timeout", "1"])
                #expect(result.status == 3, "\(fault)")
                let lines = result.jsonLines
                let error = try #require(lines.first { $0["type"] as? String == "error" }, "\(fault)")
                #expect(error["kind"] as? String == kind, "\(fault): \(error)")
                #expect(lines.last?["type"] as? String == "done")
                #expect(lines.last?["status"] as? String == kind)
            }
        }
    }

    @Test func aTraceKeepsPrintingTheWireAfterAnEventTheDialectCannotRead() async throws {
        try await withServe { server in
            for (transport, url) in [("sse", "http://127.0.0.1:\(server.port)/v1/chat/completions?fault=garbage-event"),
                                     ("websocket", "ws://127.0.0.1:\(server.port)/v1/realtime?fault=garbage-event")] {
                let result = try await ttfa(["trace", "--transport", transport, "--url", url, "--timeout", "5"])
                #expect(result.status == 3)
                let types = result.jsonLines.compactMap { $0["type"] as? String }
                let error = try #require(types.firstIndex(of: "error"), "\(transport): \(types)")
                let wire = transport == "sse" ? "sse.event" : "ws.message"
                #expect(types[(error + 1)...].filter { $0 == wire }.count >= 5, "\(transport): the rest of the answer is still shown: \(types)")
                if transport == "sse" {
                    #expect(result.jsonLines.last { $0["type"] as? String == "sse.event" }?["data"] as? String == "[DONE]")
                } else {
                    #expect(result.jsonLines.contains { ($0["text"] as? String)?.contains("\"response.done\"") == true })
                }
                #expect(types.last == "done")
            }
        }
    }

    @Test func serveStopsPromptlyAfterServingAStalledStream() async throws {
        let server = try await ServeProcess()
        for transport in ["sse", "websocket"] {
            let path = transport == "websocket" ? "ws://127.0.0.1:\(server.port)/v1/realtime" : "http://127.0.0.1:\(server.port)/v1/chat/completions"
            let result = try await ttfa(["trace", "--transport", transport, "--url", "\(path)?fault=stall", "--timeout", "1"])
            #expect(result.status == 3)
        }
        #expect(await server.stop(within: 15), "graceful shutdown ends stalled responses")
    }

    @Test func missingOrNonWAVAudioExits2NamingTheFile() async throws {
        let missing = try await ttfa(["trace", "--transport", "sse", "--url", "http://127.0.0.1:9/x", "--audio", "/no/such/file.wav"])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("/no/such/file.wav"))
        #expect(missing.stdout.isEmpty, "nothing measured")
        let notWAV = FileManager.default.temporaryDirectory.appendingPathComponent("ttfa-not-a-wav-\(UUID()).wav")
        try Data("hello".utf8).write(to: notWAV)
        defer { try? FileManager.default.removeItem(at: notWAV) }
        let bad = try await ttfa(["trace", "--transport", "websocket", "--url", "ws://127.0.0.1:9/x", "--audio", notWAV.path])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains(notWAV.lastPathComponent) && bad.stderr.contains("WAV"))
    }

    @Test func usageErrorsExit2() async throws {
        let result = try await ttfa(["trace", "--transport", "carrier-pigeon", "--url", "x"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("carrier-pigeon"))
    }

    @Test func headerSecretsNeverReachTheTrace() async throws {
        try await withServe { server in
            let result = try await ttfa(
                ["trace", "--transport", "sse", "--url", "http://127.0.0.1:\(server.port)/v1/chat/completions?fault=http-500",
                 "--header", "Authorization: Bearer $TTFA_TEST_SECRET"],
                environment: ["TTFA_TEST_SECRET": "sk-sentinel-7d1c0ffee"])
            #expect(result.status == 3)
            #expect(!result.stdout.contains("sk-sentinel") && !result.stderr.contains("sk-sentinel"))
        }
    }
}
