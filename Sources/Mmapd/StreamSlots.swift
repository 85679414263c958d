import HTTPSemantics
import MicroHTTP
import Synchronization

/// Long-lived streams of one kind open at once, bounded by a limit (503 above it): NDJSON search
/// streams (`--max-search-streams`; each holds a worker thread while it scans, and is cut when its
/// reader holds the scan up without keeping `pace`: taking nothing for `--stream-stall-seconds`,
/// or less than `--min-stream-rate` bytes a second) and follow streams (`--max-followers`; each
/// holds a connection and, while it waits, no thread; cut when bytes wait untaken for the stall
/// time).
final class StreamSlots: Sendable {
    let limit: Int
    let pace: ReaderPace
    /// The 503's problem when every slot is taken.
    let refusal: ProblemDetails
    private let active = Atomic<Int>(0)

    init(limit: Int, pace: ReaderPace, refusal: ProblemDetails) {
        self.limit = limit
        self.pace = pace
        self.refusal = refusal
    }

    /// The NDJSON search streams' slots.
    static func searches(limit: Int, pace: ReaderPace) -> StreamSlots {
        StreamSlots(
            limit: limit, pace: pace,
            refusal: .serviceUnavailable(
                "\(limit) search streams are running, the most this server allows; retry shortly or ask for a JSON answer."))
    }

    /// One stream's place; given back by ``release()`` or when the last reference to it goes.
    final class Slot: Sendable {
        private let streams: StreamSlots
        private let released = Atomic<Bool>(false)
        fileprivate init(_ streams: StreamSlots) { self.streams = streams }
        deinit { release() }

        /// Gives the place back now (once, whoever calls first). A search stream calls it before
        /// its last byte is handed over: a client that starts its next stream on seeing the end
        /// of this one must find the place free, not a 503 while the producer winds down.
        func release() {
            guard !released.exchange(true, ordering: .relaxed) else { return }
            streams.active.subtract(1, ordering: .relaxed)
        }
    }

    /// A slot, or nil when `limit` streams are open.
    func reserve() -> Slot? {
        guard active.add(1, ordering: .relaxed).newValue <= limit else {
            active.subtract(1, ordering: .relaxed)
            return nil
        }
        return Slot(self)
    }

    var count: Int { active.load(ordering: .relaxed) }
}
