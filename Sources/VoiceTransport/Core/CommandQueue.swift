import CPosix
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A time-ordered queue of work for one I/O thread, with an `eventfd` that wakes the thread
/// when something is added. Producers (any thread) enqueue with a due time; the I/O thread
/// takes what is due and sleeps in `ppoll` until the next due time or a wake-up.
final class CommandQueue<Command: Sendable>: Sendable {
    private struct Entry: Sendable {
        var due: Int64
        var command: Command
    }

    private let entries = Mutex<[Entry]>([])
    /// Readable when commands were added; the I/O thread polls it beside its socket.
    let wakeDescriptor: Int32

    init() {
        wakeDescriptor = ttfa_eventfd()
        precondition(wakeDescriptor >= 0, "eventfd failed: errno \(errno)")
    }

    deinit {
        close(wakeDescriptor)
    }

    /// Adds a command due at `due` (monotonic ns). Commands with equal due times keep their order.
    func enqueue(_ command: Command, due: Int64) {
        entries.withLock { entries in
            let index = entries.lastIndex { $0.due <= due }.map { $0 + 1 } ?? 0
            entries.insert(Entry(due: due, command: command), at: index)
        }
        wake()
    }

    /// Wakes the I/O thread without adding a command (state changed elsewhere).
    func wake() {
        var one: UInt64 = 1
        _ = write(wakeDescriptor, &one, 8)
    }

    /// Clears the wake-up counter; call after `ppoll` reported the descriptor readable.
    func drainWakeups() {
        var value: UInt64 = 0
        _ = read(wakeDescriptor, &value, 8)
    }

    /// Removes and returns the first command if it is due at `now`, with its due time.
    func popDue(now: Int64) -> (command: Command, due: Int64)? {
        entries.withLock { entries in
            guard let first = entries.first, first.due <= now else { return nil }
            entries.removeFirst()
            return (first.command, first.due)
        }
    }

    /// Due time of the next command, if any.
    var nextDue: Int64? {
        entries.withLock { $0.first?.due }
    }

    /// Removes everything (connection gone).
    func removeAll() {
        entries.withLock { $0.removeAll() }
    }

    /// Removes the commands that match.
    func removeAll(where match: (Command) -> Bool) {
        entries.withLock { $0.removeAll { match($0.command) } }
    }
}

/// Waits on `descriptors` for `events` until `deadline` (monotonic ns, nil: forever).
/// Returns the `revents` of each descriptor.
func pollDescriptors(_ descriptors: [(fd: Int32, events: Int16)], until deadline: Int64?) -> [Int16] {
    var fds = descriptors.map { pollfd(fd: $0.fd, events: $0.events, revents: 0) }
    let timeout = deadline.map { max(0, $0 - MonotonicClock.now()) } ?? -1
    let result = ttfa_ppoll(&fds, UInt(fds.count), timeout)
    if result < 0 { return fds.map { _ in 0 } }
    return fds.map(\.revents)
}
