import CMicroHTTPD
import Dispatch
import Glibc
import HTTPSemantics
import Synchronization

/// The `@convention(c)` entry points libmicrohttpd calls, and the per-request state machine:
/// first call (headers complete) → body chunks → final call, with answers queued on a later
/// call than the first so keep-alive survives.
final class Callbacks: Sendable {
    let handler: any RequestHandler
    private let log: @Sendable (String) -> Void
    /// libmicrohttpd's messages while the daemon starts: kept to explain a failure in one line
    /// (bind errors), forwarded to `log` once it is running. nil afterwards.
    private let startupMessages = Mutex<[String]?>([])
    let drainBodyLimit: UInt64
    let inFlight = Atomic<Int>(0)
    /// Requests begun since the start: a cheap sign of activity for background work to yield to.
    let started = Atomic<Int>(0)
    /// Set when shutdown begins: new requests get the handler's `stopping` answer.
    let draining = Atomic<Bool>(false)
    let connections = Atomic<Int>(0)
    let leases = LeaseTracker()
    let suspensions = SuspendedConnections()
    let deadlines: ConnectionDeadlines
    /// TLS: bodies in borrowed memory are copied out under the fault guard (`GuardedCopyReader`)
    /// instead of being read by GnuTLS outside it.
    let guardsBorrowedBodies: Bool
    /// Deferred work (searches) runs here, never on a network thread.
    private let workQueue = DispatchQueue(label: "mmapd.deferred", attributes: .concurrent)

    init(
        handler: any RequestHandler, log: @escaping @Sendable (String) -> Void, drainBodyLimit: UInt64,
        deadlines: ConnectionDeadlines, guardsBorrowedBodies: Bool
    ) {
        self.handler = handler
        self.guardsBorrowedBodies = guardsBorrowedBodies
        self.deadlines = deadlines
        self.log = log
        self.drainBodyLimit = drainBodyLimit
    }

    private static func from(_ context: UnsafeMutableRawPointer?) -> Callbacks {
        Unmanaged<Callbacks>.fromOpaque(context!).takeUnretainedValue()
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
            if let previous = watch.delivery.requestStarted(request) { callbacks.handler.delivered(previous) }
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
        uploadSize.pointee = 0
        request.bytesReceived += UInt64(chunk.count)
        let callbacks = from(context)
        if !chunk.isEmpty, let watch = request.watch { callbacks.deadlines.bodyProgress(watch, received: request.bytesReceived) }
        if case .new = request.phase, let method, let url, let version,
            let refusal = RequestLineCheck.refusal(method: method, url: url, version: version, targetByteCount: request.targetByteCount)
        {
            request.method = RequestMethod(String(cString: method))
            // Answered at once, like a framing refusal: the connection closes after it.
            return callbacks.queue(.protocolRefusal(refusal), for: request, on: connection)
        }
        let result = callbacks.step(request, connection: connection, method: method, chunk: chunk)
        if request.unread > 0 {
            // Left in libmicrohttpd's buffer, which a suspended connection keeps as it is; the
            // same bytes come again with the first call after the resume.
            uploadSize.pointee = request.unread
            request.bytesReceived -= UInt64(request.unread)
            request.unread = 0
        }
        return result
    }

    static let completed: MHD_RequestCompletedCallback = { context, _, requestContext, termination in
        guard let requestContext, let raw = requestContext.pointee else { return }
        requestContext.pointee = nil
        let request = Unmanaged<Request>.fromOpaque(raw).takeRetainedValue()
        if termination != .REQUEST_TERMINATED_COMPLETED_OK {
            request.abortReason = termination.reason
            switch request.phase {
            case .receiving(let receiver): receiver.abandon()
            case .waiting(let turn, granted: true): turn.abandoned()
            default: break
            }
        }
        let callbacks = from(context)
        if let watch = request.watch { callbacks.deadlines.requestFinished(watch) }
        callbacks.handler.completed(request)
        request.connection = nil
        if let watch = request.watch {
            if let known = watch.delivery.completed(request, finished: termination == .REQUEST_TERMINATED_COMPLETED_OK) {
                callbacks.handler.delivered(known)
            }
        } else {
            callbacks.handler.delivered(request)
        }
        if request.holding != nil {
            request.holding = nil
            callbacks.leases.release()
        }
        callbacks.inFlight.subtract(1, ordering: .relaxed)
    }

    static let connectionEvent: MHD_NotifyConnectionCallback = { context, connection, socketContext, event in
        let callbacks = from(context)
        if event == .CONNECTION_NOTIFY_STARTED {
            callbacks.connections.add(1, ordering: .relaxed)
            guard let connection, let socketContext else { return }
            let fd = cmhd_connection_fd(connection)
            cmhd_request_line_watch(fd)
            let watch = callbacks.deadlines.opened(fd: fd)
            socketContext.pointee = Unmanaged.passRetained(watch).toOpaque()
        } else {
            callbacks.connections.subtract(1, ordering: .relaxed)
            // Before libmicrohttpd closes the descriptor, so a new connection reusing it starts afresh.
            if let connection { cmhd_request_line_unwatch(cmhd_connection_fd(connection)) }
            guard let socketContext, let raw = socketContext.pointee else { return }
            socketContext.pointee = nil
            let watch = Unmanaged<ConnectionDeadlines.Watch>.fromOpaque(raw).takeRetainedValue()
            if let held = callbacks.deadlines.closed(watch) { callbacks.handler.delivered(held) }
        }
    }

    static let logLine: cmhd_log_sink = { context, message in
        guard let message else { return }
        from(context).record(String(cString: message))
    }

    private func record(_ message: String) {
        let forward = startupMessages.withLock { messages -> Bool in
            guard messages != nil else { return true }
            messages!.append(message)
            return false
        }
        if forward { log(message) }
    }

    /// Ends the start-up phase and returns what libmicrohttpd said during it.
    func finishStartup() -> [String] {
        startupMessages.withLock { messages in
            defer { messages = nil }
            return messages ?? []
        }
    }

    private func step(
        _ request: Request, connection: OpaquePointer, method: UnsafePointer<CChar>?,
        chunk: UnsafeRawBufferPointer
    ) -> MHD_Result {
        switch request.phase {
        case .new:
            request.method = RequestMethod(method.map { String(cString: $0) } ?? "")
            if let watch = request.watch { deadlines.headComplete(watch) }
            // Before any handler, and before libmicrohttpd reads a body byte by its own framing
            // rules (which ignore Content-Length beside any Transfer-Encoding, and read a body
            // coded otherwise than exactly `chunked` until the client closes).
            do throws(ProblemDetails) {
                request.framing = try Self.framing(of: request)
            } catch {
                // Answered at once: libmicrohttpd then reads no body and closes the connection.
                return queue(.protocolRefusal(error), for: request, on: connection)
            }
            if draining.load(ordering: .relaxed) {
                var refusal = handler.stopping(request)
                refusal.headers.append(("Connection", "close"))
                return adopt(.respond(refusal), for: request, on: connection, chunk: chunk)
            }
            return adopt(handler.begin(request), for: request, on: connection, chunk: chunk)
        case .waiting(let turn, granted: true):
            if let watch = request.watch { deadlines.headComplete(watch) }
            return adopt(turn.granted(), for: request, on: connection, chunk: chunk)
        case .answerPending(let response):
            return chunk.isEmpty ? queue(response, for: request, on: connection) : .YES
        case .draining(let response):
            guard chunk.isEmpty else { return request.bytesReceived <= drainBodyLimit ? .YES : .NO }
            return queue(response, for: request, on: connection)
        case .receiving(let receiver):
            guard chunk.isEmpty else {
                switch receiver.receive(chunk) {
                case .more:
                    return .YES
                case .stop(let early):
                    // libmicrohttpd may refuse an answer in the middle of a body; then read the
                    // rest (bounded) and answer at the end.
                    if queue(early, for: request, on: connection) == .YES { return .YES }
                    request.phase = .draining(early)
                    request.bytesReceived = 0
                    return .YES
                case .pause(let work):
                    handOff(request, on: connection, receiver: receiver, work)
                    return .YES
                }
            }
            switch receiver.finish() {
            case .respond(let response):
                return queue(response, for: request, on: connection)
            case .later(let work):
                handOff(request, on: connection, receiver: nil, work)
                return .YES
            }
        case .deferredPending(let work):
            guard chunk.isEmpty else { return .YES }
            return startDeferred(work, for: request, on: connection)
        case .suspended, .answered, .waiting(_, granted: false):
            return .YES
        }
    }

    /// Suspends the connection and gives `work` the one way to carry the request on. Nothing is
    /// due from the client meanwhile; libmicrohttpd calls back for the connection again only
    /// after the resume, which happens once (`Suspension`), from whichever thread finishes.
    private func handOff(
        _ request: Request, on connection: OpaquePointer, receiver: (any BodyReceiver)?,
        _ work: (Resumption) -> Void
    ) {
        request.phase = .suspended
        if let watch = request.watch { deadlines.nothingDue(watch) }
        work(Resumption(suspension: suspensions.suspend(connection), request: request, receiver: receiver))
    }

    /// Suspends the connection and runs `work` on the work queue; the answer goes out on the call
    /// after the resume.
    private func startDeferred(
        _ work: @escaping @Sendable () -> Response, for request: Request,
        on connection: OpaquePointer
    ) -> MHD_Result {
        handOff(request, on: connection, receiver: nil) { [workQueue] resumption in
            workQueue.async { resumption.answer(work()) }
        }
        return .YES
    }

    /// Enters the phase a disposition asks for. `chunk` is body data that came with this call
    /// (possible only after a wait, when libmicrohttpd resumes with data already buffered).
    private func adopt(
        _ disposition: Disposition, for request: Request, on connection: OpaquePointer,
        chunk: UnsafeRawBufferPointer
    ) -> MHD_Result {
        switch disposition {
        case .respond(let response):
            if !request.framing.hasBody {
                request.phase = .answerPending(response)
            } else if let length = request.framing.declaredLength, length <= drainBodyLimit {
                request.phase = .draining(response)
            } else {
                return queue(response, for: request, on: connection)
            }
        case .receiveBody(let receiver):
            request.phase = .receiving(receiver)
        case .deferred(let work):
            request.phase = .deferredPending(work)
        case .waitForTurn(let turn):
            if turn.takeIfFree() { return adopt(turn.granted(), for: request, on: connection, chunk: chunk) }
            request.phase = .waiting(turn, granted: false)
            if let watch = request.watch { deadlines.nothingDue(watch) }
            // Body bytes that came with this call (a turn asked for again after a grant) wait too.
            request.unread = chunk.count
            let suspension = suspensions.suspend(connection)
            turn.enqueue {
                // Shut down while waiting: pass the turn on rather than keep it forever.
                if !suspension.resume({ request.phase = .waiting(turn, granted: true) }) { turn.abandoned() }
            }
            return .YES
        }
        // Data that arrived with this very call belongs to the new phase.
        return chunk.isEmpty ? .YES : step(request, connection: connection, method: nil, chunk: chunk)
    }

    /// The request's body framing; the common request without a body costs two lookups.
    private static func framing(of request: Request) throws(ProblemDetails) -> MessageFraming {
        guard request.header("Transfer-Encoding") != nil || request.header("Content-Length") != nil else { return .none }
        return try MessageFraming(
            contentLengths: request.headerValues("Content-Length"),
            transferEncodings: request.headerValues("Transfer-Encoding"))
    }

    /// Keeps the memory a body points into alive, and counted as a lease, until the completion
    /// callback: libmicrohttpd reads a body only before it. (Cheaper than a retained context
    /// object released by libmicrohttpd's free callback: no allocation per answer.) The one place
    /// a mapped body's owner is kept, whatever the body's shape.
    private func hold(_ owner: AnyObject, for request: Request) {
        if request.holding == nil { leases.acquire() }
        request.holding = owner
    }

    private func queue(_ response: Response, for request: Request, on connection: OpaquePointer) -> MHD_Result {
        let response = handler.decorate(response, for: request)
        let result: MHD_Result
        if case .prepared(let prepared, let owner) = response.body, response.headers.isEmpty, response.shared == nil,
            !guardsBorrowedBodies || prepared.sendsNoBody(for: request.method)
        {
            hold(owner, for: request)
            result = MHD_queue_response(connection, UInt32(response.status), prepared.pointer)
        } else {
            guard let made = MHDResponse.make(response, guarded: guardsBorrowedBodies) else { return .NO }
            defer { MHD_destroy_response(made) }
            switch response.body {
            case .stream(let body): body.attach(connection, suspensions: suspensions)
            case .pulled(let body): body.attach(connection, suspensions: suspensions)
            case .borrowed(_, let owner), .pieces(_, let owner), .prepared(_, let owner): hold(owner, for: request)
            default: break
            }
            result = MHD_queue_response(connection, UInt32(response.status), made)
        }
        if result == .YES {
            if let watch = request.watch {
                switch response.body {
                case .file: deadlines.sendingFile(watch)
                case .pulled(let body):
                    deadlines.streaming(watch, stallAllowance: body.stallAllowance) { [weak body] in body?.clientLeft() }
                default: deadlines.nothingDue(watch)
                }
            }
            request.phase = .answered
            request.status = response.status
            request.failureDetail = response.failure
            // HEAD and 304 announce a length but libmicrohttpd sends no body.
            request.bodyLength = request.method == .head || response.status == 304 ? 0 : response.bodyLength
        }
        return result
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
