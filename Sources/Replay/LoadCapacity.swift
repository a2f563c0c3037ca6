import VoiceTransport

/// Whether this process can hold the connections a run needs, checked before anything starts:
/// running out of file descriptors or ports halfway would fail trials for a reason that is not
/// the endpoint's.
package enum LoadCapacity {
    /// Descriptors ttfa needs besides connections (database, stdio, loops, server listeners).
    static let baseDescriptors = 128

    /// What the run needs and what the machine allows.
    package struct Need: Sendable, Equatable {
        /// Connections open at once from the client (sessions × transports).
        package var connections: Int
        /// Descriptors per client connection: 1, +1 when the embedded server answers it in this
        /// process, +2 when the in-process link emulator relays it.
        package var descriptorsPerConnection: Int
        /// Outgoing connections per client connection (the link relay makes a second one).
        package var portsPerConnection: Int

        package var descriptors: Int { connections * descriptorsPerConnection + LoadCapacity.baseDescriptors }
        package var ports: Int { connections * portsPerConnection }
    }

    package static func need(sessions: Int, transports: Int, embeddedServer: Bool, linkEmulator: Bool) -> Need {
        Need(
            connections: sessions * transports,
            descriptorsPerConnection: 1 + (embeddedServer ? 1 : 0) + (linkEmulator ? 2 : 0),
            portsPerConnection: linkEmulator ? 2 : 1)
    }

    /// Raises the open-files limit as far as needed and allowed; throws what to do when the
    /// machine cannot hold the run. `what` names the flag that asked for it.
    package static func check(
        _ need: Need, what: String, openFiles: (soft: Int, hard: Int)? = nil, ports: Int? = nil,
        raise: (Int) -> Int = ProcessLimits.raiseOpenFiles(to:)
    ) throws(TransportError) {
        let limits = openFiles ?? ProcessLimits.openFiles()
        let detail =
            "\(need.connections) connections × \(need.descriptorsPerConnection) descriptor\(need.descriptorsPerConnection == 1 ? "" : "s") each"
            + (need.descriptorsPerConnection > 1
                ? " (the embedded server's side\(need.descriptorsPerConnection > 2 ? " and the link emulator's relay" : "") live in this process too)"
                : "")
            + " + \(baseDescriptors)"
        if need.descriptors > limits.hard {
            throw TransportError(
                .input,
                "\(what) needs about \(need.descriptors) open files (\(detail)), but this process may open at most \(limits.hard) (ulimit -Hn). Raise the limit (as root: ulimit -Hn \(need.descriptors * 2), or LimitNOFILE= in a systemd unit, or nofile in /etc/security/limits.conf), lower \(what.split(separator: " ").first ?? "it"), or spread the load over several machines with --group"
            )
        }
        if need.descriptors > limits.soft {
            let now = raise(need.descriptors)
            if now < need.descriptors {
                throw TransportError(
                    .input,
                    "\(what) needs about \(need.descriptors) open files (\(detail)); the limit could not be raised above \(now) (ulimit -n). Run `ulimit -n \(limits.hard)` first, or lower it"
                )
            }
        }
        if let available = ports ?? ProcessLimits.ephemeralPorts(), need.ports > available {
            throw TransportError(
                .input,
                "\(what) needs \(need.ports) simultaneous outgoing connections to one address, but the machine has \(available) ephemeral ports (net.ipv4.ip_local_port_range). Widen the range (sysctl -w net.ipv4.ip_local_port_range=\"1024 65535\"), lower it, or spread the load over several machines with --group"
            )
        }
    }
}
