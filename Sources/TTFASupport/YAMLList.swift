import Yams

/// Reads a list of strings from YAML (or JSON, which YAML reads too): the document itself, or
/// the list under `key` of a mapping.
package enum YAMLList {
    package struct Failure: Error {
        package var message: String
    }

    package static func strings(_ text: String, key: String) throws(Failure) -> [String] {
        let node: Any?
        do {
            node = try Yams.load(yaml: text)
        } catch {
            throw Failure(message: "not YAML or JSON (\(error))")
        }
        var list = node
        if let mapping = node as? [String: Any] {
            let unknown = mapping.keys.filter { $0 != key }.sorted()
            guard unknown.isEmpty else {
                throw Failure(
                    message: "unknown key \(unknown.map { "'\($0)'" }.joined(separator: ", ")) (only '\(key)')")
            }
            list = mapping[key]
        }
        guard let items = list as? [Any] else { throw Failure(message: "expected a list of strings") }
        var out: [String] = []
        for (index, item) in items.enumerated() {
            guard let string = item as? String else {
                throw Failure(message: "item \(index + 1) is not a string: \(item)")
            }
            out.append(string)
        }
        return out
    }
}
