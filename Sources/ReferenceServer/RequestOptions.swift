import Foundation

/// Per-request options from the query string of either endpoint.
///
/// - `first_audio_ms=N` — the first audio leaves N ms after the request is complete;
///   `first_audio_ms=A..B` draws a delay uniformly between A and B for every request, so no two
///   answers take the same time (the answer log records each one).
/// - `fault=NAME` — see `Fault`; `fault_every=N` applies it to every N-th request of this URL
///   only (requests 1 … N−1 are answered normally, N misbehaves, and so on).
/// - `session_delay_ms=N` — WebSocket: `session.updated` leaves N ms after `session.update`.
///
/// Other parameters (`model`, a test's own `scenario=…` tag) are ignored, but they are part of
/// the URL, which identifies the scenario whose requests `fault_every` counts.
struct RequestOptions: Sendable, Equatable {
    var firstAudioMs: ClosedRange<Int>?
    var fault: Fault?
    var faultEvery: Int?
    var sessionDelayMs: Int?

    enum Problem: Error, Equatable {
        case badFirstAudio(String)
        case unknownFault(String)
        case badNumber(name: String, value: String)

        var message: String {
            switch self {
            case .badFirstAudio(let value):
                "first_audio_ms=\(value) is neither a whole number of milliseconds between 0 and 600000 nor a range like 100..400"
            case .unknownFault(let value):
                "fault=\(value) is not a known fault; known faults: \(Fault.names)"
            case .badNumber(let name, let value):
                "\(name)=\(value) is not a whole number between 1 and 600000"
            }
        }
    }

    /// Parses the options from a request target's query.
    init(target: String) throws(Problem) {
        guard let question = target.firstIndex(of: "?") else { return }
        for pair in target[target.index(after: question)...].split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(parts[0])
            let value = parts.count > 1 ? (String(parts[1]).removingPercentEncoding ?? String(parts[1])) : ""
            switch name {
            case "first_audio_ms":
                firstAudioMs = try Self.delayRange(value)
            case "fault":
                guard let fault = Fault(rawValue: value) else { throw .unknownFault(value) }
                self.fault = fault
            case "fault_every":
                guard let n = Int(value), (1...600_000).contains(n) else { throw .badNumber(name: name, value: value) }
                faultEvery = n
            case "session_delay_ms":
                guard let n = Int(value), (0...600_000).contains(n) else { throw .badNumber(name: name, value: value) }
                sessionDelayMs = n
            default:
                continue
            }
        }
    }

    init() {}

    private static func delayRange(_ value: String) throws(Problem) -> ClosedRange<Int> {
        let bounds = value.components(separatedBy: "..")
        let numbers = bounds.compactMap { Int($0) }
        guard numbers.count == bounds.count, (1...2).contains(numbers.count),
            numbers.allSatisfy({ (0...600_000).contains($0) }), numbers.first! <= numbers.last!
        else { throw .badFirstAudio(value) }
        return numbers.first!...numbers.last!
    }

    /// The fault for the `sequence`-th request (1-based) of this URL, if it misbehaves.
    func fault(forRequest sequence: Int) -> Fault? {
        guard let fault else { return nil }
        guard let every = faultEvery else { return fault }
        return sequence % every == 0 ? fault : nil
    }

    /// What the server does for one request: the profile's plan, or — when the request sets
    /// `first_audio_ms` — that delay alone (fixed, or drawn from the range).
    func plan(_ profile: DeploymentProfile, sequence: Int, audioSeconds: Double) -> DeploymentProfile.Plan {
        guard let range = firstAudioMs else { return profile.plan(sequence: sequence, audioSeconds: audioSeconds) }
        var plan = DeploymentProfile.Plan()
        plan.modelMs = Double(Int.random(in: range))
        return plan
    }
}
