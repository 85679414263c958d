import CMicroHTTPD
import Glibc
import HTTPSemantics
import Synchronization

/// The `@convention(c)` entry points libmicrohttpd calls, with this object as their context:
/// each unpacks its arguments and hands the request to the `RequestDriver`, which holds the
/// state machine; here are only libmicrohttpd's own concerns (its request line, its upload-size
/// protocol, per-connection watches) and the server's counters.
final class Callbacks: Sendable {
    let driver: RequestDriver
    let deadlines: ConnectionDeadlines
    let startupLog: StartupLog
    let inFlight = Atomic<Int>(0)
    /// Requests begun since the start: a cheap sign of activity for background work to yield to.
    let started = Atomic<Int>(0)
    let connections = Atomic<Int>(0)
    /// TLS: bodies in borrowed memory are copied out under the fault guard.
    private let guardsBorrowedBodies: Bool

    init(
        handler: any RequestHandler, drainBodyLimit: UInt64, deadlines: ConnectionDeadlines,
        log: @escaping @Sendable (String) -> Void, guardsBorrowedBodies: Bool
    ) {
        driver = RequestDriver(handler: handler, drainBodyLimit: drainBodyLimit, deadlines: deadlines)
        self.deadlines = deadlines
        startupLog = StartupLog(log: log)
        self.guardsBorrowedBodies = guardsBorrowedBodies
    }

    private static func from(_ context: UnsafeMutableRawPointer?) -> Callbacks {
        Unmanaged<Callbacks>.fromOpaque(context!).takeUnretainedValue()
    }

    private func link(_ connection: OpaquePointer) -> DaemonLink {
        DaemonLink(connection: connection, suspensions: driver.suspensions, guardsBorrowedBodies: guardsBorrowedBodies)
    }

    /// The raw request-target arrives here before libmicrohttpd decodes anything; the returned
    /// pointer becomes the request's context for the access handler and the completion callback.
    static let uriLog: @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<CChar>?, OpaquePointer?) -> UnsafeMutableRawPointer? = {
        context, uri, connection in
        let callbacks = from(context)
        callbacks.inFlight.add(1, ordering: .relaxed)
        callbacks.started.add(1, ordering: .relaxed)
        let request = Request(target: uri)
        if let uri { dropArguments(uri) }
        request.connection = connection
        if let connection, let context = cmhd_connection_context(connection) {
            let watch = Unmanaged<ConnectionDeadlines.Watch>.fromOpaque(context).takeUnretainedValue()
            request.watch = watch
            // A new request on the connection: the client took the previous answer.
            if let previous = watch.delivery.requestStarted(request) { callbacks.driver.handler.delivered(previous) }
        }
        return Unmanaged.passRetained(request).toOpaque()
    }

    /// libmicrohttpd 0.9.75 parses the query, right after this callback, into one record per
    /// argument in the connection's memory pool (`--max-header-bytes`). A few hundred arguments
    /// (1.2 KB of `x=1&`) exhaust it, and the 431 it then begins is overwritten by its next
    /// state: the client got no answer until the head timeout, and the log two warnings. mmapd
    /// never asks libmicrohttpd for arguments (it parses `request.target`, already copied), so
    /// the string libmicrohttpd is about to parse ends right after the `?`: the line's own
    /// buffer, which libmicrohttpd itself cuts up in place next.
    private static func dropArguments(_ uri: UnsafePointer<CChar>) {
        guard let mark = strchr(uri, Int32(UInt8(ascii: "?"))) else { return }
        UnsafeMutablePointer(mutating: mark + 1).pointee = 0
    }

    static let access: MHD_AccessHandlerCallback = { context, connection, url, method, version, uploadData, uploadSize, requestContext in
        guard let connection, let uploadSize, let raw = requestContext?.pointee else { return .NO }
        let request = Unmanaged<Request>.fromOpaque(raw).takeUnretainedValue()
        let chunk = UnsafeRawBufferPointer(start: uploadData, count: uploadSize.pointee)
        let callbacks = from(context)
        let link = callbacks.link(connection)
        if case .new = request.phase {
            request.method = RequestMethod(method.map { String(cString: $0) } ?? "")
            if let method, let url, let version,
                let refusal = RequestLineCheck.refusal(
                    method: method, url: url, version: version, targetByteCount: request.targetByteCount)
            {
                // Answered at once, like a framing refusal: the connection closes after it.
                uploadSize.pointee = 0
                return callbacks.driver.refuse(refusal, for: request, on: link) ? .YES : .NO
            }
        }
        let (proceed, unread) = callbacks.driver.called(request, on: link, chunk: chunk)
        // What is left in libmicrohttpd's buffer comes again with the next call.
        uploadSize.pointee = unread
        return proceed ? .YES : .NO
    }

    static let completed: MHD_RequestCompletedCallback = { context, _, requestContext, termination in
        guard let requestContext, let raw = requestContext.pointee else { return }
        requestContext.pointee = nil
        let request = Unmanaged<Request>.fromOpaque(raw).takeRetainedValue()
        let callbacks = from(context)
        callbacks.driver.ended(
            request, abortReason: termination == .REQUEST_TERMINATED_COMPLETED_OK ? nil : termination.reason)
        callbacks.inFlight.subtract(1, ordering: .relaxed)
    }

    static let connectionEvent: MHD_NotifyConnectionCallback = { context, connection, socketContext, event in
        let callbacks = from(context)
        let deadlines = callbacks.deadlines
        if event == .CONNECTION_NOTIFY_STARTED {
            callbacks.connections.add(1, ordering: .relaxed)
            guard let connection, let socketContext else { return }
            let fd = cmhd_connection_fd(connection)
            cmhd_request_line_watch(fd)
            let watch = deadlines.opened(fd: fd)
            socketContext.pointee = Unmanaged.passRetained(watch).toOpaque()
        } else {
            callbacks.connections.subtract(1, ordering: .relaxed)
            // Before libmicrohttpd closes the descriptor, so a new connection reusing it starts afresh.
            if let connection { cmhd_request_line_unwatch(cmhd_connection_fd(connection)) }
            guard let socketContext, let raw = socketContext.pointee else { return }
            socketContext.pointee = nil
            let watch = Unmanaged<ConnectionDeadlines.Watch>.fromOpaque(raw).takeRetainedValue()
            if let held = deadlines.closed(watch) { callbacks.driver.handler.delivered(held) }
        }
    }

    static let logLine: cmhd_log_sink = { context, message in
        guard let message else { return }
        from(context).startupLog.record(String(cString: message))
    }
}

extension MHD_RequestTerminationCode {
    /// Why a request ended, for the access log (a property, not a retroactive conformance of a
    /// C type to a standard protocol).
    var reason: String {
        switch self {
        case .REQUEST_TERMINATED_COMPLETED_OK: "completed"
        case .REQUEST_TERMINATED_WITH_ERROR: "error"
        case .REQUEST_TERMINATED_TIMEOUT_REACHED: "timeout"
        case .REQUEST_TERMINATED_DAEMON_SHUTDOWN: "shutdown"
        case .REQUEST_TERMINATED_READ_ERROR: "read error"
        case .REQUEST_TERMINATED_CLIENT_ABORT: "client abort"
        default: "terminated"
        }
    }
}
