import CPosix
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A connection's client as an `IOLoop` drives it. Every method is called on the loop's thread.
protocol IOLoopClient: AnyObject, Sendable {
    /// Work may be due: a time it scheduled came, or another thread asked for service.
    func service(now: Int64)
    /// A socket it watches is ready (`EPOLLIN`, `EPOLLOUT`, `EPOLLERR`, `EPOLLHUP` bits).
    func socketReady(_ events: UInt32)
    /// A transfer it added to the loop's multi handle finished (nil: it succeeded).
    func transferDone(_ result: CurlEasy.CurlError?)
}

extension IOLoopClient {
    func socketReady(_ events: UInt32) {}
    func transferDone(_ result: CurlEasy.CurlError?) {}
}

/// One I/O thread multiplexing many connections: an epoll instance for their sockets, a libcurl
/// multi handle in socket mode for the HTTP transfers (and the WebSocket connects), and a timer
/// heap for the replay schedule, slept on to the nanosecond (`epoll_pwait2`, 1 µs timer slack).
///
/// Connections stamp their reads right after the read returns, inside the loop's dispatch, so
/// a timestamp never waits for a hop to another thread. Other threads only schedule work
/// (`schedule`); everything that touches a socket or a curl handle happens on the loop's thread.
///
/// An `IOLoopGroup` holds the loops (one per core; for real-time loops one fewer); each new
/// connection takes the next one.
final class IOLoop: @unchecked Sendable {
    /// A scheduled service of a client.
    private struct Timer {
        var due: Int64
        var seq: UInt64
        var client: any IOLoopClient
    }

    /// The timer heap and when the loop plans to wake, shared with scheduling threads.
    private struct Schedule {
        var heap: [Timer] = []
        var seq: UInt64 = 0
        /// While the loop sleeps: when it will wake by itself (`Int64.max`: never). While it runs:
        /// `Int64.min` (it looks at the heap again before sleeping, so no wake-up is needed).
        var plannedWake: Int64 = .min

        mutating func push(_ timer: Timer) {
            heap.append(timer)
            var child = heap.count - 1
            while child > 0 {
                let parent = (child - 1) / 2
                guard Self.earlier(heap[child], heap[parent]) else { break }
                heap.swapAt(child, parent)
                child = parent
            }
        }

        mutating func pop() -> Timer {
            let top = heap[0]
            let last = heap.removeLast()
            if !heap.isEmpty {
                heap[0] = last
                var parent = 0
                while true {
                    let left = 2 * parent + 1
                    let right = left + 1
                    var smallest = parent
                    if left < heap.count, Self.earlier(heap[left], heap[smallest]) { smallest = left }
                    if right < heap.count, Self.earlier(heap[right], heap[smallest]) { smallest = right }
                    guard smallest != parent else { break }
                    heap.swapAt(parent, smallest)
                    parent = smallest
                }
            }
            return top
        }

        static func earlier(_ a: Timer, _ b: Timer) -> Bool {
            a.due != b.due ? a.due < b.due : a.seq < b.seq
        }
    }

    /// Who watches a socket.
    private enum Watcher {
        /// libcurl, through one of the loop's multi handles.
        case curl(CurlMulti)
        case client(any IOLoopClient)
    }

    let name: String
    private let epoll: Int32
    private let wakeDescriptor: Int32
    private let schedule = Mutex(Schedule())
    private let started = Atomic(false)

    // Loop-thread state.
    /// The multi handle the HTTP transfers share (and with it a connection cache).
    private var multi: CurlMulti!
    /// Connect-only handles' own multi handles whose timeout is pending.
    private var timedPrivate: [ObjectIdentifier: CurlMulti] = [:]
    private var watchers: [Int32: Watcher] = [:]
    private var transfers: [UnsafeMutableRawPointer: (easy: CurlEasy, client: any IOLoopClient, multi: CurlMulti)] = [:]
    /// The buffer every connection on this loop reads into (one read at a time).
    var readBuffer = [UInt8](repeating: 0, count: 64 << 10)

    /// Whether the thread asks for real-time priority, and who hears whether it got it.
    private let realtime: Bool
    private let noteRealtime: @Sendable (Bool) -> Void

    init(name: String, realtime: Bool = false, noteRealtime: @escaping @Sendable (Bool) -> Void = { _ in }) {
        self.name = name
        self.realtime = realtime
        self.noteRealtime = noteRealtime
        epoll = ttfa_epoll_create()
        wakeDescriptor = ttfa_eventfd()
        precondition(epoll >= 0 && wakeDescriptor >= 0, "epoll/eventfd failed: errno \(errno)")
        _ = ttfa_epoll_ctl(epoll, EPOLL_CTL_ADD, wakeDescriptor, UInt32(EPOLLIN.rawValue))
    }

    // MARK: any thread

    /// Services `client` on the loop's thread at `due` (monotonic ns; now or earlier: at once).
    /// Extra services are harmless: a client checks what is due each time.
    func schedule(_ client: any IOLoopClient, at due: Int64) {
        startOnce()
        let wake = schedule.withLock { s -> Bool in
            s.seq &+= 1
            s.push(Timer(due: due, seq: s.seq, client: client))
            return due < s.plannedWake
        }
        if wake {
            var one: UInt64 = 1
            _ = write(wakeDescriptor, &one, 8)
        }
    }

    private func startOnce() {
        guard started.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else {
            return
        }
        let thread = Thread { [self] in
            tightenTimerSlack()
            noteRealtime(realtime && ttfa_set_realtime(1) == 0)
            multi = CurlMulti(loop: self, socket: loopSocketCallback, timer: loopTimerCallback)
            run()
        }
        thread.name = name
        thread.stackSize = 1 << 20
        thread.start()
    }

    // MARK: loop thread

    /// Watches `fd` for `events` (EPOLLIN, EPOLLOUT) on behalf of `client`, taking it over from
    /// libcurl if libcurl was watching it (a connect-only connection).
    func watch(_ fd: Int32, events: UInt32, for client: any IOLoopClient) {
        let op = watchers[fd] == nil ? EPOLL_CTL_ADD : EPOLL_CTL_MOD
        watchers[fd] = .client(client)
        _ = ttfa_epoll_ctl(epoll, op, fd, events)
    }

    /// Stops watching `fd` (before its handle closes it).
    func unwatch(_ fd: Int32) {
        guard watchers.removeValue(forKey: fd) != nil else { return }
        _ = ttfa_epoll_ctl(epoll, EPOLL_CTL_DEL, fd, 0)
    }

    /// Starts `easy`'s transfer on the loop's multi handle; `client.transferDone` reports its end.
    /// A connect-only handle must stay added while its connection is used.
    func add(_ easy: CurlEasy, for client: any IOLoopClient) {
        transfers[easy.handle] = (easy, client, multi)
        easy.clearError()
        multi.add(easy)
    }

    /// Starts `easy`'s connect-only transfer on a multi handle of its own, whose connection
    /// cache holds nothing but this connection: in a shared cache libcurl counts a connect-only
    /// connection as idle, and another transfer's housekeeping closes idle connections older
    /// than `CURLOPT_MAXAGE_CONN` (118 s) — a WebSocket's socket closed under its feet two
    /// minutes into a run, its descriptor number free for the next socket. A cache of one also
    /// makes libcurl's connection lookup in `curl_easy_send`/`recv` (TLS) constant-time.
    /// `remove` closes the connection with the handle.
    func addConnectOnly(_ easy: CurlEasy, for client: any IOLoopClient) {
        let own = CurlMulti(loop: self, socket: loopSocketCallback, timer: loopTimerCallback, connectionLimit: 1)
        transfers[easy.handle] = (easy, client, own)
        easy.clearError()
        own.add(easy)
    }

    /// Takes `easy` off its multi handle (a transfer still running is abandoned and its
    /// connection closed; a connect-only handle's connection is closed). Call before the handle
    /// is cleaned up.
    func remove(_ easy: CurlEasy) {
        guard let entry = transfers.removeValue(forKey: easy.handle) else { return }
        entry.multi.remove(easy)
        if entry.multi !== multi {
            entry.multi.close()
            // After the close: its callbacks may have run during it.
            timedPrivate.removeValue(forKey: ObjectIdentifier(entry.multi))
        }
    }

    fileprivate func curlWatch(_ fd: Int32, _ interest: CurlMulti.Interest, _ owner: CurlMulti) {
        if case .client = watchers[fd] { return }  // a connect-only socket its client now owns
        switch interest {
        case .remove:
            if watchers.removeValue(forKey: fd) != nil { _ = ttfa_epoll_ctl(epoll, EPOLL_CTL_DEL, fd, 0) }
        case .read, .write, .readWrite:
            var events: UInt32 = 0
            if interest != .write { events |= UInt32(EPOLLIN.rawValue) }
            if interest != .read { events |= UInt32(EPOLLOUT.rawValue) }
            let op = watchers[fd] == nil ? EPOLL_CTL_ADD : EPOLL_CTL_MOD
            watchers[fd] = .curl(owner)
            _ = ttfa_epoll_ctl(epoll, op, fd, events)
        }
    }

    fileprivate func curlTimer(milliseconds: Int, _ owner: CurlMulti) {
        owner.timerDue = milliseconds < 0 ? nil : MonotonicClock.now() + Int64(milliseconds) * 1_000_000
        guard owner !== multi else { return }
        if owner.timerDue == nil {
            timedPrivate.removeValue(forKey: ObjectIdentifier(owner))
        } else {
            timedPrivate[ObjectIdentifier(owner)] = owner
        }
    }

    /// Runs libcurl's timeouts that are due.
    private func runCurlTimers() {
        let now = MonotonicClock.now()
        if let due = multi.timerDue, due <= now {
            multi.timerDue = nil
            multi.socketAction(nil)
            reportFinished(multi)
        }
        guard !timedPrivate.isEmpty else { return }
        for own in Array(timedPrivate.values) {
            guard let due = own.timerDue, due <= now else { continue }
            own.timerDue = nil
            timedPrivate.removeValue(forKey: ObjectIdentifier(own))
            own.socketAction(nil)
            reportFinished(own)
        }
    }

    /// The earliest of libcurl's pending timeouts.
    private var nextCurlTimer: Int64 {
        var next = multi.timerDue ?? .max
        for own in timedPrivate.values { next = min(next, own.timerDue ?? .max) }
        return next
    }

    private func run() {
        var fds = [Int32](repeating: 0, count: 256)
        var events = [UInt32](repeating: 0, count: 256)
        var due: [Timer] = []
        while true {
            // 1. Scheduled services and libcurl's timeout that are due.
            let now = MonotonicClock.now()
            schedule.withLock { s in
                while let first = s.heap.first, first.due <= now { due.append(s.pop()) }
            }
            for timer in due { timer.client.service(now: now) }
            due.removeAll(keepingCapacity: true)
            runCurlTimers()

            // 2. Sleep until the next of them or a socket event.
            let curlNext = nextCurlTimer
            let deadline = schedule.withLock { s -> Int64 in
                let next = min(s.heap.first?.due ?? .max, curlNext)
                s.plannedWake = next
                return next
            }
            let sleepStart = MonotonicClock.now()
            let timeout = deadline == .max ? -1 : (deadline <= sleepStart ? 0 : deadline - sleepStart)
            let count = timeout == 0 ? 0 : Int(ttfa_epoll_wait_ns(epoll, &fds, &events, 256, timeout))
            schedule.withLock { $0.plannedWake = .min }

            // 3. Sockets, in the order the kernel reported them.
            for index in 0..<max(0, count) {
                let fd = fds[index]
                let ready = events[index]
                if fd == wakeDescriptor {
                    var value: UInt64 = 0
                    _ = read(wakeDescriptor, &value, 8)
                    continue
                }
                switch watchers[fd] {
                case .client(let client):
                    client.socketReady(ready)
                case .curl(let owner):
                    owner.socketAction(
                        fd, readable: ready & UInt32(EPOLLIN.rawValue) != 0,
                        writable: ready & UInt32(EPOLLOUT.rawValue) != 0,
                        failed: ready & UInt32(EPOLLERR.rawValue | EPOLLHUP.rawValue) != 0)
                    reportFinished(owner)
                case nil:
                    break
                }
            }
        }
    }

    private func reportFinished(_ owner: CurlMulti) {
        for (easy, error) in owner.finished({ transfers[$0]?.easy }) {
            transfers[easy.handle]?.client.transferDone(error)
        }
    }
}

/// epoll's event bits, for the loop's clients.
enum IOEvents {
    static let readable = UInt32(EPOLLIN.rawValue)
    static let writable = UInt32(EPOLLOUT.rawValue)
    /// An error or hang-up: a read or write tells which.
    static let failed = UInt32(EPOLLERR.rawValue | EPOLLHUP.rawValue)
}

/// The I/O loops a run's transports share, each new connection on the next. A run makes one
/// (`RunSession`, with the plan's real-time choice) and passes it to every transport through
/// `TransportSettings.loops`; code that makes none (tests, a library user) gets `standard`.
package final class IOLoopGroup: Sendable {
    /// A group without real-time priority, one loop per core: the default of
    /// `TransportSettings`. Its threads start with its first connection.
    package static let standard = IOLoopGroup(realtime: false)

    let loops: [IOLoop]
    private let counter = Atomic(0)
    private let granted: LockedBox<Bool?>
    /// Whether real-time priority was asked for (`TTFA_IO_REALTIME=1` or `0` overrides).
    package let realtimeRequested: Bool

    /// - Parameters:
    ///   - realtime: the loops ask for real-time priority (`SCHED_FIFO` 1) where the system
    ///     allows it.
    ///   - count: how many loops (nil: `defaultCount`).
    package init(realtime: Bool, count: Int? = nil) {
        let requested =
            switch ProcessInfo.processInfo.environment["TTFA_IO_REALTIME"] {
            case "1": true
            case "0": false
            default: realtime
            }
        let granted = LockedBox<Bool?>(nil)
        realtimeRequested = requested
        self.granted = granted
        loops = (0..<max(1, count ?? Self.defaultCount(realtime: requested))).map { index in
            IOLoop(name: "ttfa.io.\(index)", realtime: requested) { ok in granted.withLock { $0 = ($0 ?? true) && ok } }
        }
    }

    /// How many loops the group has.
    package var loopCount: Int { loops.count }

    /// One loop per core — less one when the loops run as real-time threads, so they never
    /// take every core from ttfa's bookkeeping, the kernel's network work and a server on the
    /// same machine (on two cores: one loop). `TTFA_IO_THREADS` overrides.
    static func defaultCount(realtime: Bool) -> Int {
        if let text = ProcessInfo.processInfo.environment["TTFA_IO_THREADS"], let n = Int(text), (1...64).contains(n) {
            return n
        }
        let cores = max(1, ProcessInfo.processInfo.activeProcessorCount)
        return realtime ? max(1, cores - 1) : cores
    }

    /// Whether the I/O loops run as real-time threads (SCHED_FIFO 1): when the machine runs out
    /// of CPU, the replay clock and the timestamps of reads still come first, as an audio
    /// callback does. Nil until a loop has started; false when not asked for or without the
    /// privilege (root, CAP_SYS_NICE or an RLIMIT_RTPRIO allowance).
    package var realtimeIO: Bool? { granted.withLock { $0 } }

    /// The loop for a new connection (round robin).
    func next() -> IOLoop {
        let n = counter.wrappingAdd(1, ordering: .relaxed).oldValue
        return loops[n % loops.count]
    }
}

private let loopSocketCallback: CurlMulti.SocketCallback = { _, socket, what, context, _ in
    let multi = Unmanaged<CurlMulti>.fromOpaque(context!).takeUnretainedValue()
    multi.loop.curlWatch(socket, CurlMulti.interest(what), multi)
    return 0
}

private let loopTimerCallback: CurlMulti.TimerCallback = { _, milliseconds, context in
    let multi = Unmanaged<CurlMulti>.fromOpaque(context!).takeUnretainedValue()
    multi.loop.curlTimer(milliseconds: milliseconds, multi)
    return 0
}
