import CPOSIXShim
import Dispatch
import Glibc
import Synchronization

/// Deadlines for slow clients, which libmicrohttpd 0.9.75 lacks: its connection timeout is
/// idle-only, so a client that sends a byte now and then holds its connection (and, for a PATCH,
/// its file's write turn) forever.
///
/// - A request head must be complete within `headerTimeout` of the connection opening, or of the
///   previous answer plus the idle allowance (a keep-alive connection may first stay idle).
/// - A body must keep an average of `minimumBodyRate` bytes per second after a first
///   `headerTimeout` of grace, so a large upload on a slow link is fine and a trickle is not.
/// - Answers being sent, and suspended requests (a search running, a PATCH waiting for its turn),
///   have no deadline here: the idle timeout and the server's own budgets govern them. The one
///   exception is a body sent with sendfile(2) from a file that shrank under it: sendfile then
///   sends nothing and libmicrohttpd waits for a writability edge that never comes. Such an answer
///   is cut when, for `stallAllowance` (3 s) and at least two scans, the client acknowledged no new
///   byte and none was queued for it: the client is keeping up, so the server has stopped
///   sending. (Not at the first quiet scan: a slow disk read, or a network thread that a busy
///   machine did not schedule, may hold a send up for a moment.)
/// - A pulled stream (`tail -f`) that may stay open for ever is cut the other way round: when for
///   its stall allowance bytes wait in the socket and the client acknowledges none of them, the
///   client has stopped reading. A stream waiting for new bytes has nothing queued and is never
///   cut; if its client closes the connection meanwhile, the stream is told (it is suspended, so
///   libmicrohttpd would not notice until it next sends).
///
/// A connection whose client has closed its side while a head or body is still due is cut off at
/// once (see `peerFinished`).
///
/// A connection past its deadline is `shutdown(2)`, not closed: libmicrohttpd sees the end of the
/// stream, ends the request (the completion callback releases what it held) and closes the
/// socket itself. The scan holds the registry lock while it shuts sockets down, and a connection
/// leaves the registry (under that lock) in the close notification that libmicrohttpd sends
/// before it closes the descriptor, so a descriptor number reused by a new connection is never hit.
final class ConnectionDeadlines: Sendable {
    /// One connection's deadline, read by the scan and written by the connection's network thread.
    final class Watch: Sendable {
        fileprivate let fd: Int32
        /// Monotonic milliseconds; `.max` when nothing is due.
        fileprivate let deadline: Atomic<Int64>
        fileprivate let bodyStart = Atomic<Int64>(0)
        /// Sending a file body: the scan watches its progress.
        fileprivate let sendingFile = Atomic<Bool>(false)
        /// Sending a pulled stream: milliseconds its client may leave queued bytes untaken (0: not one).
        fileprivate let streamAllowance = Atomic<Int64>(0)
        /// Tells a pulled stream that its client has closed the connection: libmicrohttpd does not
        /// watch a suspended (waiting) stream's socket, so the scan does.
        fileprivate let departed = Mutex<(@Sendable () -> Void)?>(nil)
        /// Bytes the client had acknowledged at the previous scan (-1: not looked at yet), and
        /// since when (monotonic ms) that has not moved with nothing queued (0: it moved).
        fileprivate let acknowledged = Atomic<Int64>(-1)
        fileprivate let quietSince = Atomic<Int64>(0)
        /// The connection's answer whose delivery is not known yet; the scan looks at it too.
        let delivery: AnswerDelivery

        fileprivate init(fd: Int32, deadline: Int64) {
            self.fd = fd
            self.deadline = Atomic(deadline)
            delivery = AnswerDelivery(fd: fd)
        }
    }

    /// The open connections, and the scan over them. A separate object so that the timer can
    /// hold it strongly: a `[weak self]` capture would give this object a side table, and every
    /// retain of it on the request path would take the runtime's slow path.
    private final class Registry: Sendable {
        let watches = Mutex<[ObjectIdentifier: Watch]>([:])
        /// Answers on connections the server closed, still watched (`LingeringAnswer`).
        let lingering = Mutex<[LingeringAnswer]>([])
        let cutOff = Atomic<Int>(0)
    }

    /// Closed connections watched at once at most: each holds a descriptor. Beyond, an answer
    /// is taken as delivered when its connection closes.
    static let maxLingering = 256

    private let headerTimeout: Int64
    private let idleAllowance: Int64
    private let minimumBodyRate: Int64
    private let registry = Registry()
    /// Reports an answer whose delivery a scan settled (`AnswerDelivery.scanned`).
    private let delivered: @Sendable (Request) -> Void
    /// Dispatch sources are thread-safe; the protocol type just does not say so.
    nonisolated(unsafe) private let timer: DispatchSourceTimer
    /// Connections shut down for missing a deadline (for metrics and tests).
    var cutOff: Int { registry.cutOff.load(ordering: .relaxed) }

    init(headerTimeoutSeconds: Int, idleTimeoutSeconds: Int, minimumBodyRate: Int, delivered: @escaping @Sendable (Request) -> Void) {
        self.delivered = delivered
        headerTimeout = Int64(headerTimeoutSeconds) * 1000
        idleAllowance = Int64(idleTimeoutSeconds) * 1000
        self.minimumBodyRate = Int64(max(1, minimumBodyRate))
        timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "mmapd.deadlines", qos: .utility))
        // A quarter of the shortest timeout, at most once a second: a deadline is enforced late
        // by at most that much.
        let period = max(50, min(1000, Int(headerTimeout / 4)))
        timer.schedule(deadline: .now() + .milliseconds(period), repeating: .milliseconds(period), leeway: .milliseconds(period / 4))
        timer.setEventHandler { [registry, delivered, idleAllowance] in
            Self.scan(registry).forEach(delivered)
            Self.scanLingering(registry, limit: idleAllowance).forEach(delivered)
        }
        timer.resume()
    }

    deinit { timer.cancel() }

    /// Monotonic milliseconds from the coarse clock: deadlines are enforced to a scan period.
    static func now() -> Int64 {
        Int64(monotonicNanoseconds(CLOCK_MONOTONIC_COARSE) / 1_000_000)
    }

    /// A new connection: its first request head is due.
    func opened(fd: Int32) -> Watch {
        let watch = Watch(fd: fd, deadline: Self.now() + headerTimeout)
        registry.watches.withLock { $0[ObjectIdentifier(watch)] = watch }
        return watch
    }

    /// libmicrohttpd is about to close the connection's socket. Returns the connection's held
    /// answer when the close settles it; an answer the server closes on is watched on.
    func closed(_ watch: Watch) -> Request? {
        _ = registry.watches.withLock { $0.removeValue(forKey: ObjectIdentifier(watch)) }
        switch watch.delivery.closing() {
        case .nothing:
            return nil
        case .settled(let request):
            return request
        case .linger(let pending):
            let watched = registry.lingering.withLock { lingering -> Bool in
                guard lingering.count < Self.maxLingering, let answer = LingeringAnswer(pending, fd: watch.fd, now: Self.now()) else {
                    return false
                }
                lingering.append(answer)
                return true
            }
            return watched ? nil : pending.settle(acknowledged: pending.end, abort: nil)
        }
    }

    /// The server is stopping: every watched answer, settled with what is known now.
    func settleLingering() -> [Request] {
        registry.lingering.withLock { lingering in
            defer { lingering = [] }
            return lingering.map { $0.settleNow() }
        }
    }

    private static func scanLingering(_ registry: Registry, limit: Int64) -> [Request] {
        let now = Self.now()
        return registry.lingering.withLock { lingering in
            var settled: [Request] = []
            lingering.removeAll { answer in
                guard let request = answer.scanned(now: now, limit: limit) else { return false }
                settled.append(request)
                return true
            }
            return settled
        }
    }

    /// The head is complete (or a write turn came): a body, if one comes, counts from now. A body
    /// that never comes is the idle timeout's; one that trickles is cut by `bodyProgress`.
    func headComplete(_ watch: Watch) {
        watch.bodyStart.store(Self.now(), ordering: .relaxed)
        watch.deadline.store(.max, ordering: .relaxed)
    }

    /// `received` body bytes so far: each one buys 1/`minimumBodyRate` of a second.
    func bodyProgress(_ watch: Watch, received: UInt64) {
        let bytes = Int64(clamping: received)
        let earned = bytes / minimumBodyRate * 1000 + bytes % minimumBodyRate * 1000 / minimumBodyRate
        watch.deadline.store(watch.bodyStart.load(ordering: .relaxed) + headerTimeout + earned, ordering: .relaxed)
    }

    /// Suspended, or answering: nothing is due from the client.
    func nothingDue(_ watch: Watch) {
        watch.deadline.store(.max, ordering: .relaxed)
    }

    /// Answering with a file body through sendfile: nothing is due from the client, and the scan
    /// cuts the answer off if it stops moving.
    func sendingFile(_ watch: Watch) {
        watch.deadline.store(.max, ordering: .relaxed)
        watch.acknowledged.store(-1, ordering: .relaxed)
        watch.quietSince.store(0, ordering: .relaxed)
        watch.sendingFile.store(true, ordering: .relaxed)
    }

    /// Answering with a pulled stream: cut when its client leaves queued bytes untaken for
    /// `stallAllowance`; `departed` runs when the client has closed the connection.
    func streaming(_ watch: Watch, stallAllowance: Duration, departed: @escaping @Sendable () -> Void) {
        watch.departed.withLock { $0 = departed }
        watch.deadline.store(.max, ordering: .relaxed)
        watch.acknowledged.store(-1, ordering: .relaxed)
        watch.quietSince.store(0, ordering: .relaxed)
        let milliseconds = stallAllowance.components.seconds * 1000 + stallAllowance.components.attoseconds / 1_000_000_000_000_000
        watch.streamAllowance.store(max(1, milliseconds), ordering: .relaxed)
    }

    /// The request is over; the next head is due after the idle allowance plus the head timeout.
    func requestFinished(_ watch: Watch) {
        watch.sendingFile.store(false, ordering: .relaxed)
        watch.streamAllowance.store(0, ordering: .relaxed)
        watch.departed.withLock { $0 = nil }
        watch.deadline.store(Self.now() + idleAllowance + headerTimeout, ordering: .relaxed)
    }

    /// Cuts off the connections past their deadlines; returns the answers whose delivery it
    /// settled, to be reported once the lock is released.
    private static func scan(_ registry: Registry) -> [Request] {
        let now = Self.now()
        return registry.watches.withLock { watches in
            var settled: [Request] = []
            for watch in watches.values {
                if let request = watch.delivery.scanned() { settled.append(request) }
                if watch.streamAllowance.load(ordering: .relaxed) > 0, Self.peerFinished(watch.fd),
                    let departed = watch.departed.withLock({ state in
                        defer { state = nil }
                        return state
                    })
                {
                    departed()
                    continue
                }
                let deadline = watch.deadline.load(ordering: .relaxed)
                guard deadline < now || (deadline != .max && Self.peerFinished(watch.fd)) || Self.sendStalled(watch, now: now) else {
                    continue
                }
                watch.sendingFile.store(false, ordering: .relaxed)
                watch.streamAllowance.store(0, ordering: .relaxed)
                watch.deadline.store(.max, ordering: .relaxed)
                // Counted first: whoever sees the connection end can already read the count.
                registry.cutOff.add(1, ordering: .relaxed)
                shutdown(watch.fd, Int32(SHUT_RDWR))
            }
            return settled
        }
    }

    /// The client closed its side and every byte it sent has been read, while its head or body is
    /// still due: what it owes can never arrive. libmicrohttpd 0.9.75 can miss such a FIN when it
    /// comes right behind data it already drained (edge-triggered epoll), and would then wait for
    /// the idle timeout, holding e.g. a write turn.
    private static func peerFinished(_ fd: Int32) -> Bool {
        var probe = pollfd(fd: fd, events: pollReadHangUp, revents: 0)
        guard poll(&probe, 1, 0) == 1, probe.revents & pollReadHangUp != 0 else { return false }
        var pending: Int32 = 0
        return ioctl(fd, UInt(FIONREAD), &pending) == 0 && pending == 0
    }

    /// A file body that stopped moving: no byte acknowledged and none waiting in the socket,
    /// seen by consecutive scans spanning `stallAllowance`; or a pulled stream whose client stopped
    /// reading: no byte acknowledged while some wait, for the stream's allowance. Records what it
    /// saw for the next scan.
    private static func sendStalled(_ watch: Watch, now: Int64) -> Bool {
        let streamAllowance = watch.streamAllowance.load(ordering: .relaxed)
        guard streamAllowance > 0 || watch.sendingFile.load(ordering: .relaxed) else { return false }
        var progress = cposix_send_progress()
        guard cposix_socket_send_progress(watch.fd, &progress) == 0 else { return false }
        let sent = Int64(clamping: progress.acknowledged)
        let before = watch.acknowledged.exchange(sent, ordering: .relaxed)
        // A file body stalls with nothing queued, a stream with bytes its client does not take.
        guard before == sent, (progress.queued > 0) == (streamAllowance > 0) else {
            watch.quietSince.store(0, ordering: .relaxed)
            return false
        }
        let since = watch.quietSince.load(ordering: .relaxed)
        guard since != 0 else {
            watch.quietSince.store(now, ordering: .relaxed)
            return false
        }
        return now - since >= (streamAllowance > 0 ? streamAllowance : stallAllowance)
    }

    /// Milliseconds a file answer may stand still with its client caught up.
    private static let stallAllowance: Int64 = 3000

    /// POLLRDHUP (Linux 2.6.17), which the Glibc module does not export without _GNU_SOURCE.
    private static let pollReadHangUp: Int16 = 0x2000
}
