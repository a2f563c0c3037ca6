import ArgumentParser
import Foundation
import VoiceTransport

/// Which transports to measure: `all`, or names separated by commas.
struct TransportChoice: ExpressibleByArgument, Equatable {
    var kinds: [TransportKind]
    var isAll: Bool

    static let all = TransportChoice(kinds: TransportKind.all, isAll: true)

    init(kinds: [TransportKind], isAll: Bool) {
        self.kinds = kinds
        self.isAll = isAll
    }

    init?(argument: String) {
        if argument == "all" {
            self = .all
            return
        }
        var kinds: [TransportKind] = []
        for name in argument.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            guard let kind = TransportKind(rawValue: name) else { return nil }
            if !kinds.contains(kind) { kinds.append(kind) }
        }
        guard !kinds.isEmpty else { return nil }
        self.init(kinds: TransportKind.all.filter(kinds.contains), isAll: false)
    }

    static var allValueStrings: [String] { TransportKind.all.map(\.rawValue) + ["all"] }

    var defaultValueDescription: String { isAll ? "all" : kinds.map(\.rawValue).joined(separator: ",") }
    var name: String { isAll ? "all" : kinds.map(\.rawValue).joined(separator: ",") }
}
