import MappedFiles

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
        let interruptible = kernel.interruptible(
            by: cancellation.level, threshold: budgeted ? SearchCancellation.stopBudgeted : SearchCancellation.abandoned)
        guard interruptible else { return try runBlocks(from: start, to: attemptEnd, budgeted: budgeted, sink: sink) }
        return try cancellation.level.whileRegistered { () throws(SearchError) in
            try runBlocks(from: start, to: attemptEnd, budgeted: budgeted, sink: sink)
        }
    }

    private func runBlocks(
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
