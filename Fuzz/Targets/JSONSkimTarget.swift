import DialectSpec
import Foundation

/// The JSON skimmer the hot path uses instead of a full parse: any text; where it finds a
/// string at a path in a document Foundation's parser accepts, Foundation finds the same value.
package enum JSONSkimTarget: FuzzTarget {
    package static let name = "json-skim"
    package static let summary = "JSONSkim.strings/values/type against JSONSerialization"

    package static func run(_ input: [UInt8]) {
        let text = String(decoding: input, as: UTF8.self)
        let strings = JSONSkim.strings(text, keys: ["type", "delta", "response_id", "id"])
        _ = JSONSkim.type(text)
        _ = JSONSkim.values(
            text, paths: [[.key("choices"), .index(0), .key("delta"), .key("audio"), .key("data")], [.key("type")]])
        guard let strings, let type = strings["type"],
            let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
            let expected = object["type"] as? String
        else { return }
        // Duplicate keys: Foundation keeps one of them; only compare when "type" occurs once.
        guard text.components(separatedBy: "\"type\"").count == 2 else { return }
        require(type == expected, "skim read type \(type.debugDescription), Foundation \(expected.debugDescription)")
    }
}
