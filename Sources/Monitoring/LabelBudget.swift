/// Bounds the distinct values a label takes: the first `limit` values seen keep their names,
/// every later one is folded into `other`, so the series of a long monitor stay bounded
/// however many recordings it is given.
package struct LabelBudget: Sendable {
    package static let other = "other"
    package let limit: Int
    private var kept: Set<String> = []
    /// Distinct values folded into `other`.
    package private(set) var folded: Set<String> = []

    package init(limit: Int) {
        self.limit = max(1, limit)
    }

    /// The label value to use for `value`.
    package mutating func label(_ value: String) -> String {
        if kept.contains(value) { return value }
        if kept.count < limit && value != Self.other {
            kept.insert(value)
            return value
        }
        folded.insert(value)
        return Self.other
    }
}
