import HTTPSemantics
import Synchronization

/// The NDJSON search streams running at once, bounded by `--max-search-streams`: each holds a
/// worker thread while it scans (and, against a reader that stops reading, at most
/// `--stream-stall-seconds` per write before the stream is cut).
final class SearchStreams: Sendable {
    let limit: Int
    let stallTimeout: Duration
    private let active = Atomic<Int>(0)

    init(limit: Int, stallTimeout: Duration) {
        self.limit = limit
        self.stallTimeout = stallTimeout
    }

    /// One stream's place; given back when the last reference to it goes.
    final class Slot: Sendable {
        private let streams: SearchStreams
        fileprivate init(_ streams: SearchStreams) { self.streams = streams }
        deinit { streams.active.subtract(1, ordering: .relaxed) }
    }

    /// A slot, or nil when `limit` streams are running.
    func reserve() -> Slot? {
        guard active.add(1, ordering: .relaxed).newValue <= limit else {
            active.subtract(1, ordering: .relaxed)
            return nil
        }
        return Slot(self)
    }

    var count: Int { active.load(ordering: .relaxed) }

    var refusal: ProblemDetails {
        .serviceUnavailable("\(limit) search streams are running, the most this server allows; retry shortly or ask for a JSON answer.")
    }
}
