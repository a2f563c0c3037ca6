/// The network a call's UDP media crosses when the run plays an emulated link (`--link`): each
/// of the peer's addresses gets a local stand-in that delays, limits and drops datagrams as the
/// link does. TCP transports get theirs through `TransportSettings.connectVia`.
package protocol MediaLink: Sendable {
    /// A local UDP address standing in for the peer's IPv4 `host:port`, for one call.
    func relay(toHost host: String, port: Int) throws -> any MediaRelay
}

/// One stand-in address of a `MediaLink`; `close()` when the call ends.
package protocol MediaRelay: Sendable {
    var host: String { get }
    var port: Int { get }
    func close()
}
