import CMicroHTTPD
import Dispatch
import Synchronization

/// A response body produced while it is sent (NDJSON search results), through a bounded pipe:
/// a producer on a worker thread writes, libmicrohttpd's content reader reads.
///
/// Back-pressure both ways without a busy loop: a full pipe blocks the producer (a worker, never
/// a network thread); an empty pipe makes the reader suspend the connection, and the next write
/// resumes it. Suspend happens under the pipe's lock and a resume only after taking it, so a
/// resume can never overtake its suspend. A client that goes away cancels the producer (and runs
/// `onCancel`, so work the producer is in the middle of can stop too). A reader that holds the
/// producer up must keep its `ReaderPace`, or its stream is cut (the connection closes): a
/// stalled consumer, or one that takes a few bytes now and then, never holds the producer's
/// thread for long.
public final class StreamingBody: @unchecked Sendable {
    /// The link is only asked to suspend, under the lock (libmicrohttpd's suspend is thread-safe).
    private struct State: @unchecked Sendable {
        var buffered: [UInt8] = []
        var finished = false
        var cancelled = false
        /// The producer gave up on a stalled reader: the connection is closed, not ended cleanly.
        var cut = false
        var suspendedReader: Suspension?
        /// When the current pace window began: set when the producer first finds the pipe full,
        /// and opened anew whenever one closes with the reader keeping up.
        var windowStart: ContinuousClock.Instant?
        /// Bytes the reader took since `windowStart`.
        var takenInWindow = 0
        /// How long the producer waited for space since `windowStart`.
        var waitedInWindow = Duration.zero
        var link: (any RequestLink)?
    }

    private let state = Mutex(State())
    private let capacity: Int
    private let pace: ReaderPace?
    private let onCancel: (@Sendable () -> Void)?
    /// Signalled whenever the reader takes bytes or the client goes away.
    private let space = DispatchSemaphore(value: 0)

    public init(capacity: Int = 256 * 1024, pace: ReaderPace? = nil, onCancel: (@Sendable () -> Void)? = nil) {
        self.capacity = capacity
        self.pace = pace
        self.onCancel = onCancel
    }

    /// Appends bytes, waiting while the pipe is full. Returns false once the client is gone or too
    /// slow: the producer should stop.
    @discardableResult
    public func write(_ bytes: [UInt8]) -> Bool {
        while true {
            let (accepted, resume) = state.withLock { state -> (Bool?, Suspension?) in
                if state.cancelled { return (false, nil) }
                guard state.buffered.count < capacity else {
                    if state.windowStart == nil { Self.openWindow(&state, at: .now) }
                    return (nil, nil)
                }
                state.buffered += bytes
                return (true, Self.takeSuspended(&state))
            }
            resume?.resume()
            if let accepted { return accepted }
            guard let pace else {
                space.wait()
                continue
            }
            if !waitKeepingPace(pace) {
                cut()
                return false
            }
        }
    }

    /// Waits for space, at most until the current pace window closes; false when, over a window
    /// of `stallTimeout`, the producer spent at least half the time waiting for the reader and the
    /// reader took less than `minimumRate` bytes a second. Windows run on the wall clock from the
    /// moment the producer first finds the pipe full, so bytes the reader took while the producer
    /// was busy count too. Emptiness of the pipe is no sign of a fast reader: libmicrohttpd
    /// takes a whole block whenever the kernel's send buffer has room, so a trickling reader
    /// empties a small pipe again and again while it holds the producer up most of the time.
    private func waitKeepingPace(_ pace: ReaderPace) -> Bool {
        let now = ContinuousClock.now
        let closes = state.withLock { state -> ContinuousClock.Instant? in
            let start = state.windowStart ?? now
            let elapsed = now - start
            guard elapsed >= pace.stallTimeout else { return start + pace.stallTimeout }
            let heldUp = state.waitedInWindow * 2 >= elapsed
            let slow = Double(state.takenInWindow) < Double(pace.minimumRate) * elapsed.seconds
            if heldUp, slow { return nil }
            Self.openWindow(&state, at: now)
            return now + pace.stallTimeout
        }
        guard let closes else { return false }
        let remaining = max(closes - now, .milliseconds(1))
        _ = space.wait(timeout: .now() + .nanoseconds(Int(remaining.seconds * 1e9)))
        let waited = ContinuousClock.now - now
        state.withLock { $0.waitedInWindow += waited }
        return true
    }

    private static func openWindow(_ state: inout State, at start: ContinuousClock.Instant) {
        state.windowStart = start
        state.takenInWindow = 0
        state.waitedInWindow = .zero
    }

    /// The reader did not keep its pace: drop what is buffered and close.
    private func cut() {
        state.withLock { state in
            guard !state.cancelled else { return }
            state.cancelled = true
            state.cut = true
            state.buffered = []
        }
    }

    /// Whether the producer cut the stream because its reader stalled.
    public var wasCut: Bool { state.withLock { $0.cut } }

    /// No more bytes: the reader ends the body once it has sent what is buffered.
    public func finish() {
        let resume = state.withLock { state -> Suspension? in
            state.finished = true
            return Self.takeSuspended(&state)
        }
        resume?.resume()
    }

    private static func takeSuspended(_ state: inout State) -> Suspension? {
        defer { state.suspendedReader = nil }
        return state.suspendedReader
    }

    /// The connection the body is sent on, suspended while there is nothing to send.
    package func attach(_ link: any RequestLink) {
        state.withLock { $0.link = link }
    }

    /// libmicrohttpd's content reader: bytes copied, 0 after suspending when nothing is ready,
    /// -1 at the end of the stream, -2 when it was cut (close without ending the body).
    package func read(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        let count = state.withLock { state -> Int in
            if state.cut { return -2 }
            if state.buffered.isEmpty {
                if state.finished { return -1 }
                if let link = state.link { state.suspendedReader = link.suspend() }
                return 0
            }
            let count = min(buffer.count, state.buffered.count)
            state.buffered.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: count) }
            state.buffered.removeFirst(count)
            if state.windowStart != nil { state.takenInWindow += count }
            return count
        }
        if count > 0 { space.signal() }
        return count
    }

    /// The response was freed (sent or abandoned): wake and stop the producer.
    package func cancel() {
        state.withLock { $0.cancelled = true }
        space.signal()
        onCancel?()
    }
}
