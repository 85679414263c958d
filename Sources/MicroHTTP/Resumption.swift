import Synchronization

/// A request whose connection is suspended while its work runs elsewhere (a body copied into a
/// file, a flush), and the one way to carry it on: `proceed` to read more of the body, or
/// `answer`. Either may be called from any thread, once; a second call, or any call after
/// shutdown cancelled the suspension, returns false and touches nothing.
///
/// When a call returns false because shutdown came first, the request has already ended without
/// the receiver's `abandon` (the suspension hid it from libmicrohttpd's bookkeeping): the caller
/// cleans up whatever the request held.
public final class Resumption: @unchecked Sendable {
    private let suspension: Suspension
    /// Touched only through the suspension's single transition (see `Request`).
    private let request: Request
    private let receiver: (any BodyReceiver)?

    init(suspension: Suspension, request: Request, receiver: (any BodyReceiver)?) {
        self.suspension = suspension
        self.request = request
        self.receiver = receiver
    }

    /// Reads on: the receiver gets the next chunk (or `finish`).
    @discardableResult
    public func proceed() -> Bool {
        guard let receiver else { preconditionFailure("proceed() on a request whose body is complete") }
        return suspension.resume { request.phase = .receiving(receiver) }
    }

    /// Sends `response` as the answer.
    @discardableResult
    public func answer(_ response: Response) -> Bool {
        suspension.resume { request.phase = .answerPending(response) }
    }
}
