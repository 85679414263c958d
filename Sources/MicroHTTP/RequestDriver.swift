import Dispatch
import HTTPSemantics
import Synchronization

/// The per-request state machine, every transition in one place: head complete → `begin` →
/// (wait for a turn) → (body chunks) → answer queued on a later call than the first, so
/// keep-alive survives → completion → delivery.
///
/// It knows the connection only as a `RequestLink`: libmicrohttpd's (`DaemonLink`, driven by the
/// C callbacks in `Callbacks`), or an in-process one, so a handler's routes can be driven by
/// tests without a daemon. Calls for one request come on one thread at a time (see `Request`).
package final class RequestDriver: Sendable {
    let handler: any RequestHandler
    let drainBodyLimit: UInt64
    /// Set when shutdown begins: new requests get the handler's `stopping` answer.
    let draining = Atomic<Bool>(false)
    let leases = LeaseTracker()
    package let suspensions = SuspendedConnections()
    /// Watches libmicrohttpd's connections; nil when driven in process (no sockets to watch).
    let deadlines: ConnectionDeadlines?
    /// Deferred work (searches) runs here, never on a network thread.
    private let workQueue = DispatchQueue(label: "mmapd.deferred", attributes: .concurrent)

    init(handler: any RequestHandler, drainBodyLimit: UInt64, deadlines: ConnectionDeadlines?) {
        self.handler = handler
        self.drainBodyLimit = drainBodyLimit
        self.deadlines = deadlines
    }

    /// A driver for requests that come through no daemon (`InProcessExchange` in the tests).
    package convenience init(handler: any RequestHandler, drainBodyLimit: UInt64) {
        self.init(handler: handler, drainBodyLimit: drainBodyLimit, deadlines: nil)
    }

    /// One call for the request: the first (head complete, `chunk` empty), one per body chunk,
    /// the final one (`chunk` empty) and one after every resume. Returns false to close the
    /// connection, and the bytes at the end of `chunk` not taken yet, which the caller passes
    /// again on the next call.
    package func called<Link: RequestLink>(
        _ request: Request, on link: Link, chunk: UnsafeRawBufferPointer
    ) -> (proceed: Bool, unread: Int) {
        request.bytesReceived += UInt64(chunk.count)
        if !chunk.isEmpty, let watch = request.watch { deadlines?.bodyProgress(watch, received: request.bytesReceived) }
        let proceed = step(request, on: link, chunk: chunk)
        let unread = request.unread
        if unread > 0 {
            // A suspended connection keeps its buffer as it is: the same bytes come again with the
            // first call after the resume.
            request.bytesReceived -= UInt64(unread)
            request.unread = 0
        }
        return (proceed, unread)
    }

    /// Answers at once a request refused before any handler saw it (its request line, its
    /// framing): libmicrohttpd then reads no body and closes the connection.
    func refuse<Link: RequestLink>(_ refusal: ProblemDetails, for request: Request, on link: Link) -> Bool {
        queue(.protocolRefusal(refusal), for: request, on: link)
    }

    /// The request is over (`abortReason` nil when its answer was sent completely): the handler's
    /// `completed`, then `delivered` once what the client took is known, and the body's memory
    /// owner let go.
    package func ended(_ request: Request, abortReason: String?) {
        if let abortReason {
            request.abortReason = abortReason
            switch request.phase {
            case .receiving(let receiver): receiver.abandon()
            case .waiting(let turn, granted: true): turn.abandoned()
            default: break
            }
        }
        if let watch = request.watch { deadlines?.requestFinished(watch) }
        handler.completed(request)
        request.headersGone()
        if let watch = request.watch {
            if let known = watch.delivery.completed(request, finished: abortReason == nil) { handler.delivered(known) }
        } else {
            handler.delivered(request)
        }
        if request.holding != nil {
            request.holding = nil
            leases.release()
        }
    }

    private func step<Link: RequestLink>(_ request: Request, on link: Link, chunk: UnsafeRawBufferPointer) -> Bool {
        switch request.phase {
        case .new:
            if let watch = request.watch { deadlines?.headComplete(watch) }
            // Before any handler, and before libmicrohttpd reads a body byte by its own framing
            // rules (which ignore Content-Length beside any Transfer-Encoding, and read a body
            // coded otherwise than exactly `chunked` until the client closes).
            do throws(ProblemDetails) {
                request.framing = try Self.framing(of: request)
            } catch {
                return refuse(error, for: request, on: link)
            }
            if draining.load(ordering: .relaxed) {
                var refusal = handler.stopping(request)
                refusal.headers.append(("Connection", "close"))
                return adopt(.respond(refusal), for: request, on: link, chunk: chunk)
            }
            return adopt(handler.begin(request), for: request, on: link, chunk: chunk)
        case .waiting(let turn, granted: true):
            if let watch = request.watch { deadlines?.headComplete(watch) }
            return adopt(turn.granted(), for: request, on: link, chunk: chunk)
        case .answerPending(let response):
            return chunk.isEmpty ? queue(response, for: request, on: link) : true
        case .draining(let response):
            guard chunk.isEmpty else { return request.bytesReceived <= drainBodyLimit }
            return queue(response, for: request, on: link)
        case .receiving(let receiver):
            guard chunk.isEmpty else {
                switch receiver.receive(chunk) {
                case .more:
                    return true
                case .stop(let early):
                    // libmicrohttpd may refuse an answer in the middle of a body; then read the
                    // rest (bounded) and answer at the end.
                    if queue(early, for: request, on: link) { return true }
                    request.phase = .draining(early)
                    request.bytesReceived = 0
                    return true
                case .pause(let work):
                    handOff(request, on: link, receiver: receiver, work)
                    return true
                }
            }
            switch receiver.finish() {
            case .respond(let response):
                return queue(response, for: request, on: link)
            case .later(let work):
                handOff(request, on: link, receiver: nil, work)
                return true
            }
        case .deferredPending(let work):
            guard chunk.isEmpty else { return true }
            handOff(request, on: link, receiver: nil) { [workQueue] resumption in
                workQueue.async { resumption.answer(GeneratedBody.detached(work())) }
            }
            return true
        case .suspended, .answered, .waiting(_, granted: false):
            return true
        }
    }

    /// Suspends the connection and gives `work` the one way to carry the request on. Nothing is
    /// due from the client meanwhile; the connection is called back again only after the resume,
    /// which happens once (`Suspension`), from whichever thread finishes.
    private func handOff<Link: RequestLink>(
        _ request: Request, on link: Link, receiver: (any BodyReceiver)?, _ work: (Resumption) -> Void
    ) {
        request.phase = .suspended
        if let watch = request.watch { deadlines?.nothingDue(watch) }
        work(Resumption(suspension: link.suspend(), request: request, receiver: receiver))
    }

    /// Enters the phase a disposition asks for. `chunk` is body data that came with this call
    /// (possible only after a wait, when the connection resumes with data already buffered).
    private func adopt<Link: RequestLink>(
        _ disposition: Disposition, for request: Request, on link: Link, chunk: UnsafeRawBufferPointer
    ) -> Bool {
        switch disposition {
        case .respond(let response):
            if !request.framing.hasBody {
                request.phase = .answerPending(response)
            } else if let length = request.framing.declaredLength, length <= drainBodyLimit {
                request.phase = .draining(response)
            } else {
                return queue(response, for: request, on: link)
            }
        case .receiveBody(let receiver):
            request.phase = .receiving(receiver)
        case .deferred(let work):
            request.phase = .deferredPending(work)
        case .waitForTurn(let turn):
            if turn.takeIfFree() { return adopt(turn.granted(), for: request, on: link, chunk: chunk) }
            request.phase = .waiting(turn, granted: false)
            if let watch = request.watch { deadlines?.nothingDue(watch) }
            // Body bytes that came with this call (a turn asked for again after a grant) wait too.
            request.unread = chunk.count
            let suspension = link.suspend()
            turn.enqueue {
                // Shut down while waiting: pass the turn on rather than keep it forever.
                if !suspension.resume({ request.phase = .waiting(turn, granted: true) }) { turn.abandoned() }
            }
            return true
        }
        // Data that arrived with this very call belongs to the new phase.
        return chunk.isEmpty ? true : step(request, on: link, chunk: chunk)
    }

    /// The request's body framing; the common request without a body costs two lookups.
    private static func framing(of request: Request) throws(ProblemDetails) -> MessageFraming {
        guard request.header("Transfer-Encoding") != nil || request.header("Content-Length") != nil else { return .none }
        return try MessageFraming(
            contentLengths: request.headerValues("Content-Length"),
            transferEncodings: request.headerValues("Transfer-Encoding"))
    }

    /// Queues the decorated answer. The memory a body points into is kept alive, and counted as
    /// a lease, until `ended`: the link reads a body only before it. (Cheaper than a retained
    /// context object released by libmicrohttpd's free callback: no allocation per answer.) The
    /// one place a mapped body's owner is kept, whatever the body's shape.
    private func queue<Link: RequestLink>(_ response: Response, for request: Request, on link: Link) -> Bool {
        let response = handler.decorate(response, for: request)
        if let owner = response.body.memoryOwner {
            if request.holding == nil { leases.acquire() }
            request.holding = owner
        }
        guard link.send(response, for: request) else { return false }
        if let watch = request.watch, let deadlines {
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
        // HEAD and 304 announce a length but no body is sent.
        request.bodyLength = request.method == .head || response.status == 304 ? 0 : response.bodyLength
        return true
    }
}

/// What the request driver asks of the connection a request came on.
package protocol RequestLink: Sendable {
    /// Parks the connection until the returned suspension is resumed; called only from a call
    /// for it. A parked connection is called again only after the resume.
    func suspend() -> Suspension
    /// Queues `response`, decorated, as the request's answer; false when it cannot be queued (the
    /// connection is then closed).
    func send(_ response: Response, for request: Request) -> Bool
}
