import Foundation

/// What a program printed and how it exited.
package struct Command: Sendable {
    package var status: Int32
    package var stdout: String
    package var stderr: String

    package var lines: [String] { stdout.split(separator: "\n").map(String.init) }

    /// The JSON lines of a trace.
    package var jsonLines: [[String: Any]] {
        lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }
}

/// Runs blocking work on its own thread: the cooperative pool has only as many threads as cores
/// (two here), and blocking one would stall the in-process server other tests use.
package func onDedicatedThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread {
            continuation.resume(with: Result { try work() })
        }.start()
    }
}

/// The built `ttfa` executable, next to the test bundle or the benchmark (or `TTFA_BINARY`).
package var ttfaExecutable: URL {
    if let override = ProcessInfo.processInfo.environment["TTFA_BINARY"] {
        return URL(fileURLWithPath: override)
    }
    var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for _ in 0..<4 {
        let candidate = directory.appendingPathComponent("ttfa")
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        directory = directory.deletingLastPathComponent()
    }
    return Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("ttfa")
}

/// The checkout this file belongs to (examples, dialect files, scripts).
package let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// Runs the built `ttfa` as a user would.
///
/// The suite runs dozens of `ttfa` processes at once on a two-core machine: with a real-time I/O
/// loop in each (their default where allowed), busy loops of other processes can hold both cores
/// and starve the kernel's deferred network work and the in-process servers. So processes run
/// with ordinary loops unless a test's `environment` sets `TTFA_IO_REALTIME` (an empty value:
/// the flag decides). The README tells users the same about running several processes at once.
package func ttfa(_ arguments: [String], environment: [String: String] = [:], currentDirectory: URL? = nil) async throws
    -> Command
{
    try await command(
        ttfaExecutable, arguments, environment: ["TTFA_IO_REALTIME": "0"].merging(environment) { $1 },
        currentDirectory: currentDirectory)
}

/// Runs a program to its end, collecting its output.
package func command(
    _ executable: URL, _ arguments: [String], environment: [String: String] = [:], currentDirectory: URL? = nil
) async throws -> Command {
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
        return Command(
            status: process.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
            stderr: String(decoding: e, as: UTF8.self))
    }
}

/// Starts `ttfa` without waiting for it (ordinary I/O loops, as `ttfa(_:)`).
package func launch(_ arguments: [String]) throws -> (Process, Pipe) {
    let process = Process()
    process.executableURL = ttfaExecutable
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(["TTFA_IO_REALTIME": "0"]) { $1 }
    let out = Pipe()
    process.standardOutput = out
    process.standardError = FileHandle.nullDevice
    try process.run()
    return (process, out)
}

/// Data handed from one thread to another.
package final class LockedData: @unchecked Sendable {
    private let condition = NSCondition()
    private var value: Data?

    package init() {}

    package func set(_ data: Data) {
        condition.lock()
        value = data
        condition.signal()
        condition.unlock()
    }

    package func waitForValue() -> Data {
        condition.lock()
        defer { condition.unlock() }
        while value == nil { condition.wait() }
        return value!
    }
}

/// `ttfa serve --port 0` in the background; reads the port from its first line.
package final class ServeProcess: @unchecked Sendable {
    package let process = Process()
    package let port: Int

    package init(arguments: [String] = []) async throws {
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
            let port = Int(text.split(separator: ":").last ?? "")
        else {
            process.terminate()
            throw CocoaError(
                .fileReadCorruptFile,
                userInfo: [NSLocalizedDescriptionKey: "unexpected first line from ttfa serve: \(text)"])
        }
        self.port = port
    }

    /// SIGINT (graceful shutdown) and wait, off the cooperative pool. Returns whether the
    /// server exited within `seconds`; if not, it is killed.
    @discardableResult
    package func stop(within seconds: Double = 30) async -> Bool {
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
package func withServe(_ arguments: [String] = [], _ body: (ServeProcess) async throws -> Void) async throws {
    let server = try await ServeProcess(arguments: arguments)
    do {
        try await body(server)
    } catch {
        await server.stop()
        throw error
    }
    await server.stop()
}

/// Validates a JUnit report against the common schema (`Tests/Fixtures/junit.xsd`) with xmllint
/// (installed by `make test`).
package func validateJUnit(_ path: String) throws -> (valid: Bool, output: String) {
    let schema = repositoryRoot.appendingPathComponent("Tests/Fixtures/junit.xsd").path
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["xmllint", "--noout", "--schema", schema, path]
    let pipe = Pipe()
    process.standardError = pipe
    process.standardOutput = pipe
    try process.run()
    let output = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus == 0, String(decoding: output, as: UTF8.self))
}

/// A program running in the background whose stderr is read line by line as it comes (a
/// monitor's "serving …" line, a server's log), and whose stdout is collected.
package final class BackgroundProcess: @unchecked Sendable {
    package let process = Process()
    private let condition = NSCondition()
    private var errLines: [String] = []
    private var outData = Data()
    private var ended = false

    package init(_ executable: URL, _ arguments: [String], environment: [String: String] = [:]) throws {
        process.executableURL = executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        Thread { [self] in
            let data = out.fileHandleForReading.readDataToEndOfFile()
            condition.lock()
            outData = data
            condition.unlock()
        }.start()
        Thread { [self] in
            var pending = Data()
            while true {
                let chunk = err.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                pending.append(chunk)
                while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)
                    pending.removeSubrange(pending.startIndex...newline)
                    condition.lock()
                    errLines.append(line)
                    condition.broadcast()
                    condition.unlock()
                }
            }
            condition.lock()
            ended = true
            condition.broadcast()
            condition.unlock()
        }.start()
    }

    /// `ttfa` with ordinary I/O loops, as `ttfa(_:)` runs it.
    package static func ttfa(_ arguments: [String]) throws -> BackgroundProcess {
        try BackgroundProcess(ttfaExecutable, arguments, environment: ["TTFA_IO_REALTIME": "0"])
    }

    /// The stderr lines so far.
    package var stderrLines: [String] {
        condition.lock()
        defer { condition.unlock() }
        return errLines
    }

    /// Everything the program wrote on stdout (once it has ended).
    package var stdout: String {
        condition.lock()
        defer { condition.unlock() }
        return String(decoding: outData, as: UTF8.self)
    }

    /// The first stderr line containing `text`, waiting up to `timeout` seconds for it; nil when
    /// the program ended or the time ran out without one.
    package func line(containing text: String, timeout: Double) async throws -> String? {
        try await onDedicatedThread { [self] in
            let deadline = Date().addingTimeInterval(timeout)
            condition.lock()
            defer { condition.unlock() }
            while true {
                if let line = errLines.first(where: { $0.contains(text) }) { return line }
                if ended || !condition.wait(until: deadline) { return errLines.first { $0.contains(text) } }
            }
        }
    }

    /// Waits for the program to end (up to `timeout` seconds, then stops it); its exit status.
    @discardableResult
    package func waitForExit(timeout: Double) async throws -> Int32 {
        try await onDedicatedThread { [self] in
            let deadline = Date().addingTimeInterval(timeout)
            while process.isRunning && Date() < deadline { usleep(20_000) }
            if process.isRunning {
                process.terminate()
                process.waitUntilExit()
            }
            return process.terminationStatus
        }
    }

    /// Stops the program (SIGTERM) and waits for it.
    package func stop() async {
        if process.isRunning { process.terminate() }
        _ = try? await waitForExit(timeout: 10)
    }
}
