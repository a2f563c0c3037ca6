import CCurl

/// A libcurl multi handle in socket mode, owned by one `IOLoop`: libcurl says which sockets to
/// watch and when its next timeout is (through the loop's callbacks), the loop waits for them
/// with epoll and calls `socketAction`. Not thread-safe: the loop's thread creates, uses and
/// destroys it, with the easy handles it drives.
final class CurlMulti {
    private let handle: UnsafeMutableRawPointer

    /// What to watch on a socket (libcurl's `CURL_POLL_*`).
    enum Interest {
        case read, write, readWrite, remove
    }

    typealias SocketCallback =
        @convention(c) (
            UnsafeMutableRawPointer?, curl_socket_t, Int32, UnsafeMutableRawPointer?, UnsafeMutableRawPointer?
        ) -> Int32
    typealias TimerCallback = @convention(c) (UnsafeMutableRawPointer?, Int, UnsafeMutableRawPointer?) -> Int32

    /// The loop that watches this handle's sockets and keeps its timeout.
    unowned let loop: IOLoop
    /// When libcurl wants `socketAction(nil)` next (nil: no timeout pending); kept by the loop.
    var timerDue: Int64?
    private var closed = false

    /// - Parameter connectionLimit: idle connections the cache keeps (the loop's shared handle
    ///   keeps every one however many sessions share it).
    init(loop: IOLoop, socket: SocketCallback, timer: TimerCallback, connectionLimit: Int = 100_000) {
        _ = CurlEasy.globalInit
        guard let multi = curl_multi_init() else { fatalError("curl_multi_init returned NULL (out of memory)") }
        handle = multi
        self.loop = loop
        // The callbacks find this handle (and through it the loop) from their context.
        ttfa_curl_multi_socket_mode(multi, socket, timer, Unmanaged.passUnretained(self).toOpaque())
        ttfa_curl_multi_maxconnects(multi, connectionLimit)
    }

    /// Closes the handle and the connections in its cache (its callbacks may still run meanwhile,
    /// so this is not left to `deinit`).
    func close() {
        guard !closed else { return }
        closed = true
        curl_multi_cleanup(handle)
    }

    deinit {
        // Only handles that were never closed get here with a live multi: with callbacks that
        // must not reach an object being deinitialised, they are switched off first.
        if !closed {
            ttfa_curl_multi_socket_mode(handle, nil, nil, nil)
            curl_multi_cleanup(handle)
        }
    }

    static func interest(_ what: Int32) -> Interest {
        switch what {
        case TTFA_CURL_POLL_IN: .read
        case TTFA_CURL_POLL_OUT: .write
        case TTFA_CURL_POLL_REMOVE: .remove
        default: .readWrite
        }
    }

    func add(_ easy: CurlEasy) {
        _ = curl_multi_add_handle(handle, easy.handle)
    }

    func remove(_ easy: CurlEasy) {
        _ = curl_multi_remove_handle(handle, easy.handle)
    }

    /// Lets libcurl act on `socket` (readable, writable, failed) — or, with nil, on its timeout.
    func socketAction(_ socket: Int32?, readable: Bool = false, writable: Bool = false, failed: Bool = false) {
        var mask: Int32 = 0
        if readable { mask |= TTFA_CURL_CSELECT_IN }
        if writable { mask |= TTFA_CURL_CSELECT_OUT }
        if failed { mask |= TTFA_CURL_CSELECT_ERR }
        guard !closed else { return }
        var running: Int32 = 0
        _ = curl_multi_socket_action(handle, socket ?? TTFA_CURL_SOCKET_TIMEOUT, socket == nil ? 0 : mask, &running)
    }

    /// The transfers that finished since the last call, with their errors (nil: success);
    /// `lookup` finds the `CurlEasy` of a handle (nil: not one of ours, skipped).
    func finished(_ lookup: (UnsafeMutableRawPointer) -> CurlEasy?) -> [(easy: CurlEasy, error: CurlEasy.CurlError?)] {
        var done: [(CurlEasy, CurlEasy.CurlError?)] = []
        guard !closed else { return done }
        var remaining: Int32 = 0
        while let message = curl_multi_info_read(handle, &remaining) {
            guard message.pointee.msg == CURLMSG_DONE, let pointer = message.pointee.easy_handle,
                let easy = lookup(pointer)
            else { continue }
            done.append((easy, easy.result(message.pointee.data.result)))
        }
        return done
    }
}
