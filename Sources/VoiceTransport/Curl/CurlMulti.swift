import CCurl

/// A libcurl multi handle driving transfers on the calling thread without blocking in them, so
/// the same thread can also run a send schedule (the streaming upload). Not thread-safe: one
/// owner thread creates, uses and destroys it, with the easy handles it drives.
final class CurlMulti {
    private let handle: UnsafeMutableRawPointer

    init() {
        _ = CurlEasy.globalInit
        guard let multi = curl_multi_init() else { fatalError("curl_multi_init returned NULL (out of memory)") }
        handle = multi
    }

    deinit {
        curl_multi_cleanup(handle)
    }

    func add(_ easy: CurlEasy) {
        _ = curl_multi_add_handle(handle, easy.handle)
    }

    func remove(_ easy: CurlEasy) {
        _ = curl_multi_remove_handle(handle, easy.handle)
    }

    /// Lets libcurl do what it can now; returns how many transfers are still running.
    @discardableResult
    func perform() -> Int {
        var running: Int32 = 0
        _ = curl_multi_perform(handle, &running)
        return Int(running)
    }

    /// Waits for the transfers' sockets, `extraDescriptor` (readable), or `timeoutMs`.
    func poll(extraDescriptor: Int32, timeoutMs: Int32) {
        var extra = curl_waitfd(fd: extraDescriptor, events: Int16(CURL_WAIT_POLLIN), revents: 0)
        _ = curl_multi_poll(handle, &extra, 1, timeoutMs, nil)
    }

    /// The transfers that finished since the last call, with their results.
    func finished() -> [(easy: UnsafeMutableRawPointer, code: CURLcode)] {
        var done: [(UnsafeMutableRawPointer, CURLcode)] = []
        var remaining: Int32 = 0
        while let message = curl_multi_info_read(handle, &remaining) {
            guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle else { continue }
            done.append((easy, message.pointee.data.result))
        }
        return done
    }
}
