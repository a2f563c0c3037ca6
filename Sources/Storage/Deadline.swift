import Synchronization

/// Waits for work with a deadline that holds even when the work does not notice cancellation.
///
/// A task group cannot do this: it waits for every child before it returns, so a child stuck in
/// a library (a connection pool retrying a server that is gone) holds the caller for as long as
/// it is stuck. Here the work runs in a task of its own; when the deadline passes first the
/// caller gets nil at once and the work is cancelled and left to end when it can.
package enum Deadline {
    /// `work`'s result, or nil when `timeout` passed first. `work`'s error is rethrown. The
    /// caller's cancellation cancels `work` and returns nil.
    package static func first<T: Sendable>(
        within timeout: Duration, _ work: @escaping @Sendable () async throws -> T
    ) async throws -> T? {
        let race = Race<T>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T?, any Error>) in
                race.begin(continuation)
                let worker = Task {
                    do {
                        race.finish(.success(try await work()))
                    } catch {
                        race.finish(.failure(error))
                    }
                }
                let timer = Task {
                    try? await Task.sleep(for: timeout)
                    if race.finish(.success(nil)) { worker.cancel() }
                }
                race.onFinish(worker: worker, timer: timer)
            }
        } onCancel: {
            race.cancel()
        }
    }

    /// Resumes its continuation once: with the work's result or nil, whichever comes first.
    final class Race<T: Sendable>: Sendable {
        private struct State {
            var continuation: CheckedContinuation<T?, any Error>?
            var worker: Task<Void, Never>?
            var timer: Task<Void, Never>?
            var finished = false
        }
        private let state = Mutex(State())

        func begin(_ continuation: CheckedContinuation<T?, any Error>) {
            state.withLock { $0.continuation = continuation }
        }

        func onFinish(worker: Task<Void, Never>, timer: Task<Void, Never>) {
            let finished = state.withLock { state -> Bool in
                state.worker = worker
                state.timer = timer
                return state.finished
            }
            if finished { timer.cancel() }
        }

        /// Resumes the caller if nothing has; returns whether this call did.
        @discardableResult
        func finish(_ result: Result<T?, any Error>) -> Bool {
            let (continuation, timer) = state.withLock { state in
                let taken = (state.continuation, state.timer)
                state.continuation = nil
                state.finished = true
                return taken
            }
            guard let continuation else { return false }
            timer?.cancel()
            continuation.resume(with: result)
            return true
        }

        func cancel() {
            let worker = state.withLock { $0.worker }
            if finish(.success(nil)) { worker?.cancel() }
        }
    }
}
