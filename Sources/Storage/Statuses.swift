import VoiceTransport

/// How a run stands: measuring, finished, or stopped before its end (Ctrl-C, a storage fault).
package enum RunStatus: String, Sendable, Codable, CaseIterable {
    case running, complete, interrupted
}

/// How a trial ended, as stored (`trials.status`): `ok`, `invalid` (the harness could not keep
/// the schedule), or the kind of error that failed it.
package enum TrialStatus: Sendable, Hashable, Codable, CustomStringConvertible {
    case ok
    case invalid
    case failed(ErrorKind)

    /// The stored word (`ok`, `invalid`, `timeout`, …); nil for a word no ttfa wrote.
    package init?(rawValue: String) {
        switch rawValue {
        case "ok": self = .ok
        case "invalid": self = .invalid
        default:
            guard let kind = ErrorKind(rawValue: rawValue) else { return nil }
            self = .failed(kind)
        }
    }

    package var rawValue: String {
        switch self {
        case .ok: "ok"
        case .invalid: "invalid"
        case .failed(let kind): kind.rawValue
        }
    }

    package var description: String { rawValue }

    /// The error kind of a failed trial.
    package var errorKind: ErrorKind? {
        if case .failed(let kind) = self { return kind }
        return nil
    }

    package init(from decoder: any Decoder) throws {
        let word = try decoder.singleValueContainer().decode(String.self)
        guard let status = TrialStatus(rawValue: word) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "unknown trial status \(word)"))
        }
        self = status
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
