import Foundation

/// The network between ttfa and an endpoint, as the link emulator plays it: per direction a
/// one-way delay, jitter (never reordering bytes), a bandwidth, packet loss, and occasional
/// stalls; optionally a buffering stage on the response path, as a misconfigured proxy or edge
/// platform holds SSE.
///
/// Loss means what it means to each protocol: a UDP datagram (WebRTC's media) is dropped; a
/// TCP packet is recovered one probe timeout later (`lossRecoveryMs`), holding the bytes behind
/// it, as TCP's retransmission does.
///
/// Written as a preset's name or a spec: `rtt=80ms,jitter=10ms,down=20mbit,up=5mbit`,
/// `loss=2%`, `stall=1%:200ms`, `buffer=4k`, `buffer=64k,flush=500ms`; a preset can be the first
/// item and be changed by the rest (`4g,buffer=4k`).
package struct LinkSpec: Sendable, Equatable, CustomStringConvertible {
    package var name: String
    /// Client → server.
    package var up: Direction
    /// Server → client.
    package var down: Direction
    /// Response bytes held until this many have gathered (or `flushMs` passed), if set.
    package var bufferBytes: Int?
    package var flushMs: Double?
    /// Seed of the jitter and stall draws.
    package var seed: UInt64

    package struct Direction: Sendable, Equatable {
        package var delayMs: Double
        /// Each delivery is moved by up to ± this much, but never before an earlier one.
        package var jitterMs: Double
        /// nil: unlimited.
        package var bitsPerSecond: Double?
        /// Share of deliveries (0…1) that stall, and for how long.
        package var stallProbability: Double
        package var stallMs: Double
        /// Share of packets (0…1) lost: a datagram is dropped, a TCP packet retransmitted.
        package var lossProbability: Double

        package init(
            delayMs: Double = 0, jitterMs: Double = 0, bitsPerSecond: Double? = nil, stallProbability: Double = 0,
            stallMs: Double = 0, lossProbability: Double = 0
        ) {
            self.delayMs = delayMs
            self.jitterMs = jitterMs
            self.bitsPerSecond = bitsPerSecond
            self.stallProbability = stallProbability
            self.stallMs = stallMs
            self.lossProbability = lossProbability
        }
    }

    package init(
        name: String, up: Direction, down: Direction, bufferBytes: Int? = nil, flushMs: Double? = nil, seed: UInt64 = 1
    ) {
        self.name = name
        self.up = up
        self.down = down
        self.bufferBytes = bufferBytes
        self.flushMs = flushMs
        self.seed = seed
    }

    /// Round-trip time, milliseconds.
    package var rttMs: Double { up.delayMs + down.delayMs }

    /// How much later a lost TCP packet arrives than it would have: its sender's tail-loss probe
    /// fires after 2 × RTT, at least 10 ms (RFC 8985; Linux's default), and the retransmission
    /// then travels as the original would have.
    package var lossRecoveryMs: Double { max(2 * rttMs, 10) }

    /// The bytes of one TCP packet (an Ethernet MTU's payload), for loss on TCP.
    package static let tcpPacketBytes = 1448

    // MARK: presets (numbers and sources in the README, "Links")

    /// Nothing added.
    package static let loopback = LinkSpec(name: "loopback", up: Direction(), down: Direction())
    /// A wired LAN: 1 ms round trip, 1 Gbit/s.
    package static let lan = symmetric("lan", rttMs: 1, jitterMs: 0.1, down: 1e9, up: 1e9)
    /// Home broadband: 40 ms round trip, 50 Mbit/s down, 10 Mbit/s up, 2 ms jitter.
    package static let broadband = symmetric("broadband", rttMs: 40, jitterMs: 2, down: 50e6, up: 10e6)
    /// WebPageTest's "4G" connectivity profile: 170 ms round trip, 9 Mbit/s each way; 10 ms
    /// jitter (our assumption).
    package static let fourG = symmetric("4g", rttMs: 170, jitterMs: 10, down: 9e6, up: 9e6)
    /// WebPageTest's "3G": 300 ms round trip, 1.6 Mbit/s down, 768 kbit/s up; 20 ms jitter and a
    /// 200 ms stall on 1% of deliveries (our assumptions, for loss and retransmission).
    package static let threeG: LinkSpec = {
        var spec = symmetric("3g", rttMs: 300, jitterMs: 20, down: 1.6e6, up: 768e3)
        spec.up.stallProbability = 0.01
        spec.up.stallMs = 200
        spec.down.stallProbability = 0.01
        spec.down.stallMs = 200
        return spec
    }()

    package static let presets: [LinkSpec] = [.loopback, .lan, .broadband, .fourG, .threeG]

    static func symmetric(_ name: String, rttMs: Double, jitterMs: Double, down: Double, up: Double) -> LinkSpec {
        LinkSpec(
            name: name, up: Direction(delayMs: rttMs / 2, jitterMs: jitterMs, bitsPerSecond: up),
            down: Direction(delayMs: rttMs / 2, jitterMs: jitterMs, bitsPerSecond: down))
    }

    // MARK: parsing

    package struct ParseError: Error, CustomStringConvertible, Sendable {
        package var message: String
        package var description: String { message }
    }

    /// Parses a preset's name or a spec (see the type's documentation).
    package init(parsing text: String) throws(ParseError) {
        let items = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !items.isEmpty else {
            throw ParseError(
                message:
                    "--link \"\(text)\" is empty; give a preset (\(Self.presetNames)) or a spec like rtt=80ms,down=20mbit,up=5mbit"
            )
        }
        var spec = LinkSpec.loopback
        var rest = items[...]
        if let preset = Self.presets.first(where: { $0.name == items[0] }) {
            spec = preset
            rest = items.dropFirst()
        } else if !items[0].contains("=") {
            throw ParseError(
                message: "--link \(items[0]) is not a preset (\(Self.presetNames)) nor a setting like rtt=80ms")
        }
        spec.name = text
        for item in rest {
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else {
                throw ParseError(
                    message:
                        "--link: \"\(item)\" is not NAME=VALUE (settings: \(Self.settingNames))"
                )
            }
            let (key, value) = (parts[0], parts[1])
            switch key {
            case "rtt":
                let ms = try Self.milliseconds(value, key)
                spec.up.delayMs = ms / 2
                spec.down.delayMs = ms / 2
            case "delay":
                let ms = try Self.milliseconds(value, key)
                spec.up.delayMs = ms
                spec.down.delayMs = ms
            case "jitter":
                let ms = try Self.milliseconds(value, key)
                spec.up.jitterMs = ms
                spec.down.jitterMs = ms
            case "down": spec.down.bitsPerSecond = try Self.rate(value, key)
            case "up": spec.up.bitsPerSecond = try Self.rate(value, key)
            case "stall":
                let pair = value.split(separator: ":").map(String.init)
                guard pair.count == 2, pair[0].hasSuffix("%"), let percent = Double(pair[0].dropLast()),
                    (0...100).contains(percent)
                else {
                    throw ParseError(message: "--link stall=\(value): expected PERCENT%:DURATION, e.g. stall=1%:200ms")
                }
                let ms = try Self.milliseconds(pair[1], "stall")
                spec.up.stallProbability = percent / 100
                spec.down.stallProbability = percent / 100
                spec.up.stallMs = ms
                spec.down.stallMs = ms
            case "loss":
                guard value.hasSuffix("%"), let percent = Double(value.dropLast()), (0..<100).contains(percent) else {
                    throw ParseError(
                        message:
                            "--link loss=\(value): expected a share of packets below 100%, e.g. loss=2% or loss=0.5%")
                }
                spec.up.lossProbability = percent / 100
                spec.down.lossProbability = percent / 100
            case "buffer": spec.bufferBytes = try Self.bytes(value)
            case "flush": spec.flushMs = try Self.milliseconds(value, key)
            case "seed":
                guard let seed = UInt64(value) else {
                    throw ParseError(message: "--link seed=\(value): expected a whole number")
                }
                spec.seed = seed
            default:
                throw ParseError(
                    message:
                        "--link: unknown setting \"\(key)\"; settings: \(Self.settingNames)"
                )
            }
        }
        if spec.flushMs != nil && spec.bufferBytes == nil {
            throw ParseError(message: "--link flush=… needs buffer=SIZE (the buffer it flushes)")
        }
        self = spec
    }

    static var presetNames: String { presets.map(\.name).joined(separator: ", ") }
    static let settingNames = "rtt, delay, jitter, down, up, loss, stall, buffer, flush, seed"

    static func milliseconds(_ text: String, _ key: String) throws(ParseError) -> Double {
        let (number, unit) = split(text)
        let scale: Double? = ["ms": 1, "s": 1000, "us": 0.001, "": 1][unit]
        guard let value = Double(number), value >= 0, let scale else {
            throw ParseError(message: "--link \(key)=\(text): expected a duration such as 40ms or 0.2s")
        }
        return value * scale
    }

    static func rate(_ text: String, _ key: String) throws(ParseError) -> Double {
        let (number, unit) = split(text.lowercased())
        let scale: Double? = ["kbit": 1e3, "mbit": 1e6, "gbit": 1e9, "bit": 1, "kbps": 1e3, "mbps": 1e6, "gbps": 1e9][
            unit]
        guard let value = Double(number), value > 0, let scale else {
            throw ParseError(message: "--link \(key)=\(text): expected a rate such as 20mbit or 768kbit")
        }
        return value * scale
    }

    static func bytes(_ text: String) throws(ParseError) -> Int {
        let (number, unit) = split(text.lowercased())
        let scale: Int? = [
            "": 1, "b": 1, "k": 1024, "kb": 1024, "kib": 1024, "m": 1 << 20, "mb": 1 << 20, "mib": 1 << 20,
        ][unit]
        guard let value = Double(number), value > 0, let scale else {
            throw ParseError(message: "--link buffer=\(text): expected a size such as 4k or 64k")
        }
        return Int(value * Double(scale))
    }

    static func split(_ text: String) -> (String, String) {
        let digits = text.prefix { $0.isNumber || $0 == "." }
        return (String(digits), String(text.dropFirst(digits.count)))
    }

    // MARK: description

    package var description: String {
        func rate(_ bits: Double?) -> String {
            guard let bits else { return "unlimited" }
            return bits >= 1e6 ? "\(Self.number(bits / 1e6)) Mbit/s" : "\(Self.number(bits / 1e3)) kbit/s"
        }
        var parts = [
            "rtt \(Self.number(rttMs)) ms", "down \(rate(down.bitsPerSecond))", "up \(rate(up.bitsPerSecond))",
        ]
        if up.jitterMs > 0 || down.jitterMs > 0 {
            parts.append("jitter ±\(Self.number(max(up.jitterMs, down.jitterMs))) ms")
        }
        if up.lossProbability > 0 {
            parts.append("loss \(Self.number(up.lossProbability * 100))%")
        }
        if up.stallProbability > 0 {
            parts.append("stalls \(Self.number(up.stallProbability * 100))% × \(Self.number(up.stallMs)) ms")
        }
        if let bufferBytes {
            parts.append(
                "response buffered to \(bufferBytes / 1024 > 0 ? "\(bufferBytes / 1024) KiB" : "\(bufferBytes) B")"
                    + (flushMs.map { " or \(Self.number($0)) ms" } ?? ""))
        }
        return parts.joined(separator: ", ")
    }

    static func number(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(format: "%.2g", value)
    }

    /// The spec as a JSON object (stored with a run).
    package var jsonObject: [String: Any] {
        func direction(_ d: Direction) -> [String: Any] {
            var object: [String: Any] = [
                "delay_ms": d.delayMs, "jitter_ms": d.jitterMs, "stall_probability": d.stallProbability,
                "stall_ms": d.stallMs,
            ]
            // Only when set: runs stored before loss existed compare equal to lossless ones.
            if d.lossProbability > 0 { object["loss_probability"] = d.lossProbability }
            object["bits_per_second"] = d.bitsPerSecond ?? NSNull()
            return object
        }
        var object: [String: Any] = [
            "name": name, "up": direction(up), "down": direction(down), "seed": seed, "description": description,
        ]
        object["buffer_bytes"] = bufferBytes ?? NSNull()
        object["flush_ms"] = flushMs ?? NSNull()
        return object
    }
}
