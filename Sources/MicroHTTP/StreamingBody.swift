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
/// `onCancel`, so work the producer is in the middle of can stop too). A reader that leaves the
/// pipe full for `stallTimeout` gets its stream cut (the connection closes): a stalled consumer
/// never holds the producer's thread for longer than that per write.
public final class StreamingBody: @unchecked Sendable {
    /// The connection pointer is only passed to libmicrohttpd's thread-safe suspend/resume.
    private struct State: @unchecked Sendable {
        var buffered: [UInt8] = []
        var finished = false
        var cancelled = false
        /// The producer gave up on a stalled reader: the connection is closed, not ended cleanly.
        var cut = false
        var suspendedReader: Suspension?
        var connection: OpaquePointer?
        var suspensions: Suspensions?
    }

    private let state = Mutex(State())
    private let capacity: Int
    private let stallTimeout: Duration?
    private let onCancel: (@Sendable () -> Void)?
    /// Signalled whenever the reader takes bytes or the client goes away.
    private let space = DispatchSemaphore(value: 0)

    public init(capacity: Int = 256 * 1024, stallTimeout: Duration? = nil, onCancel: (@Sendable () -> Void)? = nil) {
        self.capacity = capacity
        self.stallTimeout = stallTimeout
        self.onCancel = onCancel
    }

    /// Appends bytes, waiting while the pipe is full. Returns false once the client is gone: the
    /// producer should stop.
    @discardableResult
    public func write(_ bytes: [UInt8]) -> Bool {
        while true {
            let (accepted, resume) = state.withLock { state -> (Bool?, Suspension?) in
                if state.cancelled { return (false, nil) }
                guard state.buffered.count < capacity else { return (nil, nil) }
                state.buffered += bytes
                return (true, Self.takeSuspended(&state))
            }
            resume?.resume()
            if let accepted { return accepted }
            guard let stallTimeout else {
                space.wait()
                continue
            }
            let nanoseconds = Int(stallTimeout.components.seconds) * 1_000_000_000
                + Int(stallTimeout.components.attoseconds / 1_000_000_000)
            if space.wait(timeout: .now() + .nanoseconds(nanoseconds)) == .timedOut, cutIfStillFull() { return false }
        }
    }

    /// The reader took nothing for a whole stall timeout: drop what is buffered and close.
    private func cutIfStillFull() -> Bool {
        state.withLock { state in
            guard !state.cancelled, state.buffered.count >= capacity else { return state.cancelled }
            state.cancelled = true
            state.cut = true
            state.buffered = []
            return true
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

    func attach(_ connection: OpaquePointer, suspensions: Suspensions) {
        state.withLock { state in
            state.connection = connection
            state.suspensions = suspensions
        }
    }

    /// libmicrohttpd's content reader: bytes copied, 0 after suspending when nothing is ready,
    /// -1 at the end of the stream, -2 when it was cut (close without ending the body).
    func read(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        let count = state.withLock { state -> Int in
            if state.cut { return -2 }
            if state.buffered.isEmpty {
                if state.finished { return -1 }
                if let connection = state.connection, let suspensions = state.suspensions {
                    state.suspendedReader = suspensions.suspend(connection)
                }
                return 0
            }
            let count = min(buffer.count, state.buffered.count)
            state.buffered.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: count) }
            state.buffered.removeFirst(count)
            return count
        }
        if count > 0 { space.signal() }
        return count
    }

    /// The response was freed (sent or abandoned): wake and stop the producer.
    func cancel() {
        state.withLock { $0.cancelled = true }
        space.signal()
        onCancel?()
    }
}
