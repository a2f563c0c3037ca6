import Foundation

/// Number formatting shared by every human-readable output.
package enum Format {
    /// "4.87 ms", "41.3 ms", "412 ms".
    package static func ms(_ value: Double?) -> String {
        guard let value else { return "–" }
        return number(value) + " ms"
    }

    /// Three significant digits, at most two decimals.
    package static func number(_ value: Double) -> String {
        String(format: "%.\(decimals(value))f", value)
    }

    static func decimals(_ value: Double) -> Int {
        let magnitude = abs(value)
        return magnitude >= 100 ? 0 : magnitude >= 10 ? 1 : 2
    }

    /// Two values with enough decimals that their difference shows ("203.4", "209.5" rather
    /// than "203", "210").
    package static func pair(_ a: Double, _ b: Double) -> (String, String) {
        var places = max(decimals(a), decimals(b))
        let gap = abs(a - b)
        if gap > 0 && gap < 10 { places = max(places, 1) }
        if gap > 0 && gap < 1 { places = max(places, 2) }
        return (String(format: "%.\(places)f", a), String(format: "%.\(places)f", b))
    }

    /// "2.6×", "1.03×", "12×": two decimals near 1×, where one would hide the difference.
    package static func ratio(_ value: Double, unit: Bool = true) -> String {
        String(format: "%.\(ratioDecimals(value))f", value) + (unit ? "×" : "")
    }

    /// The bounds of an interval with the same number of decimals.
    package static func ratioPair(_ low: Double, _ high: Double) -> (String, String) {
        let places = max(ratioDecimals(low), ratioDecimals(high))
        return (String(format: "%.\(places)f", low), String(format: "%.\(places)f", high))
    }

    static func ratioDecimals(_ value: Double) -> Int {
        value >= 10 ? 0 : abs(value - 1) < 0.2 ? 2 : 1
    }

    /// "1 trial", "3 trials".
    package static func count(_ n: Int, _ noun: String, plural: String? = nil) -> String {
        "\(n) \(n == 1 ? noun : plural ?? noun + "s")"
    }

    /// "closed ×2, http_status ×1".
    package static func kinds(_ counts: [(kind: String, count: Int)]) -> String {
        counts.map { "\($0.kind) ×\($0.count)" }.joined(separator: ", ")
    }
}
