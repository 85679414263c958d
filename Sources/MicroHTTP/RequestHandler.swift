/// What the application does with a request once its headers are in.
public protocol RequestHandler: Sendable {
    /// Called once per request on a libmicrohttpd thread, when the headers are complete and no
    /// body byte has been read yet.
    func begin(_ request: Request) -> Disposition
    /// Called once per request when libmicrohttpd is done with it, also after an abort. Its
    /// headers can still be read.
    func completed(_ request: Request)
    /// Called once per request, after `completed`, when what the client took of the answer is
    /// known (`bytesSent`, `abortReason`): at once when the request ended early, else at the
    /// connection's next request, its close, or a deadline scan (see `AnswerDelivery`). The
    /// headers can no longer be read; keep what is needed in `notes` at completion.
    func delivered(_ request: Request)
    /// The answer to a request that starts after shutdown began (sent with `Connection: close`).
    func stopping(_ request: Request) -> Response
    /// Last look at every answer before it is queued, whichever path produced it (headers that
    /// apply to all answers, such as CORS).
    func decorate(_ response: Response, for request: Request) -> Response
}

public enum Disposition {
    /// Answer now (the body, if any, is discarded).
    case respond(Response)
    /// Hand the body to `receiver` chunk by chunk as it arrives, then answer with its result.
    case receiveBody(any BodyReceiver)
    /// Run `work` off the network threads with the connection suspended, then answer with its
    /// result: long work (a search over a large file) never stalls other clients.
    case deferred(@Sendable () -> Response)
    /// Suspend the connection, without reading the body, until `turn` grants it, then carry on
    /// with what `turn.granted()` decides. Writers queue for a file this way: no network thread
    /// ever blocks on another request.
    case waitForTurn(any Turn)
}

/// Something a request must wait for (a file's write lock), granted through a callback.
public protocol Turn: AnyObject, Sendable {
    /// Calls `grant` (from any thread, possibly at once) when the request's turn comes.
    func enqueue(grant: @escaping @Sendable () -> Void)
    /// The turn has come: decide what to do now. Runs on the network thread.
    func granted() -> Disposition
    /// The request ended after its turn came but before `granted()` ran (client gone): give the
    /// turn back.
    func abandoned()
}

/// Consumes a request body as it streams in; called on one thread at a time.
public protocol BodyReceiver: AnyObject {
    /// Takes the next chunk. Returning a response stops reading: the answer goes out and the
    /// connection closes, since the rest of the body was not read.
    func receive(_ chunk: UnsafeRawBufferPointer) -> Response?
    /// The whole body has arrived.
    func finish() -> Response
    /// The client went away before the body was complete.
    func abandon()
}
