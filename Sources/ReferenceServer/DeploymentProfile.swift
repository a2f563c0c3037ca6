import Foundation
import SeededRandom

/// How a deployment answers: what happens between a complete request and its first audio, and
/// how the answer's audio is paced. The reference server plays one profile per endpoint.
///
/// A request's plan is drawn deterministically from the profile's seed and the request's
/// position on its endpoint, so a run can be replayed exactly. The presets' numbers and where
/// they come from are in the README ("Deployment profiles").
package struct DeploymentProfile: Sendable, Equatable {
    package var name: String
    package var description: String
    /// The edge function in front of the model, if any (the SSE path of the seed scenario).
    package var edge: Edge?
    /// Time the model pipeline needs per second of uploaded audio before it can start, for a
    /// recording that arrives whole (an upload streamed while the user speaks is ingested as
    /// it arrives).
    package var ingestMsPerAudioSecond: Double
    /// Model time from the complete (ingested) request to the first audio.
    package var firstAudio: Distribution
    package var answer: AnswerPacing
    package var seed: UInt64

    /// An edge function: invocation overhead, occasional cold starts, and a fresh TLS
    /// connection to the model provider on every request.
    package struct Edge: Sendable, Equatable {
        /// Warm invocation overhead.
        package var invocation: Distribution
        /// Share of requests that hit a cold start (0…1).
        package var coldStartProbability: Double
        /// Extra time of a cold start.
        package var coldStart: Distribution
        /// Round-trip time between the edge and the model provider, milliseconds.
        package var upstreamRTTMs: Double
        /// Round trips a new upstream connection costs (TCP + TLS 1.3: 2).
        package var upstreamRoundTrips: Int

        package init(
            invocation: Distribution, coldStartProbability: Double, coldStart: Distribution, upstreamRTTMs: Double,
            upstreamRoundTrips: Int
        ) {
            self.invocation = invocation
            self.coldStartProbability = coldStartProbability
            self.coldStart = coldStart
            self.upstreamRTTMs = upstreamRTTMs
            self.upstreamRoundTrips = upstreamRoundTrips
        }
    }

    package init(
        name: String, description: String, edge: Edge?, ingestMsPerAudioSecond: Double, firstAudio: Distribution,
        answer: AnswerPacing, seed: UInt64 = 1
    ) {
        self.name = name
        self.description = description
        self.edge = edge
        self.ingestMsPerAudioSecond = ingestMsPerAudioSecond
        self.firstAudio = firstAudio
        self.answer = answer
        self.seed = seed
    }

    // MARK: presets

    /// OpenAI Realtime-like: the audio arrived while the user spoke, so after
    /// `response.create` only the model's time remains — log-normal, median 320 ms (OpenAI's
    /// published average audio response time for GPT-4o), p95 550 ms; 100 ms audio deltas at
    /// 1.5× real time with transcript deltas interleaved.
    package static let realtime = DeploymentProfile(
        name: "realtime",
        description:
            "OpenAI Realtime-like: model time to first audio log-normal (median 320 ms, p95 550 ms), 100 ms deltas at 1.5x real time",
        edge: nil, ingestMsPerAudioSecond: 0,
        firstAudio: .logNormal(median: 320, p95: 550),
        answer: AnswerPacing(audioMs: 1_200, deltaMs: 100, realTimeFactor: 1.5, transcriptChunksBeforeAudio: 1))

    /// An edge function proxying a model with audio output: warm invocation 25–60 ms (Supabase's
    /// published boot times, 25 and 57 ms), a 300 ms cold start on 5% of requests, a fresh TLS
    /// connection to the provider (2 round trips of 20 ms), ingest of 50 ms per second of audio
    /// (a stated assumption), model time to first audio log-normal with median 700 ms and p95
    /// 1100 ms (a stated assumption that reproduces the seed's ~1–2 s estimate), transcript-only
    /// chunks before the first audio, audio at 1.5× real time.
    package static let edgeSSE = DeploymentProfile(
        name: "edge-sse",
        description:
            "edge function proxying a model: invocation 25-60 ms, 5% cold starts of 300 ms, new upstream TLS (2 x 20 ms RTT), ingest 50 ms per s of audio, model log-normal (median 700 ms, p95 1100 ms), audio at 1.5x real time",
        edge: Edge(
            invocation: .uniform(min: 25, max: 60), coldStartProbability: 0.05, coldStart: .fixed(300),
            upstreamRTTMs: 20, upstreamRoundTrips: 2),
        ingestMsPerAudioSecond: 50,
        firstAudio: .logNormal(median: 700, p95: 1_100),
        answer: AnswerPacing(audioMs: 1_200, deltaMs: 100, realTimeFactor: 1.5, transcriptChunksBeforeAudio: 2))

    /// No model time and no pacing: what remains is the transport and the harness.
    package static let instant = DeploymentProfile(
        name: "instant",
        description: "no model time, audio back to back: what remains is the transport and the harness",
        edge: nil, ingestMsPerAudioSecond: 0, firstAudio: .fixed(0),
        answer: AnswerPacing(audioMs: 600, deltaMs: 100, realTimeFactor: 0, transcriptChunksBeforeAudio: 1))

    package static let presets: [DeploymentProfile] = [.realtime, .edgeSSE, .instant]

    package static func named(_ name: String) -> DeploymentProfile? {
        presets.first { $0.name == name }
    }

    // MARK: plans

    /// What the server does for one request, drawn from the profile.
    package struct Plan: Sendable, Equatable {
        package var invocationMs: Double = 0
        package var coldStartMs: Double = 0
        package var upstreamConnectMs: Double = 0
        package var ingestMs: Double = 0
        package var modelMs: Double = 0

        /// Edge overhead: invocation, cold start, upstream connection.
        package var edgeMs: Double { invocationMs + coldStartMs + upstreamConnectMs }
        /// Complete request → first audio.
        package var totalMs: Double { edgeMs + ingestMs + modelMs }
    }

    /// The plan of the `sequence`-th request (1-based) on an endpoint, whose upload carried
    /// `audioSeconds` of audio to ingest after it arrived.
    /// How long an answer to `audioSeconds` of speech takes on average, milliseconds: the plan's
    /// time to first audio (the mean of 100 draws) and the answer's own delivery after it. For
    /// estimates of a run's length, not for anything measured.
    package func expectedAnswerMs(audioSeconds: Double) -> Double {
        let draws = (1...100).map { plan(sequence: $0, audioSeconds: audioSeconds).totalMs }
        let delivery = answer.realTimeFactor > 0 ? Double(answer.audioMs) / answer.realTimeFactor : 0
        return draws.reduce(0, +) / Double(draws.count) + delivery
    }

    package func plan(sequence: Int, audioSeconds: Double) -> Plan {
        var generator = SeededGenerator(seed: seed &+ UInt64(max(0, sequence)) &* 0x9E37_79B9_7F4A_7C15)
        var plan = Plan()
        if let edge {
            plan.invocationMs = edge.invocation.sample(&generator)
            let cold = Double.random(in: 0..<1, using: &generator) < edge.coldStartProbability
            let coldMs = edge.coldStart.sample(&generator)
            plan.coldStartMs = cold ? coldMs : 0
            plan.upstreamConnectMs = edge.upstreamRTTMs * Double(edge.upstreamRoundTrips)
        }
        plan.ingestMs = ingestMsPerAudioSecond * audioSeconds
        plan.modelMs = firstAudio.sample(&generator)
        return plan
    }
}

/// A distribution of milliseconds.
package enum Distribution: Sendable, Equatable {
    case fixed(Double)
    case uniform(min: Double, max: Double)
    /// Log-normal given by its median and 95th percentile.
    case logNormal(median: Double, p95: Double)

    func sample(_ generator: inout SeededGenerator) -> Double {
        switch self {
        case .fixed(let ms):
            return ms
        case .uniform(let low, let high):
            return low + (high - low) * Double.random(in: 0..<1, using: &generator)
        case .logNormal(let median, let p95):
            // ln X ~ N(μ, σ): median = e^μ, p95 = e^(μ + 1.645σ). Box–Muller for the normal.
            let mu = log(median)
            let sigma = max(0, log(p95 / median) / 1.644_853_627)
            let u1 = max(Double.leastNonzeroMagnitude, Double.random(in: 0..<1, using: &generator))
            let u2 = Double.random(in: 0..<1, using: &generator)
            let z = (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
            return exp(mu + sigma * z)
        }
    }

    /// The median.
    package var median: Double {
        switch self {
        case .fixed(let ms): ms
        case .uniform(let low, let high): (low + high) / 2
        case .logNormal(let median, _): median
        }
    }
}
