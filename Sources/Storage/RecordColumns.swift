import Foundation

/// A value in a column, as both stores hold it (and as CSV writes it).
package enum StorageValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
}

/// The one mapping between a record and its table: each stored property is a column named by
/// its name in snake case (`runID` → `run_id`, `ttfaP50Ns` → `ttfa_p50_ns`, `configJSON` →
/// `config_json`), holding a null, an integer, a real or a text. Both stores write and read
/// records through it, the CSV export lists its columns, and the schema test checks the SQL
/// tables and results/README.md against it — so a column exists in every place or the tests fail.
package enum RecordColumns {
    /// The record's columns, in declaration order (nil properties included, as `.null`).
    package static func encode<Record: Encodable>(_ record: Record) throws -> [(name: String, value: StorageValue)] {
        let encoder = ColumnEncoder()
        try record.encode(to: encoder)
        return encoder.storage.columns
    }

    /// A record from a row of columns (extra columns are ignored; a missing one reads as null).
    package static func decode<Record: Decodable>(_ type: Record.Type, from row: [String: StorageValue]) throws
        -> Record
    {
        try Record(from: ColumnDecoder(row: row))
    }

    /// `runID` → `run_id`, `ttfaP50Ns` → `ttfa_p50_ns`, `configJSON` → `config_json`.
    package static func columnName(_ property: String) -> String {
        var out = ""
        let characters = Array(property)
        for (index, character) in characters.enumerated() {
            if character.isUppercase, index > 0 {
                let previous = characters[index - 1]
                let next = index + 1 < characters.count ? characters[index + 1] : nil
                // A new word: after a lowercase letter or digit, or the last capital of a run
                // that a lowercase letter follows (`JSONValue` → `json_value`).
                if previous.isLowercase || previous.isNumber || (previous.isUppercase && (next?.isLowercase ?? false)) {
                    out.append("_")
                }
            }
            out.append(contentsOf: character.lowercased())
        }
        return out
    }
}

/// What the encoder collects.
final class ColumnStorage {
    var columns: [(name: String, value: StorageValue)] = []
}

struct ColumnEncoder: Encoder {
    let storage: ColumnStorage
    var codingPath: [any CodingKey] = []
    var userInfo: [CodingUserInfoKey: Any] = [:]

    init(storage: ColumnStorage = ColumnStorage()) {
        self.storage = storage
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        KeyedEncodingContainer(Keyed(storage: storage))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        fatalError("a stored record has no arrays; RecordColumns encodes flat records only")
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        fatalError("a stored record is keyed; RecordColumns encodes flat records only")
    }

    struct Keyed<Key: CodingKey>: KeyedEncodingContainerProtocol {
        let storage: ColumnStorage
        var codingPath: [any CodingKey] = []

        mutating func add(_ key: Key, _ value: StorageValue) {
            storage.columns.append((RecordColumns.columnName(key.stringValue), value))
        }

        mutating func encodeNil(forKey key: Key) throws { add(key, .null) }
        mutating func encode(_ value: Bool, forKey key: Key) throws { add(key, .integer(value ? 1 : 0)) }
        mutating func encode(_ value: String, forKey key: Key) throws { add(key, .text(value)) }
        mutating func encode(_ value: Double, forKey key: Key) throws { add(key, .real(value)) }
        mutating func encode(_ value: Int, forKey key: Key) throws { add(key, .integer(Int64(value))) }
        mutating func encode(_ value: Int64, forKey key: Key) throws { add(key, .integer(value)) }

        mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
            // A typed value (a status) is stored as the primitive it encodes itself as.
            let single = SingleValue()
            try value.encode(to: single)
            add(key, single.value)
        }

        // Optionals: a nil is a NULL column, never a missing one.
        mutating func encodeIfPresent(_ value: Bool?, forKey key: Key) throws {
            if let value { try encode(value, forKey: key) } else { add(key, .null) }
        }
        mutating func encodeIfPresent(_ value: String?, forKey key: Key) throws {
            if let value { try encode(value, forKey: key) } else { add(key, .null) }
        }
        mutating func encodeIfPresent(_ value: Double?, forKey key: Key) throws {
            if let value { try encode(value, forKey: key) } else { add(key, .null) }
        }
        mutating func encodeIfPresent(_ value: Int?, forKey key: Key) throws {
            if let value { try encode(value, forKey: key) } else { add(key, .null) }
        }
        mutating func encodeIfPresent(_ value: Int64?, forKey key: Key) throws {
            if let value { try encode(value, forKey: key) } else { add(key, .null) }
        }
        mutating func encodeIfPresent<T: Encodable>(_ value: T?, forKey key: Key) throws {
            if let value { try encode(value, forKey: key) } else { add(key, .null) }
        }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key)
            -> KeyedEncodingContainer<NestedKey>
        {
            fatalError("a stored record is flat; \(key.stringValue) is nested")
        }

        mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
            fatalError("a stored record is flat; \(key.stringValue) is a list")
        }

        mutating func superEncoder() -> any Encoder { fatalError("a stored record has no superclass") }
        mutating func superEncoder(forKey key: Key) -> any Encoder { fatalError("a stored record has no superclass") }
    }

    /// The primitive a typed value encodes itself as.
    final class SingleValue: Encoder, SingleValueEncodingContainer {
        var value: StorageValue = .null
        var codingPath: [any CodingKey] = []
        var userInfo: [CodingUserInfoKey: Any] = [:]

        func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
            fatalError("a stored value is a single primitive")
        }

        func unkeyedContainer() -> any UnkeyedEncodingContainer { fatalError("a stored value is a single primitive") }
        func singleValueContainer() -> any SingleValueEncodingContainer { self }

        func encodeNil() throws { value = .null }
        func encode(_ value: Bool) throws { self.value = .integer(value ? 1 : 0) }
        func encode(_ value: String) throws { self.value = .text(value) }
        func encode(_ value: Double) throws { self.value = .real(value) }
        func encode(_ value: Int) throws { self.value = .integer(Int64(value)) }
        func encode(_ value: Int64) throws { self.value = .integer(value) }
        func encode<T: Encodable>(_ value: T) throws { try value.encode(to: self) }
        func encode(_ value: Float) throws { self.value = .real(Double(value)) }
        func encode(_ value: Int8) throws { self.value = .integer(Int64(value)) }
        func encode(_ value: Int16) throws { self.value = .integer(Int64(value)) }
        func encode(_ value: Int32) throws { self.value = .integer(Int64(value)) }
        func encode(_ value: UInt) throws { self.value = .integer(Int64(value)) }
        func encode(_ value: UInt8) throws { self.value = .integer(Int64(value)) }
        func encode(_ value: UInt16) throws { self.value = .integer(Int64(value)) }
        func encode(_ value: UInt32) throws { self.value = .integer(Int64(value)) }
        func encode(_ value: UInt64) throws { self.value = .integer(Int64(bitPattern: value)) }
    }
}

struct ColumnDecoder: Decoder {
    let row: [String: StorageValue]
    var codingPath: [any CodingKey] = []
    var userInfo: [CodingUserInfoKey: Any] = [:]

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        KeyedDecodingContainer(Keyed(row: row))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        throw DecodingError.typeMismatch(
            [Any].self, .init(codingPath: codingPath, debugDescription: "a stored record has no arrays"))
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        throw DecodingError.typeMismatch(
            Any.self, .init(codingPath: codingPath, debugDescription: "a stored record is keyed"))
    }

    struct Keyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
        let row: [String: StorageValue]
        var codingPath: [any CodingKey] = []
        var allKeys: [Key] { [] }

        func value(_ key: Key) -> StorageValue { row[RecordColumns.columnName(key.stringValue)] ?? .null }
        func contains(_ key: Key) -> Bool { true }
        func decodeNil(forKey key: Key) throws -> Bool { value(key) == .null }

        func mismatch<T>(_ type: T.Type, _ key: Key) -> DecodingError {
            .typeMismatch(
                type,
                .init(
                    codingPath: codingPath + [key],
                    debugDescription: "column \(RecordColumns.columnName(key.stringValue)) holds \(value(key))"))
        }

        func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool {
            guard case .integer(let v) = value(key) else { throw mismatch(type, key) }
            return v != 0
        }

        func decode(_ type: String.Type, forKey key: Key) throws -> String {
            guard case .text(let v) = value(key) else { throw mismatch(type, key) }
            return v
        }

        func decode(_ type: Double.Type, forKey key: Key) throws -> Double {
            switch value(key) {
            case .real(let v): return v
            case .integer(let v): return Double(v)
            default: throw mismatch(type, key)
            }
        }

        func decode(_ type: Int.Type, forKey key: Key) throws -> Int { Int(try decode(Int64.self, forKey: key)) }

        func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 {
            guard case .integer(let v) = value(key) else { throw mismatch(type, key) }
            return v
        }

        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
            try T(from: SingleValue(value: value(key), codingPath: codingPath + [key]))
        }

        func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
            -> KeyedDecodingContainer<NestedKey>
        {
            throw mismatch([String: StorageValue].self, key)
        }

        func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
            throw mismatch([Any].self, key)
        }
        func superDecoder() throws -> any Decoder {
            throw DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: "no superclass"))
        }
        func superDecoder(forKey key: Key) throws -> any Decoder { try superDecoder() }
    }

    /// A typed value (a status) read from its primitive.
    struct SingleValue: Decoder, SingleValueDecodingContainer {
        let value: StorageValue
        var codingPath: [any CodingKey]
        var userInfo: [CodingUserInfoKey: Any] = [:]

        func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
            throw mismatch([String: StorageValue].self)
        }
        func unkeyedContainer() throws -> any UnkeyedDecodingContainer { throw mismatch([Any].self) }
        func singleValueContainer() throws -> any SingleValueDecodingContainer { self }

        func mismatch<T>(_ type: T.Type) -> DecodingError {
            .typeMismatch(type, .init(codingPath: codingPath, debugDescription: "the column holds \(value)"))
        }

        func decodeNil() -> Bool { value == .null }

        func decode(_ type: Bool.Type) throws -> Bool {
            guard case .integer(let v) = value else { throw mismatch(type) }
            return v != 0
        }

        func decode(_ type: String.Type) throws -> String {
            guard case .text(let v) = value else { throw mismatch(type) }
            return v
        }

        func decode(_ type: Double.Type) throws -> Double {
            switch value {
            case .real(let v): return v
            case .integer(let v): return Double(v)
            default: throw mismatch(type)
            }
        }

        func decode(_ type: Float.Type) throws -> Float { Float(try decode(Double.self)) }
        func decode(_ type: Int.Type) throws -> Int { Int(try decode(Int64.self)) }

        func decode(_ type: Int64.Type) throws -> Int64 {
            guard case .integer(let v) = value else { throw mismatch(type) }
            return v
        }

        func decode(_ type: Int8.Type) throws -> Int8 { Int8(try decode(Int64.self)) }
        func decode(_ type: Int16.Type) throws -> Int16 { Int16(try decode(Int64.self)) }
        func decode(_ type: Int32.Type) throws -> Int32 { Int32(try decode(Int64.self)) }
        func decode(_ type: UInt.Type) throws -> UInt { UInt(try decode(Int64.self)) }
        func decode(_ type: UInt8.Type) throws -> UInt8 { UInt8(try decode(Int64.self)) }
        func decode(_ type: UInt16.Type) throws -> UInt16 { UInt16(try decode(Int64.self)) }
        func decode(_ type: UInt32.Type) throws -> UInt32 { UInt32(try decode(Int64.self)) }
        func decode(_ type: UInt64.Type) throws -> UInt64 { UInt64(bitPattern: try decode(Int64.self)) }
        func decode<T: Decodable>(_ type: T.Type) throws -> T { try T(from: self) }
    }
}
