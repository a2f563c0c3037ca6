import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// What the operating system lets one process open: file descriptors (every connection is
/// one, twice over when the embedded server answers it) and ephemeral ports (every outgoing
/// connection to one address takes one).
package enum ProcessLimits {
    /// The soft and hard limits on open files (`ulimit -n`, `ulimit -Hn`).
    package static func openFiles() -> (soft: Int, hard: Int) {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return (1024, 1024) }
        return (Int(min(UInt64(limit.rlim_cur), UInt64(Int.max))), Int(min(UInt64(limit.rlim_max), UInt64(Int.max))))
    }

    /// Raises the soft limit on open files towards `wanted` (never above the hard limit);
    /// returns the soft limit now in force.
    @discardableResult
    package static func raiseOpenFiles(to wanted: Int) -> Int {
        let (soft, hard) = openFiles()
        if wanted > soft {
            var limit = rlimit()
            if getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 {
                limit.rlim_cur = rlim_t(min(wanted, hard))
                _ = setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
            }
        }
        return openFiles().soft
    }

    /// How many ephemeral ports outgoing connections can use (`net.ipv4.ip_local_port_range`),
    /// nil when it cannot be read.
    package static func ephemeralPorts() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8) else {
            return nil
        }
        let numbers = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).compactMap { Int($0) }
        guard numbers.count == 2, numbers[1] >= numbers[0] else { return nil }
        return numbers[1] - numbers[0] + 1
    }
}
