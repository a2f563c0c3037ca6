import Foundation
import Storage
import TTFASupport

/// What a comparison needs of a run, as a reviewable, diff-friendly file
/// (`ttfa baseline save`): the TTFA of every ok measured trial per transport and recording,
/// the trial counts, the run's configuration and host, and the ttfa version. A stored run turns
/// into the same thing, so a baseline may be a file or a run id.
package struct Baseline: Sendable {
    package static let format = "ttfa-baseline/1"

    package struct TransportSamples: Sendable, Equatable {
        package var trials: Int
        package var ok: Int
        package var failed: Int
        package var invalid: Int
        /// Recording name → TTFA of its ok trials, ms, ascending.
        package var ttfaMs: [String: [Double]]
    }

    /// Where it came from: "results/baseline.json (run 12)", "run 14".
    package var source: String
    package var ttfaVersion: String
    package var run: (id: Int64, startedAt: String, label: String?, gitCommit: String?, seed: Int64, status: String)
    package var host: (hostname: String, os: String, cpuModel: String, cpuCount: Int)
    /// The run's stored configuration (JSON text), secrets already masked.
    package var configurationJSON: String
    /// Transport name → samples, in the run's order.
    package var transports: [(name: String, samples: TransportSamples)]

    /// From a stored run's record and trials.
    package init(run record: RunRecord, trials: [TrialRecord], source: String? = nil) {
        self.source = source ?? "run \(record.id ?? 0)"
        ttfaVersion = record.ttfaVersion
        run = (record.id ?? 0, record.startedAt, record.label, record.gitCommit, record.seed, record.status.rawValue)
        host = (record.hostname, record.os, record.cpuModel, record.cpuCount)
        configurationJSON = record.configJSON
        var order: [String] = []
        for t in trials where !order.contains(t.transport) { order.append(t.transport) }
        transports = order.map { name in
            let measured = trials.filter { $0.transport == name && !$0.warmup }
            var byRecording: [String: [Double]] = [:]
            for t in measured where t.status == .ok {
                if let ns = t.ttfaNs { byRecording[t.recording, default: []].append(Double(ns) / 1e6) }
            }
            for key in byRecording.keys { byRecording[key]!.sort() }
            return (
                name,
                TransportSamples(
                    trials: measured.count, ok: measured.filter { $0.status == .ok }.count,
                    failed: measured.filter(\.isFailure).count,
                    invalid: measured.filter { $0.status == .invalid }.count, ttfaMs: byRecording)
            )
        }
    }

    package func samples(_ transport: String) -> TransportSamples? {
        transports.first { $0.name == transport }?.samples
    }

    // MARK: - The file

    /// The file's text: pretty-printed JSON with sorted keys (one sample per line), so a
    /// change of baseline reads well in a diff.
    package func fileText(savedAt: String) -> String {
        let configuration = (try? JSONSerialization.jsonObject(with: Data(configurationJSON.utf8))) ?? [:]
        var transportObject: [String: Any] = [:]
        for (name, s) in transports {
            transportObject[name] =
                [
                    "trials": s.trials, "ok": s.ok, "failed": s.failed, "invalid": s.invalid,
                    "ttfa_ms": s.ttfaMs.mapValues { $0.map { ($0 * 1000).rounded() / 1000 } },
                ] as [String: Any]
        }
        var runObject: [String: Any] = [
            "id": run.id, "started_at": run.startedAt, "seed": run.seed, "status": run.status,
        ]
        runObject["label"] = run.label ?? NSNull()
        runObject["git_commit"] = run.gitCommit ?? NSNull()
        let object: [String: Any] = [
            "format": Self.format,
            "ttfa_version": ttfaVersion,
            "saved_at": savedAt,
            "run": runObject,
            "host": ["hostname": host.hostname, "os": host.os, "cpu_model": host.cpuModel, "cpu_count": host.cpuCount]
                as [String: Any],
            "configuration": configuration,
            "transport_order": transports.map(\.name),
            "transports": transportObject,
        ]
        let data =
            (try? JSONSerialization.data(
                withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// Reads a baseline file; the error says what is wrong and how to make a good one.
    package init(file path: String) throws(CheckError) {
        let hint = "create one with: ttfa baseline save --run ID --out \(path)"
        guard FileManager.default.fileExists(atPath: path) else {
            throw CheckError("baseline \(path): no such file; \(hint)")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CheckError("baseline \(path): cannot be read; \(hint)")
        }
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw CheckError("baseline \(path): not a JSON object (corrupt or truncated?); \(hint)")
        }
        func field<T>(_ key: String, in o: [String: Any], _ type: T.Type) throws(CheckError) -> T {
            guard let value = o[key] as? T else {
                throw CheckError("baseline \(path): missing or malformed '\(key)'; \(hint)")
            }
            return value
        }
        guard object["format"] as? String == Self.format else {
            throw CheckError(
                "baseline \(path): format is \(object["format"].map { "'\($0)'" } ?? "missing"), expected '\(Self.format)'; \(hint)"
            )
        }
        let runObject = try field("run", in: object, [String: Any].self)
        let hostObject = try field("host", in: object, [String: Any].self)
        let configuration = try field("configuration", in: object, [String: Any].self)
        let order = try field("transport_order", in: object, [String].self)
        let transportObject = try field("transports", in: object, [String: Any].self)
        source = "\(path) (run \(runObject["id"] as? Int64 ?? Int64(runObject["id"] as? Int ?? 0)))"
        ttfaVersion = try field("ttfa_version", in: object, String.self)
        run = (
            runObject["id"] as? Int64 ?? Int64(runObject["id"] as? Int ?? 0), runObject["started_at"] as? String ?? "",
            runObject["label"] as? String, runObject["git_commit"] as? String,
            runObject["seed"] as? Int64 ?? Int64(runObject["seed"] as? Int ?? 1), runObject["status"] as? String ?? ""
        )
        host = (
            hostObject["hostname"] as? String ?? "", hostObject["os"] as? String ?? "",
            hostObject["cpu_model"] as? String ?? "",
            hostObject["cpu_count"] as? Int ?? 0
        )
        configurationJSON = String(
            decoding: (try? JSONSerialization.data(withJSONObject: configuration, options: [.sortedKeys]))
                ?? Data("{}".utf8), as: UTF8.self)
        var transports: [(String, TransportSamples)] = []
        for name in order {
            let t = try field(name, in: transportObject, [String: Any].self)
            let samples = try field("ttfa_ms", in: t, [String: Any].self)
            var byRecording: [String: [Double]] = [:]
            for (recording, values) in samples {
                guard let list = values as? [Any] else {
                    throw CheckError("baseline \(path): ttfa_ms of \(name)/\(recording) is not a list; \(hint)")
                }
                var numbers: [Double] = []
                for value in list {
                    guard let number = (value as? NSNumber)?.doubleValue, number.isFinite, number >= 0 else {
                        throw CheckError(
                            "baseline \(path): \(name)/\(recording) holds '\(value)', not a TTFA in ms; \(hint)")
                    }
                    numbers.append(number)
                }
                byRecording[recording] = numbers.sorted()
            }
            transports.append(
                (
                    name,
                    TransportSamples(
                        trials: try field("trials", in: t, Int.self), ok: try field("ok", in: t, Int.self),
                        failed: try field("failed", in: t, Int.self), invalid: try field("invalid", in: t, Int.self),
                        ttfaMs: byRecording)
                ))
        }
        self.transports = transports
    }
}
