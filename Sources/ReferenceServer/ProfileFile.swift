import Foundation
import Yams

/// Deployment profiles as files (JSON or YAML) and as stored JSON.
///
/// A file may set every parameter, or start from a preset with `base` and change a few:
///
/// ```yaml
/// base: edge-sse
/// name: my-edge
/// first_audio_ms: {lognormal: {median: 450, p95: 900}}
/// edge: {cold_start: {probability: 0.2, ms: 800}}
/// ```
///
/// Distributions are a number (fixed), `{fixed: N}`, `{uniform: [A, B]}` or
/// `{lognormal: {median: M, p95: P}}`, in milliseconds. Unknown keys and wrong types are errors
/// that name the file and the key.
extension DeploymentProfile {
    /// A preset's name, or the path of a profile file.
    package static func load(_ spec: String) throws(ProfileError) -> DeploymentProfile {
        if let preset = named(spec) { return preset }
        let looksLikeFile =
            spec.contains("/") || spec.hasSuffix(".json") || spec.hasSuffix(".yaml") || spec.hasSuffix(".yml")
        guard looksLikeFile || FileManager.default.fileExists(atPath: spec) else {
            throw ProfileError(
                "profile \"\(spec)\" is neither a preset (\(presets.map(\.name).joined(separator: ", "))) nor a file; give a preset's name or the path of a JSON or YAML profile"
            )
        }
        guard let data = FileManager.default.contents(atPath: spec) else {
            throw ProfileError("\(spec): no readable profile file there")
        }
        let text = String(decoding: data, as: UTF8.self)
        let tree: Any?
        do {
            if spec.hasSuffix(".json") {
                tree = try JSONSerialization.jsonObject(with: data)
            } else {
                tree = try Yams.load(yaml: text)  // YAML is a superset of JSON
            }
        } catch {
            throw ProfileError("\(spec): not valid \(spec.hasSuffix(".json") ? "JSON" : "YAML or JSON") (\(error))")
        }
        guard let object = tree as? [String: Any] else {
            throw ProfileError("\(spec): a profile is an object with keys such as name, first_audio_ms, edge, answer")
        }
        var reader = TreeReader(file: spec)
        return try reader.profile(
            object, fallbackName: URL(fileURLWithPath: spec).deletingPathExtension().lastPathComponent)
    }

    /// The profile as a JSON object (what is stored with a run, and what a file may contain).
    package var jsonObject: [String: Any] {
        var object: [String: Any] = [
            "name": name, "description": description, "seed": seed,
            "ingest_ms_per_audio_second": ingestMsPerAudioSecond,
            "first_audio_ms": firstAudio.jsonValue,
            "answer": [
                "audio_ms": answer.audioMs, "delta_ms": answer.deltaMs, "real_time_factor": answer.realTimeFactor,
                "transcript_chunks_before_audio": answer.transcriptChunksBeforeAudio,
            ],
        ]
        if let edge {
            object["edge"] = [
                "invocation_ms": edge.invocation.jsonValue,
                "cold_start": ["probability": edge.coldStartProbability, "ms": edge.coldStart.jsonValue],
                "upstream_rtt_ms": edge.upstreamRTTMs, "upstream_round_trips": edge.upstreamRoundTrips,
            ]
        }
        return object
    }

    /// The profile as YAML, keys sorted (what `ttfa profile show` prints). Numbers are written
    /// plainly (700, 0.05), strings as JSON strings (valid YAML).
    package var yamlText: String {
        var out = ""
        Self.writeYAML(jsonObject, indent: 0, into: &out)
        return out
    }

    private static func yamlScalar(_ value: Any) -> String {
        switch value {
        case let text as String:
            return String(
                decoding: (try? JSONSerialization.data(withJSONObject: [text], options: [.withoutEscapingSlashes]))
                    ?? Data("[\"\"]".utf8), as: UTF8.self
            ).dropFirst().dropLast().description
        case let double as Double:
            return double == double.rounded() && abs(double) < 1e15 ? String(Int64(double)) : String(double)
        default:
            return "\(value)"
        }
    }

    private static func writeYAML(_ value: Any, indent: Int, into out: inout String) {
        let pad = String(repeating: " ", count: indent)
        if let object = value as? [String: Any] {
            for key in object.keys.sorted() {
                let child = object[key]!
                if child is [String: Any] || child is [Any] {
                    out += "\(pad)\(key):\n"
                    writeYAML(child, indent: indent + 2, into: &out)
                } else {
                    out += "\(pad)\(key): \(yamlScalar(child))\n"
                }
            }
        } else if let array = value as? [Any] {
            for element in array { out += "\(pad)- \(yamlScalar(element))\n" }
        }
    }

    /// `jsonObject` as text, keys sorted.
    package var jsonText: String {
        String(
            decoding: (try? JSONSerialization.data(
                withJSONObject: jsonObject, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8),
            as: UTF8.self)
    }
}

extension Distribution {
    var jsonValue: Any {
        switch self {
        case .fixed(let ms): ["fixed": ms]
        case .uniform(let low, let high): ["uniform": [low, high]]
        case .logNormal(let median, let p95): ["lognormal": ["median": median, "p95": p95]]
        }
    }
}

/// A profile that cannot be used, with a message that names the file and the key.
package struct ProfileError: Error, CustomStringConvertible, Sendable {
    package var message: String
    package init(_ message: String) { self.message = message }
    package var description: String { message }
}

/// Reads a profile from a parsed JSON/YAML tree, naming the key of every problem.
private struct TreeReader {
    let file: String

    func fail(_ path: String, _ problem: String) -> ProfileError {
        ProfileError("\(file): \(path): \(problem)")
    }

    func checkKeys(_ object: [String: Any], _ known: [String], at path: String) throws(ProfileError) {
        for key in object.keys.sorted() where !known.contains(key) {
            let location = path.isEmpty ? key : "\(path).\(key)"
            throw fail(location, "unknown key; known keys here: \(known.joined(separator: ", "))")
        }
    }

    func number(_ value: Any?, _ path: String, positive: Bool = false) throws(ProfileError) -> Double {
        let number: Double
        switch value {
        case let value? where Self.isBoolean(value): throw fail(path, "expected a number, got \(describe(value))")
        case is String, nil: throw fail(path, "expected a number, got \(describe(value))")
        case let other as NSNumber: number = other.doubleValue
        case let double as Double: number = double
        case let integer as any BinaryInteger: number = Double(integer)
        default: throw fail(path, "expected a number, got \(describe(value))")
        }
        guard number.isFinite, number >= 0, !positive || number > 0 else {
            throw fail(path, "expected a \(positive ? "positive" : "non-negative") number, got \(number)")
        }
        return number
    }

    /// A boolean from YAML (a Swift `Bool`) or JSON (an `NSNumber` of type "c"); plain numbers
    /// bridge to `Bool` too, so `is Bool` cannot tell.
    static func isBoolean(_ value: Any) -> Bool {
        if type(of: value) == Bool.self { return true }
        if let number = value as? NSNumber { return String(cString: number.objCType) == "c" }
        return false
    }

    func describe(_ value: Any?) -> String {
        guard let value else { return "nothing" }
        if let text = value as? String { return "\"\(text)\"" }
        return "\(value)"
    }

    func distribution(_ value: Any?, _ path: String) throws(ProfileError) -> Distribution {
        if let value, !(value is [String: Any]) { return .fixed(try number(value, path)) }
        guard let object = value as? [String: Any], object.count == 1, let (kind, body) = object.first else {
            throw fail(
                path,
                "expected milliseconds: a number, {fixed: N}, {uniform: [A, B]} or {lognormal: {median: M, p95: P}}")
        }
        switch kind {
        case "fixed":
            return .fixed(try number(body, "\(path).fixed"))
        case "uniform":
            guard let pair = body as? [Any], pair.count == 2 else {
                throw fail("\(path).uniform", "expected [min, max]")
            }
            let low = try number(pair[0], "\(path).uniform[0]")
            let high = try number(pair[1], "\(path).uniform[1]")
            guard low <= high else { throw fail("\(path).uniform", "min \(low) is above max \(high)") }
            return .uniform(min: low, max: high)
        case "lognormal":
            guard let parameters = body as? [String: Any] else {
                throw fail("\(path).lognormal", "expected {median: M, p95: P}")
            }
            try checkKeys(parameters, ["median", "p95"], at: "\(path).lognormal")
            let median = try number(parameters["median"], "\(path).lognormal.median", positive: true)
            let p95 = try number(parameters["p95"], "\(path).lognormal.p95", positive: true)
            guard p95 >= median else { throw fail("\(path).lognormal", "p95 \(p95) is below the median \(median)") }
            return .logNormal(median: median, p95: p95)
        default:
            throw fail("\(path).\(kind)", "unknown distribution; use fixed, uniform or lognormal")
        }
    }

    mutating func profile(_ object: [String: Any], fallbackName: String) throws(ProfileError) -> DeploymentProfile {
        try checkKeys(
            object,
            ["base", "name", "description", "seed", "edge", "ingest_ms_per_audio_second", "first_audio_ms", "answer"],
            at: "")
        var profile: DeploymentProfile
        if let base = object["base"] {
            guard let name = base as? String, let preset = DeploymentProfile.named(name) else {
                throw fail(
                    "base",
                    "expected a preset's name (\(DeploymentProfile.presets.map(\.name).joined(separator: ", "))), got \(describe(base))"
                )
            }
            profile = preset
            profile.description = "\(preset.description), changed by \(file)"
        } else {
            profile = DeploymentProfile(
                name: fallbackName, description: "from \(file)", edge: nil, ingestMsPerAudioSecond: 0,
                firstAudio: .fixed(0), answer: DeploymentProfile.realtime.answer)
        }
        profile.name = fallbackName
        if let name = object["name"] {
            guard let text = name as? String, !text.isEmpty else { throw fail("name", "expected a non-empty string") }
            profile.name = text
        }
        if let description = object["description"] {
            guard let text = description as? String else { throw fail("description", "expected a string") }
            profile.description = text
        }
        if let seed = object["seed"] { profile.seed = UInt64(try number(seed, "seed")) }
        if let ingest = object["ingest_ms_per_audio_second"] {
            profile.ingestMsPerAudioSecond = try number(ingest, "ingest_ms_per_audio_second")
        }
        if let first = object["first_audio_ms"] { profile.firstAudio = try distribution(first, "first_audio_ms") }
        if let edgeValue = object["edge"] {
            if edgeValue is NSNull {
                profile.edge = nil
            } else {
                guard let edge = edgeValue as? [String: Any] else {
                    throw fail("edge", "expected an object (or null for no edge function)")
                }
                try checkKeys(
                    edge, ["invocation_ms", "cold_start", "upstream_rtt_ms", "upstream_round_trips"], at: "edge")
                var result =
                    profile.edge
                    ?? DeploymentProfile.Edge(
                        invocation: .fixed(0), coldStartProbability: 0, coldStart: .fixed(0), upstreamRTTMs: 0,
                        upstreamRoundTrips: 2)
                if let value = edge["invocation_ms"] {
                    result.invocation = try distribution(value, "edge.invocation_ms")
                }
                if let value = edge["upstream_rtt_ms"] {
                    result.upstreamRTTMs = try number(value, "edge.upstream_rtt_ms")
                }
                if let value = edge["upstream_round_trips"] {
                    result.upstreamRoundTrips = Int(try number(value, "edge.upstream_round_trips"))
                }
                if let coldValue = edge["cold_start"] {
                    guard let cold = coldValue as? [String: Any] else {
                        throw fail("edge.cold_start", "expected {probability: P, ms: …}")
                    }
                    try checkKeys(cold, ["probability", "ms"], at: "edge.cold_start")
                    if let p = cold["probability"] {
                        let probability = try number(p, "edge.cold_start.probability")
                        guard probability <= 1 else {
                            throw fail(
                                "edge.cold_start.probability", "expected a share between 0 and 1, got \(probability)")
                        }
                        result.coldStartProbability = probability
                    }
                    if let ms = cold["ms"] { result.coldStart = try distribution(ms, "edge.cold_start.ms") }
                }
                profile.edge = result
            }
        }
        if let answerValue = object["answer"] {
            guard let answer = answerValue as? [String: Any] else { throw fail("answer", "expected an object") }
            try checkKeys(
                answer, ["audio_ms", "delta_ms", "real_time_factor", "transcript_chunks_before_audio"], at: "answer")
            if let v = answer["audio_ms"] {
                profile.answer.audioMs = Int(try number(v, "answer.audio_ms", positive: true))
            }
            if let v = answer["delta_ms"] {
                profile.answer.deltaMs = Int(try number(v, "answer.delta_ms", positive: true))
            }
            if let v = answer["real_time_factor"] {
                profile.answer.realTimeFactor = try number(v, "answer.real_time_factor")
            }
            if let v = answer["transcript_chunks_before_audio"] {
                profile.answer.transcriptChunksBeforeAudio = Int(try number(v, "answer.transcript_chunks_before_audio"))
            }
        }
        guard profile.answer.deltaMs <= profile.answer.audioMs else {
            throw fail(
                "answer",
                "delta_ms \(profile.answer.deltaMs) is longer than the whole answer (audio_ms \(profile.answer.audioMs))"
            )
        }
        return profile
    }
}
