/// One dispatched Server-Sent Event, as `EventSource` would deliver it.
package struct SSEEvent: Sendable, Equatable {
    /// The event type: the last `event:` field of the block, or "message".
    package var type: String
    /// The `data:` lines of the block joined with LF.
    package var data: String
    /// The last event ID in force when the event was dispatched (EventSource's `lastEventId`).
    package var lastEventID: String
    /// The reconnection time in force when the event was dispatched, if a `retry:` set one.
    package var retry: Int?

    package init(type: String = "message", data: String, lastEventID: String = "", retry: Int? = nil) {
        self.type = type
        self.data = data
        self.lastEventID = lastEventID
        self.retry = retry
    }
}

/// An incremental `text/event-stream` parser that follows the WHATWG HTML "event stream
/// interpretation" rules exactly.
///
/// Bytes in, dispatched events out; no I/O, no allocation per byte beyond the current line.
/// Feed it whatever the network delivered — any split is fine, including between CR and LF or
/// inside a UTF-8 sequence — and stamp the returned events with the time the bytes arrived.
///
/// Rules implemented (HTML §9.2.6):
/// - the stream is UTF-8; one leading U+FEFF (BOM) is dropped at stream start only; invalid
///   sequences become U+FFFD;
/// - lines end at CRLF, LF or CR;
/// - an empty line dispatches; a line starting with `:` is a comment;
/// - `field:value` with one leading space of the value removed; a line without `:` is a field
///   with an empty value;
/// - `data` appends value + LF; `event` sets the type; `id` sets the last event ID unless the
///   value contains NUL; `retry` sets the reconnection time if the value is only ASCII digits;
///   other fields are ignored;
/// - on dispatch the last event ID is updated even if no event fires; an empty data buffer
///   fires nothing; one trailing LF is removed from data;
/// - at end of stream an incomplete block is discarded (`finish()`).
package struct SSEParser: Sendable {
    /// Longest line accepted before the stream is rejected (protects memory against a peer
    /// that never sends a line break).
    package let maxLineBytes: Int

    /// EventSource's last event ID string.
    package private(set) var lastEventID = ""
    /// The reconnection time set by the last valid `retry:` field, in milliseconds.
    package private(set) var reconnectionTime: Int?

    private var line: [UInt8] = []
    private var skipNextLF = false
    private var bomState = BOMState.checking([])
    private var dataBuffer = ""
    private var hasData = false
    private var eventTypeBuffer = ""
    private var idBuffer = ""

    private enum BOMState: Sendable {
        case checking([UInt8])
        case done
    }

    package enum ParseError: Error, Equatable, Sendable {
        case lineTooLong(limit: Int)
    }

    package init(maxLineBytes: Int = 16 << 20) {
        self.maxLineBytes = maxLineBytes
    }

    /// Feeds bytes as they arrived and returns the events they completed, in order.
    package mutating func feed(_ bytes: some Sequence<UInt8>) throws(ParseError) -> [SSEEvent] {
        var events: [SSEEvent] = []
        if case .done = bomState {
            // Contiguous bytes (libcurl's buffer): runs of line bytes are copied whole.
            var failure: ParseError?
            let handled = bytes.withContiguousStorageIfAvailable { buffer -> Bool in
                do throws(ParseError) {
                    try feedContiguous(buffer, into: &events)
                } catch {
                    failure = error
                }
                return true
            }
            if let failure { throw failure }
            if handled == true { return events }
        }
        for byte in bytes {
            if case .checking(var prefix) = bomState {
                prefix.append(byte)
                let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
                if prefix == bom {
                    bomState = .done
                    continue
                }
                if bom.starts(with: prefix) {
                    bomState = .checking(prefix)
                    continue
                }
                bomState = .done
                for b in prefix {
                    try consume(b, into: &events)
                }
                continue
            }
            try consume(byte, into: &events)
        }
        return events
    }

    /// Signals end of stream. A block without its terminating blank line is discarded, as the
    /// spec requires; nothing is dispatched.
    package mutating func finish() -> [SSEEvent] {
        line.removeAll()
        dataBuffer = ""
        hasData = false
        eventTypeBuffer = ""
        bomState = .done
        return []
    }

    private mutating func feedContiguous(_ buffer: UnsafeBufferPointer<UInt8>, into events: inout [SSEEvent])
        throws(ParseError)
    {
        var i = 0
        let n = buffer.count
        while i < n {
            let byte = buffer[i]
            if byte == 0x0A || byte == 0x0D {
                try consume(byte, into: &events)
                i += 1
                continue
            }
            skipNextLF = false
            var end = i + 1
            while end < n, buffer[end] != 0x0A, buffer[end] != 0x0D { end += 1 }
            guard line.count + (end - i) <= maxLineBytes else { throw .lineTooLong(limit: maxLineBytes) }
            line.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[i..<end]))
            i = end
        }
    }

    @inline(__always)
    private mutating func consume(_ byte: UInt8, into events: inout [SSEEvent]) throws(ParseError) {
        switch byte {
        case 0x0A:  // LF
            if skipNextLF {
                skipNextLF = false
                return
            }
            processLine(into: &events)
        case 0x0D:  // CR: ends the line; a following LF belongs to it
            skipNextLF = true
            processLine(into: &events)
        default:
            skipNextLF = false
            guard line.count < maxLineBytes else { throw .lineTooLong(limit: maxLineBytes) }
            line.append(byte)
        }
    }

    private mutating func processLine(into events: inout [SSEEvent]) {
        defer { line.removeAll(keepingCapacity: line.count < 64 << 10) }
        if line.isEmpty {
            if let event = dispatch() { events.append(event) }
            return
        }
        if line[0] == 0x3A { return }  // ":" comment
        let name: ArraySlice<UInt8>
        var value: ArraySlice<UInt8>
        if let colon = line.firstIndex(of: 0x3A) {
            name = line[..<colon]
            value = line[(colon + 1)...]
            if value.first == 0x20 { value = value.dropFirst() }
        } else {
            name = line[...]
            value = []
        }
        switch name.count {
        case 4 where name.elementsEqual("data".utf8):
            dataBuffer += String(decoding: value, as: UTF8.self)
            dataBuffer += "\n"
            hasData = true
        case 5 where name.elementsEqual("event".utf8):
            eventTypeBuffer = String(decoding: value, as: UTF8.self)
        case 2 where name.elementsEqual("id".utf8):
            if !value.contains(0) {
                idBuffer = String(decoding: value, as: UTF8.self)
            }
        case 5 where name.elementsEqual("retry".utf8):
            if !value.isEmpty, value.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
                var n = 0
                for digit in value {
                    let (times10, o1) = n.multipliedReportingOverflow(by: 10)
                    let (sum, o2) = times10.addingReportingOverflow(Int(digit - 0x30))
                    n = (o1 || o2) ? Int.max : sum
                }
                reconnectionTime = n
            }
        default:
            break  // unknown field: ignored
        }
    }

    private mutating func dispatch() -> SSEEvent? {
        lastEventID = idBuffer
        guard hasData else {
            eventTypeBuffer = ""
            return nil
        }
        var data = dataBuffer
        if data.utf8.last == 0x0A { data.removeLast() }
        let event = SSEEvent(
            type: eventTypeBuffer.isEmpty ? "message" : eventTypeBuffer,
            data: data,
            lastEventID: lastEventID,
            retry: reconnectionTime
        )
        dataBuffer = ""
        hasData = false
        eventTypeBuffer = ""
        return event
    }
}
