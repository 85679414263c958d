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
    /// Takes the turn now if nobody holds it; then `granted()` follows at once, on this network
    /// thread, and the connection is never suspended (the lone writer's case: a suspension and
    /// its resume cost a wake-up of the network thread, as much as the rest of a small write).
    func takeIfFree() -> Bool
    /// Calls `grant` (from any thread, possibly at once) when the request's turn comes.
    func enqueue(grant: @escaping @Sendable () -> Void)
    /// The turn has come: decide what to do now. Runs on the network thread.
    func granted() -> Disposition
    /// The request ended after its turn came but before `granted()` ran (client gone): give the
    /// turn back.
    func abandoned()
}

/// Consumes a request body as it streams in; called on one thread at a time (a network thread,
/// or the worker a `pause` or `later` handed it to while the connection is suspended).
public protocol BodyReceiver: AnyObject {
    /// Takes the next chunk.
    func receive(_ chunk: UnsafeRawBufferPointer) -> BodyStep
    /// The whole body has arrived.
    func finish() -> BodyEnd
    /// The client went away before the body was complete, or before a `pause` ended.
    func abandon()
}

/// What a receiver does after a chunk.
public enum BodyStep {
    /// Read on.
    case more
    /// Stop reading and answer: the connection closes after the answer, since the rest of the
    /// body was not read.
    case stop(Response)
    /// Stop reading for now, with the connection suspended: `work` is called at once, on the
    /// network thread, and hands what may block (a copy into a file) to a worker, which ends
    /// the pause with `Resumption.proceed()`.
    case pause(@Sendable (Resumption) -> Void)
}

/// How a receiver answers once the body is complete.
public enum BodyEnd {
    case respond(Response)
    /// Answer later, from any thread, through `Resumption.answer(_:)`: `work` is called at once,
    /// on the network thread, with the connection suspended. Writes copy and flush this way.
    case later(@Sendable (Resumption) -> Void)
}
