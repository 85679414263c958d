import CMicroHTTPD

/// A libmicrohttpd connection as the request driver sees it: suspended and resumed through the
/// daemon, answers queued as libmicrohttpd responses.
struct DaemonLink: RequestLink, @unchecked Sendable {
    /// Passed only to libmicrohttpd's calls for this connection, from its callbacks (suspend
    /// and resume are thread-safe).
    let connection: OpaquePointer
    let suspensions: SuspendedConnections
    /// TLS: bodies in borrowed memory are copied out under the fault guard (`GuardedCopyReader`)
    /// instead of being read by GnuTLS outside it.
    let guardsBorrowedBodies: Bool

    func suspend() -> Suspension { suspensions.suspend(connection) }

    func send(_ response: Response, for request: Request) -> Bool {
        // A prepared answer as it is: no response object built, no header copied.
        if case .prepared(let prepared, _) = response.body, response.headers.isEmpty, response.shared == nil,
            !guardsBorrowedBodies || prepared.sendsNoBody(for: request.method)
        {
            return MHD_queue_response(connection, UInt32(response.status), prepared.pointer) == .YES
        }
        guard let made = MHDResponse.make(response, guarded: guardsBorrowedBodies) else { return false }
        defer { MHD_destroy_response(made) }
        switch response.body {
        case .stream(let body): body.attach(self)
        case .pulled(let body): body.attach(self)
        default: break
        }
        return MHD_queue_response(connection, UInt32(response.status), made) == .YES
    }
}
