/// The ICE candidates of an SDP, rewritten for the link emulator: the client's own are left out
/// of its offer (the peer learns the relay's address when the first check arrives through it),
/// and each of the peer's UDP IPv4 candidates in the answer is replaced by its relay's address
/// (the others are left out, so no media bypasses the link). Pure: tested without sockets.
enum SDPCandidates {
    /// One `a=candidate:` line's address.
    struct Candidate: Equatable {
        var transport: String
        var host: String
        var port: Int

        /// UDP to an IPv4 address: what the link emulator relays.
        var isRelayable: Bool {
            transport.lowercased() == "udp" && host.split(separator: ".").count == 4
                && host.split(separator: ".").allSatisfy { UInt8($0) != nil }
        }
    }

    /// The candidate on an SDP line (`a=candidate:FOUNDATION COMPONENT TRANSPORT PRIORITY ADDRESS PORT typ TYPE …`).
    static func candidate(in line: Substring) -> Candidate? {
        guard line.hasPrefix("a=candidate:") else { return nil }
        let fields = line.dropFirst("a=candidate:".count).split(separator: " ")
        guard fields.count >= 8, fields[6] == "typ", let port = Int(fields[5]) else { return nil }
        return Candidate(transport: String(fields[2]), host: String(fields[4]), port: port)
    }

    /// `sdp` without candidate lines (its line endings kept).
    static func removingCandidates(_ sdp: String) -> String {
        let (lines, end) = split(sdp)
        return lines.filter { !$0.hasPrefix("a=candidate:") }.joined(separator: end)
    }

    /// `sdp` with every relayable candidate's address replaced by `relay(host, port)`'s, and
    /// the other candidates left out; also how many candidates were relayed.
    static func relaying(
        _ sdp: String, through relay: (String, Int) throws -> (host: String, port: Int)
    ) rethrows -> (sdp: String, relayed: Int) {
        let (lines, end) = split(sdp)
        var out: [String] = []
        var relayed = 0
        for line in lines {
            guard line.hasPrefix("a=candidate:") else {
                out.append(line)
                continue
            }
            guard let candidate = candidate(in: line[...]), candidate.isRelayable else { continue }
            let (host, port) = try relay(candidate.host, candidate.port)
            var fields = line.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
            fields[4] = host
            fields[5] = String(port)
            out.append(fields.joined(separator: " "))
            relayed += 1
        }
        return (out.joined(separator: end), relayed)
    }

    /// The lines and the line ending they use (SDP's is CRLF; a bare LF is read too).
    private static func split(_ sdp: String) -> (lines: [String], end: String) {
        let end = sdp.contains("\r\n") ? "\r\n" : "\n"
        return (sdp.components(separatedBy: end), end)
    }
}
