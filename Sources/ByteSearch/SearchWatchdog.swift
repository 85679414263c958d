import Dispatch
import Synchronization

/// The one thread that enforces every running search's deadlines and notices departed clients.
///
/// A search registers for as long as it runs (``watch(_:deadline:_:)``). Every ``period`` while
/// any is registered, the watchdog raises a search's ``SearchCancellation`` to `stopBudgeted` once
/// its deadline passed, to `abandoned` once the hard deadline passed or its client is gone. With
/// nothing registered its timer is cancelled: an idle server spends no CPU on it.
final class SearchWatchdog: Sendable {
    static let shared = SearchWatchdog()

    private init() {}
    /// How often deadlines and clients are checked: the precision of the budget.
    static let period: Duration = .milliseconds(20)
    /// After the deadline, how long unbudgeted work (regenerating returned matches) may still
    /// take before the search is abandoned: the answer comes within budget + this + one period.
    static let hardDeadlineGrace: Duration = .milliseconds(500)

    private struct Entry {
        let cancellation: SearchCancellation
        let deadline: ContinuousClock.Instant?
        var registrations: Int
    }
    private struct State: @unchecked Sendable {
        // @unchecked: the timer is only touched under the lock.
        var entries: [ObjectIdentifier: Entry] = [:]
        var timer: DispatchSourceTimer?
    }
    private let state = Mutex(State())
    private let queue = DispatchQueue(label: "mmapd.search.watchdog")

    /// Runs `body` with `cancellation` watched against `deadline`.
    func watch<T, E: Error>(
        _ cancellation: SearchCancellation, deadline: ContinuousClock.Instant?,
        _ body: () throws(E) -> T
    ) throws(E) -> T {
        let key = ObjectIdentifier(cancellation)
        state.withLock { state in
            state.entries[key, default: Entry(cancellation: cancellation, deadline: deadline, registrations: 0)].registrations += 1
            if state.timer == nil {
                let timer = DispatchSource.makeTimerSource(queue: queue)
                let nanoseconds = Int(Self.period.components.attoseconds / 1_000_000_000)
                timer.schedule(
                    deadline: .now() + .nanoseconds(nanoseconds), repeating: .nanoseconds(nanoseconds),
                    leeway: .milliseconds(2))
                // Strong: the one instance lives as long as the process. A weak capture gave it a
                // side table that LeakSanitizer reports as leaked (the object refers to it only
                // through the encoded reference-count word).
                timer.setEventHandler { self.tick() }
                timer.resume()
                state.timer = timer
            }
        }
        defer {
            state.withLock { state in
                guard var entry = state.entries[key] else { return }
                entry.registrations -= 1
                state.entries[key] = entry.registrations > 0 ? entry : nil
                if state.entries.isEmpty {
                    state.timer?.cancel()
                    state.timer = nil
                }
            }
        }
        return try body()
    }

    private func tick() {
        let now = ContinuousClock.now
        let entries = state.withLock { Array($0.entries.values) }
        for entry in entries {
            let cancellation = entry.cancellation
            if let deadline = entry.deadline {
                if now >= deadline + Self.hardDeadlineGrace, !cancellation.isAbandoned {
                    cancellation.level.raise(to: SearchCancellation.abandoned)
                } else if now >= deadline, !cancellation.stopsBudgeted {
                    cancellation.level.raise(to: SearchCancellation.stopBudgeted)
                }
            }
            cancellation.pollClient()
        }
    }
}
