import HTTPSemantics
import Synchronization

/// Long-lived streams of one kind open at once, bounded by a limit (503 above it): NDJSON search
/// streams (`--max-search-streams`; each holds a worker thread while it scans and, against a
/// reader that stops reading, at most `--stream-stall-seconds` per write before it is cut) and
/// follow streams (`--max-followers`; each holds a connection and, while it waits, no thread).
final class StreamSlots: Sendable {
    let limit: Int
    let stallTimeout: Duration
    /// The 503's problem when every slot is taken.
    let refusal: ProblemDetails
    private let active = Atomic<Int>(0)

    init(limit: Int, stallTimeout: Duration, refusal: ProblemDetails) {
        self.limit = limit
        self.stallTimeout = stallTimeout
        self.refusal = refusal
    }

    /// The NDJSON search streams' slots.
    static func searches(limit: Int, stallTimeout: Duration) -> StreamSlots {
        StreamSlots(limit: limit, stallTimeout: stallTimeout, refusal: .serviceUnavailable(
            "\(limit) search streams are running, the most this server allows; retry shortly or ask for a JSON answer."))
    }

    /// One stream's place; given back when the last reference to it goes.
    final class Slot: Sendable {
        private let streams: StreamSlots
        fileprivate init(_ streams: StreamSlots) { self.streams = streams }
        deinit { streams.active.subtract(1, ordering: .relaxed) }
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
