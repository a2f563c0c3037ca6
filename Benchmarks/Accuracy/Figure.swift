import Foundation
import Statistics

/// Measured values (milliseconds unless said otherwise) and the order statistics the judges use.
struct Sample: Sendable, Codable, Equatable {
    /// In the order they were measured.
    var values: [Double]

    init(_ values: [Double]) { self.values = values }

    /// The `q` quantile (0…1), type 7 as in ttfa's own summaries.
    func quantile(_ q: Double) -> Double {
        values.isEmpty ? .nan : Summary.percentile(values.sorted(), q)
    }

    var median: Double { quantile(0.5) }
    var min: Double { values.min() ?? .nan }
    var max: Double { values.max() ?? .nan }

    /// p75 − p25: how far this run's values scatter, robust to the odd stall.
    var iqr: Double { quantile(0.75) - quantile(0.25) }

    /// Standard error of the median from the interquartile range (σ ≈ IQR / 1.349 for a normal
    /// core; the median's standard error is √(π/2) · σ / √n).
    var medianStandardError: Double {
        values.isEmpty ? .nan : (Double.pi / 2).squareRoot() * (iqr / 1.349) / Double(values.count).squareRoot()
    }
}

/// One accuracy figure: a measured quantity beside what the configuration says it should be,
/// judged against a tolerance that the same run's own baseline measurement gives.
///
/// The tolerance is never a constant chosen after a failure: it is `noiseSigmas` standard
/// errors of the difference between the measured and the baseline medians, both taken in the
/// same run, interleaved.
struct Figure: Sendable, Codable {
    /// What is measured, e.g. "link rtt=40ms: added round trip".
    var name: String
    var unit: String
    /// What the configuration asks for.
    var expected: Double
    /// What was measured (after subtracting the baseline).
    var measured: Double
    /// How far `measured` may lie from `expected` in this run.
    var tolerance: Double
    /// How the baseline was taken and the tolerance derived, for the printed table.
    var basis: String

    var deviation: Double { measured - expected }
    var withinTolerance: Bool { abs(deviation) <= tolerance }

    /// How many standard errors of the difference a figure may be off before it fails: at 4,
    /// a correct emulator fails by chance about once in 16,000 figures.
    static let noiseSigmas = 4.0

    /// The tolerance for a sum or difference of medians of samples measured in the same run
    /// (a sample that enters twice is passed twice).
    static func tolerance(_ samples: Sample...) -> Double {
        noiseSigmas * samples.reduce(0) { $0 + $1.medianStandardError * $1.medianStandardError }.squareRoot()
    }

    var line: String {
        let status = withinTolerance ? "ok" : "OUTSIDE"
        return
            "\(name): \(Self.format(measured)) \(unit) (configured \(Self.format(expected)), off by \(Self.format(deviation)), "
            + "tolerance ±\(Self.format(tolerance))) \(status)\n    \(basis)"
    }

    static func format(_ value: Double) -> String {
        abs(value) >= 100
            ? String(format: "%.1f", value)
            : abs(value) >= 1 ? String(format: "%.2f", value) : String(format: "%.3f", value)
    }
}
