/// A path into a JSON value: `choices[0].delta.audio.data`, `response.id`, `$.audio`, or keys
/// that contain dots quoted as `["x.y"]`. Evaluated on what `JSONSerialization` returns.
package struct JSONPath: Sendable, Hashable, CustomStringConvertible {
    package enum Step: Sendable, Hashable {
        case key(String)
        case index(Int)
    }

    package let steps: [Step]
    package let description: String

    package struct SyntaxError: Error, CustomStringConvertible {
        package var description: String
    }

    /// A path from its steps (empty: the value itself).
    package init(steps: [Step]) {
        self.steps = steps
        description =
            steps.isEmpty
            ? "$"
            : steps.enumerated().map { index, step in
                switch step {
                case .key(let key):
                    (index == 0 ? "" : ".") + (key.contains(".") || key.contains("[") ? "[\"\(key)\"]" : key)
                case .index(let i): "[\(i)]"
                }
            }.joined()
    }

    package init(_ text: String) throws(SyntaxError) {
        description = text
        var rest = Substring(text)
        if rest.hasPrefix("$") {
            rest = rest.dropFirst()
            if rest.hasPrefix(".") { rest = rest.dropFirst() }
        }
        guard !rest.isEmpty else {
            throw SyntaxError(
                description: "\"\(text)\" is an empty path; write e.g. data.audio or choices[0].delta.audio.data")
        }
        var steps: [Step] = []
        var expectKey = true
        while !rest.isEmpty {
            if rest.hasPrefix("[") {
                guard let close = rest.firstIndex(of: "]") else {
                    throw SyntaxError(description: "\"\(text)\" has a \"[\" without \"]\"")
                }
                let inside = rest[rest.index(after: rest.startIndex)..<close]
                if let index = Int(inside), index >= 0 {
                    steps.append(.index(index))
                } else if inside.count >= 2, let quote = inside.first, quote == "\"" || quote == "'",
                    inside.last == quote
                {
                    steps.append(.key(String(inside.dropFirst().dropLast())))
                } else {
                    throw SyntaxError(
                        description:
                            "\"\(text)\": [\(inside)] is neither an array index ([0]) nor a quoted key ([\"a.b\"])")
                }
                rest = rest[rest.index(after: close)...]
                expectKey = false
                continue
            }
            if rest.hasPrefix(".") {
                guard !expectKey else {
                    throw SyntaxError(description: "\"\(text)\" has an empty key (two dots, or a leading dot)")
                }
                rest = rest.dropFirst()
                expectKey = true
                guard !rest.isEmpty, !rest.hasPrefix(".") else {
                    throw SyntaxError(description: "\"\(text)\" has an empty key (two dots, or a trailing dot)")
                }
                continue
            }
            guard expectKey else { throw SyntaxError(description: "\"\(text)\": expected \".\" or \"[\" after \"]\"") }
            let end = rest.firstIndex { $0 == "." || $0 == "[" } ?? rest.endIndex
            let key = rest[..<end]
            if key.contains(where: { $0 == "]" || $0 == " " || $0 == "{" || $0 == "}" }) {
                throw SyntaxError(
                    description:
                        "\"\(text)\": key \"\(key)\" has a character a path key cannot (quote it: [\"\(key)\"])")
            }
            steps.append(.key(String(key)))
            rest = rest[end...]
            expectKey = false
        }
        self.steps = steps
    }

    /// The value at this path in `root`, or nil (a missing key, an index out of range, a step
    /// into something that is not an object or array). JSON null is returned as `NSNull`-like
    /// `Optional.none` only when absent; a present null is returned as is.
    package func value(in root: Any) -> Any? {
        var current: Any = root
        for step in steps {
            switch step {
            case .key(let key):
                guard let object = current as? [String: Any], let next = object[key] else { return nil }
                current = next
            case .index(let index):
                guard let array = current as? [Any], index < array.count else { return nil }
                current = array[index]
            }
        }
        return current
    }

    /// The string at this path, or nil when it is absent or not a string.
    package func string(in root: Any) -> String? { value(in: root) as? String }

    /// `root` with `value` set at this path, creating objects and arrays on the way (arrays are
    /// padded with empty objects).
    package func setting(_ value: Any, in root: Any?) -> Any {
        Self.set(value, steps: steps[...], in: root)
    }

    private static func set(_ value: Any, steps: ArraySlice<Step>, in node: Any?) -> Any {
        guard let step = steps.first else { return value }
        let rest = steps.dropFirst()
        switch step {
        case .key(let key):
            var object = node as? [String: Any] ?? [:]
            object[key] = set(value, steps: rest, in: object[key])
            return object
        case .index(let index):
            var array = node as? [Any] ?? []
            while array.count <= index { array.append([String: Any]()) }
            array[index] = set(value, steps: rest, in: array[index])
            return array
        }
    }
}
