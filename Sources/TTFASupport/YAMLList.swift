import Yams

/// Reads a list of strings from YAML (or JSON, which YAML reads too): the document itself, or
/// the list under `key` of a mapping.
package enum YAMLList {
    package struct Failure: Error {
        package var message: String
    }

    package static func strings(_ text: String, key: String) throws(Failure) -> [String] {
        // Composed, not loaded: Yams' `load` crashes on a mapping whose key is not a scalar
        // (`? [a]: b`; found by the `check-files` fuzz target), `compose` gives the nodes as
        // written.
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw Failure(message: "not YAML or JSON (\(error))")
        }
        var list = root
        if let mapping = root?.mapping {
            var unknown: [String] = []
            list = nil
            for (name, value) in mapping {
                guard let name = name.scalar?.string else {
                    throw Failure(message: "a key that is not a name (only '\(key)')")
                }
                if name == key { list = value } else { unknown.append(name) }
            }
            guard unknown.isEmpty else {
                throw Failure(
                    message: "unknown key \(unknown.sorted().map { "'\($0)'" }.joined(separator: ", ")) (only '\(key)')"
                )
            }
        }
        guard let items = list?.sequence else { throw Failure(message: "expected a list of strings") }
        var out: [String] = []
        for (index, item) in items.enumerated() {
            guard let string = item.scalar?.string else {
                throw Failure(
                    message: "item \(index + 1) is not a string but a \(item.sequence != nil ? "list" : "mapping")")
            }
            out.append(string)
        }
        return out
    }
}
