import CPOSIXShim
import Glibc
import Synchronization

/// What a client really took of an answer, for the access log.
///
/// libmicrohttpd calls an answer complete once its last byte is in the kernel's socket buffer.
/// On a fast link the buffers hold megabytes, so a client that drops an answer early is often
/// not seen: ffmpeg reads a media file's first bytes, then seeks with a new connection and resets
/// the old one with the rest unread, after libmicrohttpd reported success (and, since ffmpeg
/// sends `Connection: close`, after the server closed its side). The kernel's counters
/// (`cposix_socket_send_progress`) tell what the client acknowledged and whether it left, so an
/// answer libmicrohttpd completed is held here, one per connection, until its fate is known:
///
/// - the client's next request on the connection: it took the answer;
/// - the client leaves: a reset is an abort, and so is a close with bytes unacknowledged (the
///   bytes are those acknowledged); a close after every byte was acknowledged is not;
/// - a deadline scan that finds every byte acknowledged and the client still there, twice in a
///   row: taken (a client that drops an answer resets at once; this bounds how late a kept-alive
///   connection's last line is written).
/// - the server closes the connection after the answer (`Connection: close`, an idle timeout):
///   the socket is kept open a while longer (`LingeringAnswer`) and watched the same way.
///
/// An answer libmicrohttpd ended early itself is known at once. A reset after every byte was
/// acknowledged counts as an abort: the reset says the client closed with bytes unread (or
/// chose an abortive close), and nothing else tells the two apart.
///
/// Byte counts are the connection's (status line, header and body; TLS records over HTTPS),
/// from the bytes written before the answer started to those acknowledged at its end.
final class AnswerDelivery: Sendable {
    /// An answer libmicrohttpd completed whose delivery is not known yet.
    struct Pending: Sendable {
        let request: Request
        /// The connection's bytes written once the answer was complete.
        let end: UInt64
        var quietScans = 0

        /// Records the outcome on the request: the bytes acknowledged of it, and an abort reason.
        func settle(acknowledged: UInt64, abort: String?) -> Request {
            request.bytesSent = min(acknowledged, end).subtractingClamped(request.writtenBefore ?? end)
            if let abort { request.abortReason = abort }
            return request
        }

        /// A scan's look, given the socket's progress and whether the client reset it: the
        /// request once settled, nil while undecided (`quietScans` counts the looks that found
        /// everything acknowledged and the client there).
        mutating func look(_ progress: cposix_send_progress, reset: Bool) -> Request? {
            if reset { return settle(acknowledged: progress.acknowledged, abort: "client reset") }
            if progress.acknowledged < end {
                quietScans = 0
                return progress.peer_closed != 0 ? settle(acknowledged: progress.acknowledged, abort: "client closed") : nil
            }
            if progress.peer_closed != 0 { return settle(acknowledged: end, abort: nil) }
            quietScans += 1
            return quietScans >= 2 ? settle(acknowledged: end, abort: nil) : nil
        }
    }

    private struct State: Sendable {
        /// Bytes the connection had written when its last answer completed: where the next starts.
        var written: UInt64?
        var pending: Pending?
    }

    private let fd: Int32
    private let state = Mutex(State())

    init(fd: Int32) { self.fd = fd }

    /// A request line arrived: the connection's held answer, if any, was taken by the client (it
    /// asked for more), and is returned to be reported; `request` starts where it ended.
    func requestStarted(_ request: Request) -> Request? {
        let (pending, written) = state.withLock { state in
            defer { state.pending = nil }
            return (state.pending, state.written)
        }
        request.writtenBefore = written ?? Self.progress(fd).map { $0.acknowledged + $0.queued }
        return pending.map { $0.settle(acknowledged: $0.end, abort: nil) }
    }

    /// libmicrohttpd is done with `request` (`finished`: it sent every byte). Returns the request
    /// when its delivery is known now; nil when it is held until the client shows what it did.
    func completed(_ request: Request, finished: Bool) -> Request? {
        guard request.writtenBefore != nil, let progress = Self.progress(fd) else { return request }
        let written = progress.acknowledged + progress.queued
        let pending = Pending(request: request, end: written)
        state.withLock { state in
            state.written = written
            if finished { state.pending = pending }
        }
        return finished ? nil : pending.settle(acknowledged: progress.acknowledged, abort: nil)
    }

    /// What the connection's close means for its held answer.
    enum Closing {
        case nothing
        case settled(Request)
        /// The server is closing with the client still there: watch on (`LingeringAnswer`).
        case linger(Pending)
    }

    /// The connection is about to close (libmicrohttpd's notification, before its close(2)).
    /// libmicrohttpd has not shut the socket down here, so a connection that is over was reset.
    func closing() -> Closing {
        guard
            let pending = state.withLock({ state -> Pending? in
                defer { state.pending = nil }
                return state.pending
            })
        else { return .nothing }
        guard let progress = Self.progress(fd) else { return .settled(pending.settle(acknowledged: pending.end, abort: nil)) }
        if progress.gone != 0 { return .settled(pending.settle(acknowledged: progress.acknowledged, abort: "client reset")) }
        if progress.peer_closed != 0 {
            let whole = progress.acknowledged >= pending.end
            return .settled(pending.settle(acknowledged: progress.acknowledged, abort: whole ? nil : "client closed"))
        }
        return .linger(pending)
    }

    /// The deadline scan's look at the held answer (see `Pending.look`).
    func scanned() -> Request? {
        // Most connections hold nothing: no system call for them.
        guard state.withLock({ $0.pending != nil }), let progress = Self.progress(fd) else { return nil }
        return state.withLock { state -> Request? in
            guard var pending = state.pending else { return nil }
            // A client that closes its side is left to libmicrohttpd, which closes too (`closing`).
            guard progress.peer_closed == 0 else { return nil }
            let settled = pending.look(progress, reset: progress.gone != 0)
            state.pending = settled == nil ? pending : nil
            return settled
        }
    }

    static func progress(_ fd: Int32) -> cposix_send_progress? {
        var progress = cposix_send_progress()
        return cposix_socket_send_progress(fd, &progress) == 0 ? progress : nil
    }
}

/// An answer whose connection the server closed before the client had shown what it did with
/// it: libmicrohttpd closes right after an answer to `Connection: close` (ffmpeg, urllib,
/// HTTP/1.0), with the last bytes still in flight. A duplicate of the socket keeps it open, shut
/// down for writing as libmicrohttpd's close would have (the queued bytes go out, then the FIN),
/// and the deadline scan watches it until the client acknowledged every byte and stayed for a
/// second look, reset it, or let `limit` pass without taking the rest. Then the duplicate is
/// closed. After our FIN the connection can end in a normal close too, so a reset here is the
/// socket's pending error, not its state.
final class LingeringAnswer: Sendable {
    private let fd: Int32
    private let since: Int64
    private let pending: Mutex<AnswerDelivery.Pending>

    /// nil when the socket cannot be duplicated (no descriptor left).
    init?(_ pending: AnswerDelivery.Pending, fd: Int32, now: Int64) {
        let duplicate = dup(fd)
        guard duplicate >= 0 else { return nil }
        shutdown(duplicate, Int32(SHUT_WR))
        self.fd = duplicate
        since = now
        self.pending = Mutex(pending)
    }

    /// One scan's look: the request once settled (the duplicate is then closed), else nil.
    func scanned(now: Int64, limit: Int64) -> Request? {
        guard let progress = AnswerDelivery.progress(fd) else { return settleNow() }
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
        let reset = error == ECONNRESET || error == EPIPE || (progress.gone != 0 && progress.acknowledged < pending.withLock { $0.end })
        let settled = pending.withLock { pending -> Request? in
            if let request = pending.look(progress, reset: reset) { return request }
            if progress.gone != 0 { return pending.settle(acknowledged: progress.acknowledged, abort: nil) }
            return now - since >= limit ? pending.settle(acknowledged: progress.acknowledged, abort: "client stopped reading") : nil
        }
        if settled != nil { close(fd) }
        return settled
    }

    /// Settles with what is known now (the server is stopping) and closes the duplicate.
    func settleNow() -> Request {
        defer { close(fd) }
        let acknowledged = AnswerDelivery.progress(fd)?.acknowledged
        return pending.withLock { $0.settle(acknowledged: acknowledged ?? $0.end, abort: nil) }
    }
}

extension UInt64 {
    /// `self - other`, 0 when `other` is larger.
    fileprivate func subtractingClamped(_ other: UInt64) -> UInt64 { self > other ? self - other : 0 }
}
