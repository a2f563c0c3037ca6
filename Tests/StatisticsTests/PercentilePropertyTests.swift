import PropertyBased
import Testing

@testable import Statistics

/// The percentile every summary, threshold and verdict is built on, over generated samples.
@Suite("Percentile properties")
struct PercentilePropertyTests {
    /// Any percentile of a sample lies within it, never falls as the rank rises, and the 0th and
    /// 100th are its minimum and maximum — for samples of TTFAs from microseconds to minutes,
    /// with ties.
    @Test func aPercentileLiesWithinTheSampleAndRisesWithItsRank() async {
        await propertyCheck(
            count: 500, input: Gen.double(in: 0.001...600_000).array(of: 1...200), Gen.double(in: 0...1),
            Gen.double(in: 0...1)
        ) { values, a, b in
            let sorted = (values + values.prefix(3)).sorted()
            let (low, high) = (min(a, b), max(a, b))
            let p = Summary.percentile(sorted, low)
            let q = Summary.percentile(sorted, high)
            #expect(sorted.first! <= p && p <= sorted.last!, "p\(low * 100) = \(p)")
            #expect(p <= q, "p\(low * 100) = \(p) > p\(high * 100) = \(q)")
            #expect(Summary.percentile(sorted, 0) == sorted.first! && Summary.percentile(sorted, 1) == sorted.last!)
        }
    }

    /// Of a sample whose values are all one number, every percentile is that number.
    @Test func everyPercentileOfAConstantSampleIsThatValue() async {
        await propertyCheck(input: Gen.double(in: 0.001...600_000), Gen.int(in: 1...50), Gen.double(in: 0...1)) {
            value, count, q in
            #expect(Summary.percentile(Array(repeating: value, count: count), q) == value)
        }
    }
}
