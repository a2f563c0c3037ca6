import SpeechDetection
import VoiceTransport

/// `ttfa trace`: one turn against one endpoint, every wire event printed as it arrives.
package enum Tracer {
    /// Runs the trace, writing JSON lines through `write`. Returns the turn's outcome.
    package static func run(
        settings: TransportSettings,
        recording: Recording,
        chunkMs: Int,
        timeout: Int64,
        vad: EnergyVAD.Parameters? = nil,
        write: @escaping (String) -> Void
    ) async -> TurnOutcome {
        let origin = MonotonicClock.now()
        let writer = TraceWriter(origin: origin)
        let transport: any VoiceTransport
        do throws(TransportError) {
            transport = try settings.makeTransport()
        } catch {
            write(writer.doneLine(at: MonotonicClock.now(), ttfaNs: nil, status: error.kind.rawValue))
            return .failed(error)
        }
        var events = transport.events.makeAsyncIterator()
        func show(_ event: TimedEvent) {
            if let line = writer.line(for: event) { write(line) }
        }

        // WebSocket: the connection opens before the user speaks, as a Realtime client does.
        // SSE: this only starts the worker; the POST at speech end makes the connection.
        if !settings.kind.keepsOneConnection {
            try? await transport.open()
        } else {
            let opening = Task { try await transport.open() }
            if case .failure = await opening.result {
                var failure = TransportError(.closed, "the connection ended while opening")
                while let event = await events.next() {
                    show(event)
                    if case .failure(let error) = event.event {
                        failure = error
                        break
                    }
                }
                await transport.close()
                write(writer.doneLine(at: MonotonicClock.now(), ttfaNs: nil, status: failure.kind.rawValue))
                return .failed(failure)
            }
        }

        // After a failure the trace goes on printing what the wire carries until the request,
        // the response or the connection ends: a dialect that misunderstands one event must not
        // hide the rest.
        let timeline = await TurnRunner.run(
            transport: transport, events: &events, turn: 1, recording: recording, chunkMs: chunkMs,
            start: MonotonicClock.now() + .milliseconds(20), timeout: timeout, vad: vad, followAfterFailure: true,
            onEvent: show)
        // Close, showing what still arrives after a good answer (rate_limits.updated, the close
        // handshake).
        let closing = Task { await transport.close() }
        while let event = await events.next() {
            if timeline.outcome == .ok { show(event) }
        }
        await closing.value
        let ttfa = timeline.outcome == .ok ? timeline.ttfaNs : nil
        write(writer.doneLine(at: MonotonicClock.now(), ttfaNs: ttfa, status: timeline.outcome.status))
        return timeline.outcome
    }
}
