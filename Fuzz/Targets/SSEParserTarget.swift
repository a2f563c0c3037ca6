import VoiceTransport

/// The SSE parser: any bytes, delivered in any pieces, give the same events as delivered whole,
/// and a line longer than the limit is refused, never buffered without bound.
package enum SSEParserTarget: FuzzTarget {
    package static let name = "sse"
    package static let summary = "SSEParser: any split of a stream gives the events of the whole"

    package static func run(_ input: [UInt8]) {
        let (payload, pieces) = chunked(input)
        let limit = 1024
        var whole = SSEParser(maxLineBytes: limit)
        var split = SSEParser(maxLineBytes: limit)
        let wholeEvents: [SSEEvent]?
        do { wholeEvents = try whole.feed(payload) + whole.finish() } catch { wholeEvents = nil }
        var splitEvents: [SSEEvent]? = []
        do {
            for piece in pieces { splitEvents! += try split.feed(piece) }
            splitEvents! += split.finish()
        } catch {
            splitEvents = nil
        }
        // A line over the limit fails both ways; otherwise the events are the same.
        if let wholeEvents, let splitEvents {
            require(
                wholeEvents == splitEvents, "split stream gave \(splitEvents.count) events, whole \(wholeEvents.count)")
        }
    }
}
