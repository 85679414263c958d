import MappedFiles
import Synchronization

// The search engine works in "scan coordinates": positions that grow in the direction of the scan.
// A forward scan uses real offsets. A reverse literal scan (right-to-left greedy, like repeated
// `rfind`) uses negated offsets, so that a match [s, e) becomes [-e, -s) and the same machinery —
// states, chunks, merging — serves both directions unchanged.

/// A match in scan coordinates.
struct RawMatch: Hashable, Comparable {
    var start: Int
    var end: Int

    /// The state a sequential scan continues from after this match.
    @inline(__always) var after: ScanState { ScanState(position: end, afterEmpty: start == end) }

    static func < (lhs: RawMatch, rhs: RawMatch) -> Bool {
        lhs.start != rhs.start ? lhs.start < rhs.start : lhs.end < rhs.end
    }
}

/// Where a sequential scan stands: the next attempt position, and whether the previous match was
/// an empty match at that position (then the next match may not be empty there: Python's
/// `re.finditer` / PCRE2's `PCRE2_NOTEMPTY_ATSTART` rule).
///
/// Every match found from a state depends only on the state, so two scans that reach the same
/// state produce the same matches from then on: this is what makes chunk merging exact.
struct ScanState: Hashable {
    var position: Int
    var afterEmpty: Bool

    @inline(__always) static func fresh(_ position: Int) -> ScanState {
        ScanState(position: position, afterEmpty: false)
    }
}

/// What one guarded kernel call did.
struct KernelStep {
    /// Matches written to the output buffer.
    var written: Int
    /// The state after the last written match (or the input state when none was written).
    var state: ScanState
    /// `true`: no further match has its attempt position below `attemptEnd`.
    var exhausted: Bool
    /// A PCRE2 error code (negative), ``faulted``, ``interrupted``, or 0.
    var error: Int32

    /// The mapping lost its pages under an interruptible call (SIGBUS).
    static let faulted = Int32.min
    /// The search's ``SearchCancellation`` stopped the call; `state` is where it began.
    static let interrupted = Int32.min + 1
}

/// A search kernel bound to one buffer, owned by one thread at a time.
///
/// `scan` runs inside ``MemoryFaultGuard/run(_:)``: it may touch only the searched buffer, its own
/// preallocated scratch memory and `output`, take no locks, and allocate nothing shared.
protocol MatchKernel: AnyObject {
    /// Finds, in order, the matches a sequential scan from `state` finds whose attempt position (the
    /// start of the match for literals) is below `attemptEnd`, writing at most `capacity` of them.
    func scan(from state: ScanState, attemptEnd: Int, into output: UnsafeMutablePointer<RawMatch>, capacity: Int)
        -> KernelStep
    /// Maps a non-zero ``KernelStep/error`` to the error the search throws.
    func error(for code: Int32) -> SearchError
    /// Called when a fault interrupted `scan`: the kernel's scratch state may be inconsistent and
    /// must not be reused (it may be leaked rather than freed).
    func poison()
    /// Lets `scan` run its long calls interruptibly: stopped once `level` reaches `threshold`.
    /// Kernels whose calls are short (a literal's block) ignore it: the scanner checks between calls.
    func interruptible(by level: InterruptLevel, threshold: Int32)
}

extension MatchKernel {
    func interruptible(by level: InterruptLevel, threshold: Int32) {}
}

/// A compiled search, shared by all threads of one search: makes a kernel per thread.
protocol SearchProgram: Sendable {
    func makeKernel() -> any MatchKernel
    /// The attempt territory of the window, in scan coordinates.
    var territory: Range<Int> { get }
    /// Converts a scan-coordinate match back to (offset, length).
    func real(_ match: RawMatch) -> (offset: Int, length: Int)
    /// Converts a scan-coordinate position to the real offset a caller passes as `start` (forward)
    /// or `end` (reverse).
    func realPosition(_ position: Int) -> Int
    /// Bytes of territory one kernel call covers between budget checks.
    var blockSize: Int { get }
    /// `false` when the program may not be resumed at an arbitrary position (a pattern using `\G`):
    /// then the scan runs in one block and the window is never split.
    var splittable: Bool { get }
    /// Whether a scan is bound by memory bandwidth (a literal's vector scan) rather than by the
    /// processor (a pattern): decides between the two concurrencies of `SearchConfiguration`.
    var memoryBound: Bool { get }
    /// Chunk boundaries for a parallel scan of `territory` (strictly increasing, inside it).
    func chunkBoundaries(chunkSize: Int, in buffer: UnsafeRawBufferPointer) throws(SearchError) -> [Int]
}

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

/// How a sequential run ended.
struct ScanRun {
    enum Stop { case finished, stoppedBySink, budget }
    /// Finished: the state at or past the end of the territory. Otherwise the exact state reached.
    var state: ScanState
    var stop: Stop
}

/// Drives one kernel sequentially over a territory: block by block, each kernel call guarded, the
/// budget checked between calls, matches handed over in batches (outside the guard).
final class Scanner {
    let kernel: any MatchKernel
    let tracker: BudgetTracker
    let blockSize: Int
    private let output: UnsafeMutablePointer<RawMatch>
    private let capacity: Int

    init(program: any SearchProgram, tracker: BudgetTracker, batchCapacity: Int = 4096) {
        self.kernel = program.makeKernel()
        self.tracker = tracker
        self.blockSize = program.splittable ? max(1, program.blockSize) : Int.max
        self.capacity = max(1, batchCapacity)
        self.output = .allocate(capacity: self.capacity)
    }

    deinit { output.deallocate() }

    /// Scans attempts in `[start.position, attemptEnd)` from `start`. `sink` gets every batch in
    /// order and returns `false` to stop. `budgeted`: whether the search budget applies.
    func run(
        from start: ScanState, to attemptEnd: Int, budgeted: Bool,
        sink: (UnsafeBufferPointer<RawMatch>) -> Bool
    ) throws(SearchError) -> ScanRun {
        let cancellation = tracker.cancellation
        kernel.interruptible(
            by: cancellation.level, threshold: budgeted ? SearchCancellation.stopBudgeted : SearchCancellation.abandoned)
        return try cancellation.level.whileRegistered { () throws(SearchError) in
            try runRegistered(from: start, to: attemptEnd, budgeted: budgeted, sink: sink)
        }
    }

    private func runRegistered(
        from start: ScanState, to attemptEnd: Int, budgeted: Bool,
        sink: (UnsafeBufferPointer<RawMatch>) -> Bool
    ) throws(SearchError) -> ScanRun {
        var state = start
        let kernel = self.kernel
        let output = self.output
        let capacity = self.capacity
        let cancellation = tracker.cancellation
        while state.position < attemptEnd {
            if cancellation.isAbandoned { throw cancellation.abandonError }
            if budgeted, tracker.shouldStop() { return ScanRun(state: state, stop: .budget) }
            let blockStart = state.position
            let blockEnd = attemptEnd - blockStart <= blockSize ? attemptEnd : blockStart + blockSize
            while true {
                let current = state
                let step: KernelStep
                do {
                    step = try MemoryFaultGuard.run {
                        kernel.scan(from: current, attemptEnd: blockEnd, into: output, capacity: capacity)
                    }
                } catch {
                    kernel.poison()
                    throw SearchError.fileChanged
                }
                if step.error == KernelStep.faulted {
                    kernel.poison()
                    throw SearchError.fileChanged
                }
                if step.error != 0, step.error != KernelStep.interrupted { throw kernel.error(for: step.error) }
                state = step.state
                if step.written > 0, !sink(UnsafeBufferPointer(start: output, count: step.written)) {
                    _ = tracker.charge(max(0, state.position - blockStart), budgeted: budgeted)
                    return ScanRun(state: state, stop: .stoppedBySink)
                }
                if step.error == KernelStep.interrupted {
                    // The interrupted call's scratch state is not to be reused.
                    kernel.poison()
                    _ = tracker.charge(max(0, state.position - blockStart), budgeted: budgeted)
                    guard budgeted, !cancellation.isAbandoned else { throw cancellation.abandonError }
                    _ = tracker.shouldStop()
                    return ScanRun(state: state, stop: .budget)
                }
                if step.exhausted { break }
                if cancellation.isAbandoned { throw cancellation.abandonError }
                if budgeted, tracker.shouldStop() {
                    _ = tracker.charge(max(0, state.position - blockStart), budgeted: budgeted)
                    return ScanRun(state: state, stop: .budget)
                }
            }
            if state.position < blockEnd { state = .fresh(blockEnd) }
            if !tracker.charge(state.position - blockStart, budgeted: budgeted), budgeted, state.position < attemptEnd {
                return ScanRun(state: state, stop: .budget)
            }
        }
        return ScanRun(state: state, stop: .finished)
    }
}

extension SearchProgram {
    /// The bytes of `window` a scan went through, from the attempt positions it covered: a literal
    /// of length n has n - 1 fewer attempt positions than its window has bytes (the last bytes are
    /// read but never start a match), a pattern one more (the empty match at the end). Rescans of
    /// merged chunks are capped at the window.
    func windowBytes(scanned attempts: Int, window: Range<Int>) -> Int {
        min(window.count, attempts + max(0, window.count - territory.count))
    }
}
