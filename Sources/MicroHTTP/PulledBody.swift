import CMicroHTTPD
import Synchronization

/// Where a ``PulledBody`` gets its bytes: asked on the connection's network thread whenever
/// libmicrohttpd has room to send, so it must answer quickly (copy what is ready, never wait).
public protocol PullSource: AnyObject, Sendable {
    /// Copies up to `buffer.count` ready bytes into `buffer`.
    func read(into buffer: UnsafeMutableRawBufferPointer) -> PulledBody.Read
    /// libmicrohttpd let go of the body (sent, or the client left): stop producing.
    func released()
}

/// A response body of unknown length (chunked) pulled from a ``PullSource`` as the socket
/// drains, for streams that may have nothing to send for a long time (`tail -f`).
///
/// Nothing is queued here: the source is read only when libmicrohttpd can send, so a slow
/// reader holds the bytes where they already are (the file) and back-pressure is TCP's own.
/// When the source has nothing, the connection is suspended: a waiting stream holds no thread.
/// ``wake()`` (from any thread: new bytes, or the end) resumes it. A wake that comes between the
/// source's "nothing yet" and the suspension is not lost: the suspension is skipped and the
/// source read again.
///
/// The connection's deadlines cut a stream whose client stops taking bytes that are waiting for it
/// for the stall allowance, and end one whose client has closed the connection while it waited
/// (see `ConnectionDeadlines.streaming`).
public final class PulledBody: @unchecked Sendable {
    public enum Read: Sendable {
        /// This many bytes were copied.
        case bytes(Int)
        /// Nothing ready now: suspend until ``PulledBody/wake()``.
        case pending
        /// The stream is complete: send the terminating chunk.
        case end
        /// Give up: close the connection without ending the body (the client sees it cut).
        case failed
    }

    /// The link is only asked to suspend, under the lock (libmicrohttpd's suspend is thread-safe).
    private struct State: @unchecked Sendable {
        var wakes: UInt64 = 0
        var clientLeft = false
        var suspended: Suspension?
        var link: (any RequestLink)?
    }

    private let state = Mutex(State())
    public let source: any PullSource
    /// How long the client may leave waiting bytes untaken before the stream is cut.
    public let stallAllowance: Duration

    public init(source: any PullSource, stallAllowance: Duration) {
        self.source = source
        self.stallAllowance = stallAllowance
    }

    /// The source may have something new (bytes, or its end): resume a suspended connection.
    public func wake() { resume { _ in } }

    /// The client closed the connection (seen by the deadlines' scan): resume, to close it.
    func clientLeft() { resume { $0.clientLeft = true } }

    private func resume(after change: (inout State) -> Void) {
        let suspended = state.withLock { state -> Suspension? in
            change(&state)
            state.wakes &+= 1
            defer { state.suspended = nil }
            return state.suspended
        }
        suspended?.resume()
    }

    /// The connection the body is sent on, suspended while there is nothing to send.
    package func attach(_ link: any RequestLink) {
        state.withLock { $0.link = link }
    }

    /// libmicrohttpd's content reader: bytes copied, 0 after suspending, -1 at the end, -2 to cut.
    package func read(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        while true {
            let (ticket, clientLeft) = state.withLock { ($0.wakes, $0.clientLeft) }
            if clientLeft { return -2 }
            switch source.read(into: buffer) {
            case .bytes(let count) where count > 0: return count
            case .end: return -1
            case .failed: return -2
            case .bytes, .pending:
                // nil: woken meanwhile, read again.
                let answer = state.withLock { state -> Int? in
                    guard state.wakes == ticket else { return nil }
                    guard let link = state.link else { return -2 }
                    state.suspended = link.suspend()
                    return 0
                }
                if let answer { return answer }
            }
        }
    }

    package func release() { source.released() }
}
