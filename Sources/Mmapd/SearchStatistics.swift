import Synchronization

/// Counters the search route feeds to /metrics.
final class SearchStatistics: Sendable {
    private let scanned = Atomic<Int>(0)
    private let searches = Atomic<Int>(0)
    private let nanoseconds = Atomic<Int>(0)

    func record(scanned bytes: Int) { scanned.add(bytes, ordering: .relaxed) }

    func record(duration: Duration) {
        searches.add(1, ordering: .relaxed)
        let (seconds, attoseconds) = duration.components
        nanoseconds.add(Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000), ordering: .relaxed)
    }

    var bytesScanned: Int { scanned.load(ordering: .relaxed) }
    var count: Int { searches.load(ordering: .relaxed) }
    var totalSeconds: Double { Double(nanoseconds.load(ordering: .relaxed)) / 1e9 }
}
