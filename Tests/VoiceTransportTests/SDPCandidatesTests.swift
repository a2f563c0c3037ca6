import Testing

@testable import VoiceTransport

@Suite("ICE candidates rewritten for the link emulator")
struct SDPCandidatesTests {
    /// A webrtcbin answer (CRLF lines): UDP and TCP candidates on IPv4, IPv6 and link-local.
    static let answer = [
        "v=0", "o=- 1 0 IN IP4 0.0.0.0", "s=-", "t=0 0", "a=group:BUNDLE audio0 application1",
        "m=audio 9 UDP/TLS/RTP/SAVPF 111", "c=IN IP4 0.0.0.0", "a=ice-ufrag:u", "a=ice-pwd:p", "a=mid:audio0",
        "a=candidate:1 1 UDP 2015363327 192.0.2.2 54445 typ host",
        "a=candidate:2 1 TCP 1015021823 192.0.2.2 9 typ host tcptype active",
        "a=candidate:4 1 UDP 2015363583 fd00::2 47163 typ host",
        "a=candidate:7 1 UDP 1677729535 198.51.100.9 3478 typ srflx raddr 192.0.2.2 rport 54445",
        "a=candidate:8 1 UDP 2015363583 abc.local 47163 typ host",
        "m=application 9 UDP/DTLS/SCTP webrtc-datachannel", "a=mid:application1", "",
    ].joined(separator: "\r\n")

    @Test func everyUDPIPv4CandidateIsReplacedByItsRelayAndNoOtherIsLeft() {
        var asked: [String] = []
        let (sdp, relayed) = SDPCandidates.relaying(Self.answer) { host, port in
            asked.append("\(host):\(port)")
            return ("127.0.0.1", 40_000 + asked.count)
        }
        #expect(asked == ["192.0.2.2:54445", "198.51.100.9:3478"])
        #expect(relayed == 2)
        let candidates = sdp.components(separatedBy: "\r\n").filter { $0.hasPrefix("a=candidate:") }
        #expect(
            candidates == [
                "a=candidate:1 1 UDP 2015363327 127.0.0.1 40001 typ host",
                "a=candidate:7 1 UDP 1677729535 127.0.0.1 40002 typ srflx raddr 192.0.2.2 rport 54445",
            ], "TCP, IPv6 and mDNS candidates would bypass the link")
        #expect(sdp.hasSuffix("a=mid:application1\r\n") && !sdp.contains("\n\n"), "CRLF lines kept as they were")
        #expect(sdp.components(separatedBy: "\r\n").count == Self.answer.components(separatedBy: "\r\n").count - 3)
    }

    @Test func theOfferGoesWithoutCandidatesSoThePeerLearnsTheRelaysAddress() {
        let offer = SDPCandidates.removingCandidates(Self.answer)
        #expect(!offer.contains("a=candidate"))
        #expect(offer.contains("a=ice-ufrag:u\r\na=ice-pwd:p\r\n"), "the ICE credentials stay")
        let bareLF = SDPCandidates.removingCandidates(Self.answer.replacingOccurrences(of: "\r\n", with: "\n"))
        #expect(bareLF == offer.replacingOccurrences(of: "\r\n", with: "\n"))
    }

    @Test func aLineThatIsNotACandidateIsNotReadAsOne() {
        #expect(SDPCandidates.candidate(in: "a=candidate:1 1 UDP 1 192.0.2.2 notaport typ host") == nil)
        #expect(SDPCandidates.candidate(in: "a=candidate:1 1 UDP") == nil)
        #expect(SDPCandidates.candidate(in: "a=mid:audio0") == nil)
        #expect(
            SDPCandidates.candidate(in: "a=candidate:1 1 udp 1 10.0.0.1 5000 typ host")
                == .init(transport: "udp", host: "10.0.0.1", port: 5000))
        #expect(SDPCandidates.Candidate(transport: "UDP", host: "300.1.1.1", port: 1).isRelayable == false)
    }
}
