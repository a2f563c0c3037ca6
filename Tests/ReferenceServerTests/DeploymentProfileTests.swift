import Foundation
import Testing

@testable import ReferenceServer

@Suite("Deployment profiles")
struct DeploymentProfileTests {
    @Test func aRequestsPlanIsDeterministicUnderTheSeed() {
        #expect(
            DeploymentProfile.edgeSSE.plan(sequence: 7, audioSeconds: 4)
                == DeploymentProfile.edgeSSE.plan(sequence: 7, audioSeconds: 4))
        #expect(
            DeploymentProfile.edgeSSE.plan(sequence: 7, audioSeconds: 4)
                != DeploymentProfile.edgeSSE.plan(sequence: 8, audioSeconds: 4))
        var reseeded = DeploymentProfile.edgeSSE
        reseeded.seed = 2
        #expect(
            reseeded.plan(sequence: 7, audioSeconds: 4) != DeploymentProfile.edgeSSE.plan(sequence: 7, audioSeconds: 4))
    }

    @Test func logNormalDrawsHaveTheConfiguredMedianAndP95() {
        let models = (1...4000).map { DeploymentProfile.realtime.plan(sequence: $0, audioSeconds: 0).modelMs }.sorted()
        let median = models[models.count / 2]
        let p95 = models[Int(Double(models.count) * 0.95)]
        #expect(abs(median - 320) / 320 < 0.03, "median \(median) ms")
        #expect(abs(p95 - 550) / 550 < 0.05, "p95 \(p95) ms")
    }

    @Test func theEdgeFunctionPlanHasEveryPhase() {
        let plans = (1...2000).map { DeploymentProfile.edgeSSE.plan(sequence: $0, audioSeconds: 4) }
        #expect(plans.allSatisfy { (25...60).contains($0.invocationMs) })
        #expect(plans.allSatisfy { $0.upstreamConnectMs == 40 }, "2 round trips of 20 ms")
        #expect(plans.allSatisfy { $0.ingestMs == 200 }, "50 ms per second of audio")
        let cold = Double(plans.filter { $0.coldStartMs == 300 }.count) / Double(plans.count)
        #expect(abs(cold - 0.05) < 0.015, "cold starts on \(cold * 100)% of requests")
        #expect(plans.allSatisfy { $0.totalMs == $0.edgeMs + $0.ingestMs + $0.modelMs })
    }

    func file(_ name: String, _ text: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent(
            "ttfa-profile-\(UUID().uuidString)-\(name)")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    @Test func aYAMLFileChangesAPresetKeyByKey() throws {
        let path = try file(
            "slow-edge.yaml",
            """
            base: edge-sse
            first_audio_ms: {lognormal: {median: 450, p95: 900}}
            edge:
              cold_start: {probability: 0.2, ms: {uniform: [500, 900]}}
            answer: {real_time_factor: 2}
            """)
        let profile = try DeploymentProfile.load(path)
        #expect(profile.firstAudio == .logNormal(median: 450, p95: 900))
        #expect(profile.edge?.coldStartProbability == 0.2 && profile.edge?.coldStart == .uniform(min: 500, max: 900))
        #expect(
            profile.edge?.invocation == .uniform(min: 25, max: 60), "what the file does not say comes from the base")
        #expect(profile.answer.realTimeFactor == 2 && profile.answer.deltaMs == 100)
        #expect(profile.name.hasSuffix("slow-edge"))
    }

    @Test func aJSONFileMaySetEveryParameterAndRoundTrips() throws {
        let path = try file("full.json", DeploymentProfile.edgeSSE.jsonText)
        var loaded = try DeploymentProfile.load(path)
        loaded.name = "edge-sse"
        #expect(loaded == DeploymentProfile.edgeSSE)
    }

    @Test(arguments: [
        (
            "first_audio_ms: {lognormal: {median: 500, p95: 100}}",
            "first_audio_ms.lognormal: p95 100.0 is below the median 500.0"
        ),
        ("edge: {invocaton_ms: 40}", "edge.invocaton_ms: unknown key; known keys here: invocation_ms"),
        ("answer: {delta_ms: fast}", "answer.delta_ms: expected a number, got \"fast\""),
        ("edge: {cold_start: {probability: 3}}", "edge.cold_start.probability: expected a share between 0 and 1"),
        ("base: quick", "base: expected a preset's name"),
        ("speed: 3", "speed: unknown key"),
    ])
    func badProfilesNameTheFileAndTheKey(_ yaml: String, _ message: String) throws {
        let path = try file("bad.yaml", yaml)
        #expect {
            _ = try DeploymentProfile.load(path)
        } throws: { error in
            let text = (error as? ProfileError)?.message ?? ""
            return text.hasPrefix(path) && text.contains(message)
        }
    }

    @Test func aNameThatIsNeitherPresetNorFileSaysSo() {
        #expect(throws: ProfileError.self) { try DeploymentProfile.load("warp-speed") }
    }
}
