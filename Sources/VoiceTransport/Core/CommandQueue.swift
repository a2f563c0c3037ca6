import Synchronization

/// A time-ordered queue of one connection's work: producers (any thread) enqueue with a due
/// time and schedule the connection's `IOLoop`; the loop takes what is due.
final class CommandQueue<Command: Sendable>: Sendable {
    private struct Entry: Sendable {
        var due: Int64
        var command: Command
    }

    private let entries = Mutex<[Entry]>([])

    /// Adds a command due at `due` (monotonic ns). Commands with equal due times keep their order.
    func enqueue(_ command: Command, due: Int64) {
        entries.withLock { entries in
            if let last = entries.last, last.due > due {
                let index = entries.lastIndex { $0.due <= due }.map { $0 + 1 } ?? 0
                entries.insert(Entry(due: due, command: command), at: index)
            } else {
                entries.append(Entry(due: due, command: command))
            }
        }
    }

    /// Removes and returns the first command if it is due at `now`, with its due time.
    func popDue(now: Int64) -> (command: Command, due: Int64)? {
        entries.withLock { entries in
            guard let first = entries.first, first.due <= now else { return nil }
            entries.removeFirst()
            return (first.command, first.due)
        }
    }

    /// The next command and its due time, left in the queue.
    var first: (command: Command, due: Int64)? {
        entries.withLock { $0.first.map { ($0.command, $0.due) } }
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
