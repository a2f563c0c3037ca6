import CBuildStamp

#if !os(Linux)
    #error(
        "ttfa builds and runs on Linux only: its I/O core is epoll, and it links the system's libcurl, OpenSSL, SQLite, libsndfile and libsoxr (README.md, Install)"
    )
#endif

/// ttfa's own version, recorded with every run, and what `ttfa --version` says of this binary.
package enum TTFAInfo {
    package static let version = "0.3.0"

    /// The commit this binary was built from and when, as stamped into it by `make install` or
    /// `make dist` (`scripts/stamp-build.py`); nil for a binary nobody stamped (`swift build`).
    package static let build: (commit: String, date: String)? = {
        let stamp = String(cString: ttfa_build_stamp())
        let parts = stamp.split(separator: " ", maxSplits: 1).map(String.init)
        return parts.count == 2 ? (parts[0], parts[1]) : nil
    }()

    /// `0.3.0 (commit 1a2b3c4d5e6f, built 2026-12-07T10:00:00Z)`, or the version with a note
    /// that the binary was not stamped.
    package static var versionLine: String {
        guard let build else {
            return "\(version) (built with swift build: no commit stamped; make install and make dist stamp one)"
        }
        return "\(version) (commit \(build.commit), built \(build.date))"
    }

    /// `ttfa --version --json`: one object, for scripts that pin a release.
    package static var versionJSON: JSONValue {
        .object([
            ("version", .string(version)),
            ("commit", .optional(build?.commit)),
            ("build_date", .optional(build?.date)),
            ("swift", .string(swiftVersion)),
            ("platform", .string(platform)),
        ])
    }

    /// `linux-x86_64`, as in the release archive's name.
    package static var platform: String {
        #if arch(x86_64)
            return "linux-x86_64"
        #elseif arch(arm64)
            return "linux-aarch64"
        #else
            return "linux-unknown"
        #endif
    }

    /// The Swift compiler that built ttfa.
    package static var swiftVersion: String {
        #if compiler(>=6.4)
            return "6.4 or later"
        #elseif compiler(>=6.3)
            return "6.3"
        #elseif compiler(>=6.2)
            return "6.2"
        #else
            return "6.1"
        #endif
    }
}
