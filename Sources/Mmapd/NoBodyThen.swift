import Dispatch
import MicroHTTP

/// Waits for the end of a request that carries no body, then runs `work` on a worker, off the
/// network threads, with the connection suspended; `work` answers through the `Resumption` it is
/// given (once). A body byte is a 400. `cancel` gives back what the request holds when it ends
/// any other way.
final class NoBodyThen: BodyReceiver {
    /// Where the work runs.
    private static let workers = DispatchQueue(label: "mmapd.nobody", attributes: .concurrent)

    private let detail: String
    private let cancel: () -> Void
    private let work: @Sendable (Resumption) -> Void

    init(detail: String, cancel: @escaping () -> Void, work: @escaping @Sendable (Resumption) -> Void) {
        self.detail = detail
        self.cancel = cancel
        self.work = work
    }

    /// Waits for the end of the request, then answers with what `work` returns.
    convenience init(detail: String, cancel: @escaping () -> Void, answer work: @escaping @Sendable () -> Response) {
        self.init(detail: detail, cancel: cancel) { resumption in resumption.answer(work()) }
    }

    func receive(_ chunk: UnsafeRawBufferPointer) -> BodyStep {
        cancel()
        return .stop(Response.problem(.badRequest(detail)))
    }

    func finish() -> BodyEnd {
        .later { [work] resumption in Self.workers.async { work(resumption) } }
    }

    func abandon() { cancel() }
}
