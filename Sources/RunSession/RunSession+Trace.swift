import Replay
import VoiceTransport

extension RunSession {
    /// `ttfa trace`: one turn of the plan's only transport against its URL, every wire event
    /// handed to `write` as a JSON line as it arrives. Returns the turn's outcome.
    /// - Throws: `RunInputError` when the plan has no URL or a link relay cannot start.
    package static func trace(_ plan: RunPlan, write: @escaping (String) -> Void) async throws -> TurnOutcome {
        guard let side = plan.sides.first, let recording = plan.recordings.first,
            var settings = try plan.settings(
                for: side, server: nil, embeddedCA: nil, loops: IOLoopGroup(realtime: plan.realtimeIO)
            ).first
        else {
            throw RunInputError("a trace needs one transport and its --url")
        }
        var relays = LinkRelays()
        if let link = plan.link {
            let (started, via) = try await LinkRelays.start(
                link, for: [settings.endpoint], datagrams: settings.kind.mediaOverUDP)
            relays = started
            settings.connectVia = via[0]
            settings.mediaLink = started.mediaLink
        }
        let outcome = await Tracer.run(
            settings: settings, recording: recording, chunkMs: plan.chunkMs, timeout: plan.timeoutNs,
            vad: plan.turnDetection, write: write)
        await relays.stop()
        return outcome
    }
}
