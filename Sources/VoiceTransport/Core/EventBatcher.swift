/// Hands a transport's events to its consumer with fewer wake-ups: the replay's own bookkeeping
/// (a chunk sent or captured, the end of speech acted on, its encoding) is held back and
/// delivered, in order and with its original timestamps, just before the next event the
/// consumer acts on (an answer's message, a transfer's end, a failure) or when the connection
/// ends. The consumer decides nothing on bookkeeping events, so nothing waits for them; at
/// 1,000 sessions this saves ~20,000 consumer wake-ups a second.
///
/// Used by one thread at a time: the I/O loop's (the one that emits); the WebRTC client, whose
/// events also come from GStreamer's threads, serializes them.
final class EventBatcher: @unchecked Sendable {
    private let deliver: @Sendable (TimedEvent) -> Void
    private var held: [TimedEvent] = []

    init(deliver: @escaping @Sendable (TimedEvent) -> Void) {
        self.deliver = deliver
    }

    func emit(_ event: TimedEvent) {
        switch event.event {
        case .chunkSent, .chunkCaptured, .speechEnd, .encoded:
            held.append(event)
        default:
            flush()
            deliver(event)
        }
    }

    /// Delivers what is held (the connection is ending).
    func flush() {
        guard !held.isEmpty else { return }
        for event in held { deliver(event) }
        held.removeAll(keepingCapacity: true)
    }
}
