import CPosix
import Foundation

/// Under load, the I/O loops go first: every other thread of ttfa — the consumers that parse
/// answers, build trial records and write the database — runs at nice 5, so when the machine
/// runs out of CPU it is bookkeeping that waits, not the replay clock or the timestamp of a
/// read. (Raising a thread's nice value needs no privilege; the I/O loops keep nice 0.) Threads
/// of SwiftNIO — the embedded reference server, the link emulator, PostgreSQL's client — keep
/// theirs too: they stand in for the network and the server, which are not ttfa's to slow.
public enum ThreadPriorities {
    /// The nice value bookkeeping threads get.
    public static let bookkeepingNice: Int32 = 5

    /// Lowers every thread of this process that is not an I/O loop or SwiftNIO's to
    /// `bookkeepingNice` (new threads appear as pools grow: call it again from time to time).
    /// Returns how many threads it lowered.
    @discardableResult
    public static func lowerBookkeeping() -> Int {
        guard let tasks = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task") else { return 0 }
        var lowered = 0
        for entry in tasks {
            guard let tid = Int32(entry) else { continue }
            let comm = (try? String(contentsOfFile: "/proc/self/task/\(entry)/comm", encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            if comm.hasPrefix("ttfa.io") || comm.hasPrefix("NIO-") { continue }
            if ttfa_set_thread_nice(tid, bookkeepingNice) == 0 { lowered += 1 }
        }
        return lowered
    }
}
