import Foundation
import Synchronization

/// Starts a connection's I/O thread exactly once. The thread owns its C handles for their whole
/// life and runs with 1 µs timer slack, so scheduled sends leave on time.
final class IOThread: Sendable {
    private let name: String
    private let started = Atomic(false)

    init(name: String) {
        self.name = name
    }

    /// Runs `body` on a new thread the first time; later calls do nothing.
    func startOnce(_ body: @escaping @Sendable () -> Void) {
        guard started.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else { return }
        let thread = Thread {
            tightenTimerSlack()
            body()
        }
        thread.name = name
        thread.start()
    }
}
