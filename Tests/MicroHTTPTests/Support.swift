import Dispatch
import Foundation
import MicroHTTP
@_exported import TestSupport
import Testing

/// Every suite here runs its tests one at a time: deferred work runs on the server's dispatch
/// pool, which is as wide as the machine has cores, and a test that holds a worker while another
/// test waits for one would starve it.
@Suite(.serialized) enum MicroHTTPSuites {}

/// Runs `body` on a thread of its own: a producer that blocks (on a full pipe) must not hold one
/// of the dispatch pool's few workers, which the server's deferred work needs.
func onOwnThread(_ body: @escaping @Sendable () -> Void) { Thread.detachNewThread(body) }

/// A `RequestHandler` made of one closure, for driving the request machinery of a real
/// libmicrohttpd daemon with nothing of mmapd's routes in the way.
struct ClosureHandler: RequestHandler {
    let respond: @Sendable (Request) -> Disposition

    func begin(_ request: Request) -> Disposition { respond(request) }
    func completed(_ request: Request) {}
    func delivered(_ request: Request) {}
    func stopping(_ request: Request) -> Response { Response(status: 503) }
    func decorate(_ response: Response, for request: Request) -> Response { response }
}

/// A real server on an ephemeral loopback port answering with `respond`.
func startServer(
    threads: Int = 1, headerTimeoutSeconds: Int = 10,
    respond: @escaping @Sendable (Request) -> Disposition
) throws -> Server {
    try Server(
        options: ServerOptions(port: 0, threads: threads, headerTimeoutSeconds: headerTimeoutSeconds),
        handler: ClosureHandler(respond: respond), log: { _ in })
}

func text(_ string: String, status: Int = 200) -> Response {
    Response(status: status, headers: [("Content-Type", "text/plain")], body: .bytes(Array(string.utf8)))
}

extension DispatchSemaphore {
    /// Waits for the event at most `seconds` (so a broken server fails the test instead of
    /// hanging it); true when it came.
    func arrived(within seconds: Int = 30) -> Bool { wait(timeout: .now() + .seconds(seconds)) == .success }
}
