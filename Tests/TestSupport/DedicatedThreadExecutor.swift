import Foundation

/// A task executor with a thread of its own. CPU-heavy async work in a test (a report of two
/// thousand trials in a debug build takes seconds) runs there instead of on the cooperative pool:
/// that pool has one thread per core (two here), and the in-process reference server the other
/// tests talk to handles its requests on it.
package final class DedicatedThreadExecutor: TaskExecutor, @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var stopped = false

    package init() {
        Thread { [self] in run() }.start()
    }

    package func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    /// Ends the thread once the jobs queued so far have run.
    package func stop() {
        condition.lock()
        stopped = true
        condition.signal()
        condition.unlock()
    }

    private func run() {
        while true {
            condition.lock()
            while jobs.isEmpty && !stopped { condition.wait() }
            guard !jobs.isEmpty else {
                condition.unlock()
                return
            }
            let job = jobs.removeFirst()
            condition.unlock()
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}

/// Runs `body` on a thread of its own rather than the cooperative pool (see
/// `DedicatedThreadExecutor`).
package func offThePool<T: Sendable>(_ body: () async throws -> T) async throws -> T {
    let executor = DedicatedThreadExecutor()
    defer { executor.stop() }
    return try await withTaskExecutorPreference(executor) { try await body() }
}
