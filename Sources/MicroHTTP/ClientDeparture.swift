import CMicroHTTPD
import CPOSIXShim

extension Request {
    /// A cheap, non-blocking test of whether the client closed its side of the connection, for
    /// long deferred work (a search) to stop early: libmicrohttpd does not watch a suspended
    /// connection, so nothing else would notice before the work is done.
    ///
    /// Reads the descriptor number now (on the network thread); the probe polls it for
    /// `POLLRDHUP`/`POLLHUP`/`POLLERR` with no timeout. A deferred request's connection stays open
    /// until it is resumed, so the number names this connection for as long as the work runs.
    /// A client that half-closes after sending its request counts as gone, as curl's abort does.
    public func departureProbe() -> (@Sendable () -> Bool)? {
        guard let connection else { return nil }
        let descriptor = cmhd_connection_fd(connection)
        guard descriptor >= 0 else { return nil }
        return { cposix_peer_closed(descriptor) != 0 }
    }
}
