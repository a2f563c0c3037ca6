import Foundation

/// OpenAI models with a announced shutdown date, as the official SDK's type definitions carry
/// them (late 2026). A run naming one warns, so a number is not measured against a model about
/// to disappear — or one that already has.
package enum ModelLifecycle {
    package static let shutdowns: [String: String] = [
        "gpt-realtime": "2027-01-20",
        "gpt-realtime-mini": "2027-01-20",
        "gpt-audio-mini": "2027-01-20",
        "gpt-4o-audio-preview": "2026-05-07",
    ]

    /// A warning for `model` on `date` (YYYY-MM-DD, UTC), or nil: past its shutdown, or
    /// within 90 days of it. Dated snapshots (`gpt-4o-audio-preview-2025-06-03`) count as
    /// their family.
    package static func warning(for model: String, on date: Date = Date(), flag: String) -> String? {
        guard let (name, shutdown) = shutdowns.first(where: { model == $0.key || model.hasPrefix($0.key + "-20") })
        else { return nil }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd"
        guard let end = formatter.date(from: shutdown) else { return nil }
        let days = Int((end.timeIntervalSince(date) / 86_400).rounded(.down))
        if days < 0 {
            return
                "\(flag) \(model): \(name) was shut down on \(shutdown) (OpenAI's SDK types); expect errors, or name a current model"
        }
        if days <= 90 {
            return
                "\(flag) \(model): \(name) shuts down on \(shutdown), in \(days) day\(days == 1 ? "" : "s") (OpenAI's SDK types); numbers measured against it will not stay reproducible"
        }
        return nil
    }

    /// The `model` query parameter of a Realtime URL.
    package static func model(inURL url: String) -> String? {
        URLComponents(string: url)?.queryItems?.first { $0.name == "model" }?.value
    }
}
