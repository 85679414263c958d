import Synchronization

/// The budget of one search, shared by its worker threads.
final class BudgetTracker: Sendable {
    let deadline: ContinuousClock.Instant?
    let maxBytes: Int?
    let cancellation: SearchCancellation
    /// Bytes counted against `maxBytes` (budgeted passes only).
    private let charged = Atomic<Int>(0)
    /// All bytes the kernels went through, for metrics.
    private let total = Atomic<Int>(0)
    private let tripped = Atomic<Bool>(false)

    init(_ budget: SearchBudget) {
        deadline = budget.deadline
        maxBytes = budget.maxBytes
        cancellation = budget.cancellation ?? SearchCancellation()
    }

    /// Runs the search `body` watched by ``SearchWatchdog``, so its deadline and client are
    /// enforced even inside one kernel call.
    func watched<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        try SearchWatchdog.shared.watch(cancellation, deadline: deadline, body)
    }

    var bytesScanned: Int { total.load(ordering: .relaxed) }
    var isTripped: Bool { tripped.load(ordering: .relaxed) }

    /// Records `bytes` scanned; returns `false` when the budget is now exhausted (for budgeted passes).
    func charge(_ bytes: Int, budgeted: Bool) -> Bool {
        total.add(bytes, ordering: .relaxed)
        guard budgeted else { return true }
        let sum = charged.add(bytes, ordering: .relaxed).newValue
        if let maxBytes, sum >= maxBytes {
            tripped.store(true, ordering: .relaxed)
            return false
        }
        return !shouldStop()
    }

    /// `true` once the deadline passed or another thread exhausted the budget.
    func shouldStop() -> Bool {
        if tripped.load(ordering: .relaxed) { return true }
        if cancellation.stopsBudgeted {
            tripped.store(true, ordering: .relaxed)
            return true
        }
        if let deadline, ContinuousClock.now >= deadline {
            tripped.store(true, ordering: .relaxed)
            return true
        }
        return false
    }
}
