import Dispatch
import Synchronization

// Exact parallel search.
//
// The territory (attempt positions of the window, in scan coordinates) is cut into chunks. Each
// chunk is scanned by one thread, sequentially, from a fresh state at its first position, with the
// whole rest of the window as subject but accepting only matches whose attempt lies inside the
// chunk. What the sequential scan would have found differs only when a match accepted by chunk k
// runs past the start of chunk k+1: then the merge rescans chunk k+1 from the true state until it
// meets a match chunk k+1 also found (from there both scans are in the same state, so they agree
// to the end of the chunk) or the chunk ends. The result is a list of "parts", an exact description
// of the sequential match sequence from which any match can be regenerated cheaply: each chunk
// keeps its first matches, one match in every `markInterval` (a state to restart from), its count.

/// What a chunk scan keeps about the matches it found.
struct ChunkSummary {
    /// The state the scan started from.
    var start: ScanState
    /// End of the territory actually covered (the cut point when the budget stopped the scan).
    var attemptEnd: Int
    /// The first matches (up to the head capacity), for synchronisation and cheap output.
    var head: [RawMatch] = []
    /// `marks[j]` is match number `(j + 1) * markInterval - 1`: a state to regenerate from.
    var marks: [RawMatch] = []
    var count = 0
    var last: RawMatch?
    /// The state at the end: at or past `attemptEnd` when complete, else the exact state reached.
    var end: ScanState
    /// `false` when the budget stopped the scan before `attemptEnd` was reached.
    var complete = true

    static let markInterval = 512

    init(start: ScanState, attemptEnd: Int) {
        self.start = start
        self.attemptEnd = attemptEnd
        self.end = start
    }

    /// Appends a batch of matches (in order) keeping at most `headCapacity` of them whole.
    /// `keepMarks`: whether to keep restart marks (only searches that regenerate matches far from
    /// the start of a chunk need them: reverse pattern searches).
    @inline(__always)
    mutating func add(_ batch: UnsafeBufferPointer<RawMatch>, headCapacity: Int, keepMarks: Bool) {
        guard let lastMatch = batch.last else { return }
        if head.count < headCapacity {
            head.append(contentsOf: batch.prefix(headCapacity - head.count))
        }
        if keepMarks {
            let interval = ChunkSummary.markInterval
            var index = count
            for match in batch {
                if (index + 1) % interval == 0 { marks.append(match) }
                index += 1
            }
        }
        count += batch.count
        last = lastMatch
    }

    /// Index of `match` in `head`, if it is there (head is sorted by (start, end)).
    func headIndex(of match: RawMatch) -> Int? {
        var low = 0
        var high = head.count
        while low < high {
            let mid = (low + high) / 2
            if head[mid] < match { low = mid + 1 } else { high = mid }
        }
        return low < head.count && head[low] == match ? low : nil
    }

    /// The best known state from which a scan of this chunk finds match number `index` (or one
    /// before it), with the number of the match it finds first. Any state of the chunk's own scan
    /// will do: after a synchronisation the chunk's matches and the sequential ones are the same.
    /// `known` is one more such state (the state a part starts from) and the number it finds first.
    func restart(before index: Int, known: (state: ScanState, firstIndex: Int)) -> (state: ScanState, firstIndex: Int) {
        var best: (state: ScanState, firstIndex: Int) = known.firstIndex <= index ? known : (start, 0)
        let headSlot = min(index, head.count) - 1
        if headSlot >= 0, headSlot + 1 > best.firstIndex { best = (head[headSlot].after, headSlot + 1) }
        let markSlot = min(index / ChunkSummary.markInterval, marks.count) - 1
        if markSlot >= 0 {
            let first = (markSlot + 1) * ChunkSummary.markInterval
            if first > best.firstIndex { best = (marks[markSlot].after, first) }
        }
        return best
    }
}

/// A piece of the exact match sequence: matches `from..<summary.count` of a chunk summary, the
/// first of which a scan from `start` finds first.
struct Part {
    var summary: ChunkSummary
    var from: Int
    var start: ScanState
    var count: Int { summary.count - from }
}

/// The exact match sequence of a scanned territory.
struct MergedScan {
    /// Matches are exact from this position on (the start, or where a right-to-left cut stopped).
    var scannedFrom: Int
    var parts: [Part] = []
    var count = 0
    /// The state at the end of the scanned territory (the cut point when incomplete).
    var end: ScanState
    /// `false` when the budget cut the scan before the end of the territory.
    var complete = true
}

/// Runs programs over territories, sequentially or in parallel chunks, and regenerates matches.
struct ScanEngine {
    let program: any SearchProgram
    let tracker: BudgetTracker
    let configuration: SearchConfiguration
    let buffer: UnsafeRawBufferPointer
    /// Keep restart marks in chunk summaries (see ``ChunkSummary/add(_:headCapacity:keepMarks:)``).
    var keepsMarks = false

    /// Head capacity of a chunk summary when many chunks run: enough to synchronise a merge.
    static let syncHead = 32

    // MARK: Whole scan

    /// Scans `territory` from `start` and returns the exact match sequence. Windows at least
    /// `parallelThreshold` long are split into chunks searched by `concurrency` threads.
    /// `headCapacity`: matches a lone chunk keeps whole; `chunkHeadCapacity`: the same for each of
    /// several chunks (by default just enough to synchronise merges: they are all held at once).
    /// `rightToLeft`: process chunks from the end first, so that a budget cut keeps the end of the
    /// window (used by reverse pattern searches, whose answer is the last matches).
    func scan(
        from start: ScanState, to attemptEnd: Int, headCapacity: Int, chunkHeadCapacity: Int = ScanEngine.syncHead,
        rightToLeft: Bool
    ) throws(SearchError) -> MergedScan {
        let length = attemptEnd - start.position
        guard length > 0 else {
            return MergedScan(scannedFrom: start.position, end: start)
        }
        var boundaries: [Int] = []
        if program.splittable, length >= configuration.parallelThreshold,
            configuration.chunkSize < length
        {
            boundaries = try program.chunkBoundaries(chunkSize: max(1, configuration.chunkSize), in: buffer)
                .filter { $0 > start.position && $0 < attemptEnd }
        }
        if boundaries.isEmpty {
            let summary = try scanChunk(from: start, to: attemptEnd, headCapacity: headCapacity)
            return try merge([summary], from: start)
        }
        let starts = [start.position] + boundaries
        let ends = boundaries + [attemptEnd]
        let chunkCount = starts.count
        // Chunk 0 starts from the real initial state (it may carry afterEmpty).
        let summaries = try runChunks(
            count: chunkCount, rightToLeft: rightToLeft,
            headCapacity: chunkCount == 1 ? headCapacity : max(ScanEngine.syncHead, chunkHeadCapacity)
        ) { index in
            (index == 0 ? start : .fresh(starts[index]), ends[index])
        }
        if rightToLeft {
            // Keep the maximal run of complete chunks ending at the last one; the merge starts fresh
            // at the first of them (a cut is reported there).
            var first = summaries.count
            while first > 0, let summary = summaries[first - 1], summary.complete { first -= 1 }
            let kept = summaries[first...].map { $0! }
            if first == 0 { return try merge(kept, from: start) }
            guard let firstKept = kept.first else {
                return MergedScan(scannedFrom: attemptEnd, end: start, complete: false)
            }
            var merged = try merge(kept, from: firstKept.start)
            merged.complete = false
            return merged
        }
        var prefix: [ChunkSummary] = []
        for summary in summaries {
            guard let summary else { break }
            prefix.append(summary)
            if !summary.complete { break }
        }
        guard !prefix.isEmpty else { return MergedScan(scannedFrom: start.position, end: start, complete: false) }
        var merged = try merge(prefix, from: start)
        // Chunks never started (the budget ran out first) leave the scan incomplete.
        if prefix.count < summaries.count { merged.complete = false }
        return merged
    }

    /// Scans one chunk sequentially on the calling thread.
    func scanChunk(from start: ScanState, to attemptEnd: Int, headCapacity: Int) throws(SearchError) -> ChunkSummary {
        let scanner = Scanner(program: program, tracker: tracker)
        return try scanChunk(scanner, from: start, to: attemptEnd, headCapacity: headCapacity)
    }

    private func scanChunk(
        _ scanner: Scanner, from start: ScanState, to attemptEnd: Int, headCapacity: Int
    ) throws(SearchError) -> ChunkSummary {
        var summary = ChunkSummary(start: start, attemptEnd: attemptEnd)
        let run = try scanner.run(from: start, to: attemptEnd, budgeted: true) { batch in
            summary.add(batch, headCapacity: headCapacity, keepMarks: keepsMarks)
            return true
        }
        summary.end = run.state
        if run.stop == .budget {
            // Attempts below the cut were all made; an empty match found at the cut was made too.
            summary.complete = false
            summary.attemptEnd = run.state.position + (run.state.afterEmpty ? 1 : 0)
        }
        return summary
    }

    /// Threads a scan of `program` may use: `memoryBoundConcurrency` for a memory-bound one,
    /// `concurrency` otherwise.
    static func threads(for program: any SearchProgram, _ configuration: SearchConfiguration) -> Int {
        max(1, program.memoryBound ? configuration.memoryBoundConcurrency : configuration.concurrency)
    }

    /// Scans chunks on up to `threads(for:_:)` threads. Entries stay nil for chunks never started
    /// because the budget ran out.
    private func runChunks(
        count: Int, rightToLeft: Bool, headCapacity: Int,
        territory: (Int) -> (ScanState, Int)
    ) throws(SearchError) -> [ChunkSummary?] {
        let workers = min(Self.threads(for: program, configuration), max(1, count))
        let jobs = (0..<count).map { territory($0) }
        let shared = ChunkResults(count: count)
        let engine = self
        let retirement = HelperRetirement(program.memoryBound ? configuration.foregroundActivity : nil)
        let work = UncheckedSendable(
            value: { (worker: Int) -> Void in
                let scanner = Scanner(program: engine.program, tracker: engine.tracker)
                while true {
                    // A helper of a memory-bound scan retires once other work shows up; the
                    // first worker takes the remaining chunks.
                    if retirement.retires(worker) { return }
                    let claimed = shared.claim()
                    if claimed >= count || engine.tracker.isTripped || shared.hasFailed { return }
                    let index = rightToLeft ? count - 1 - claimed : claimed
                    let (start, end) = jobs[index]
                    do throws(SearchError) {
                        let summary = try engine.scanChunk(scanner, from: start, to: end, headCapacity: headCapacity)
                        shared.store(summary, at: index)
                        if !summary.complete { return }
                    } catch {
                        shared.fail(error)
                        return
                    }
                }
            })
        if workers == 1 {
            work.value(0)
        } else {
            let background = configuration.backgroundPriority
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                BackgroundPriority.run(background) { work.value(worker) }
            }
        }
        if let failure = shared.failure { throw failure }
        return shared.results
    }

    // MARK: Merge

    /// Joins chunk summaries (consecutive, in scan order) into the exact sequence a single
    /// sequential scan from `initial` finds. Stops after the first incomplete summary.
    func merge(_ summaries: [ChunkSummary], from initial: ScanState) throws(SearchError) -> MergedScan {
        var merged = MergedScan(scannedFrom: initial.position, end: initial)
        var state = initial
        var rescanner: Scanner?
        for summary in summaries {
            let first = summary.start.position
            let territoryEnd = summary.attemptEnd
            if state.position < first || (state.position == first && state == summary.start) {
                // Aligned: the chunk's own scan is the sequential one.
                if summary.count > 0 {
                    merged.parts.append(Part(summary: summary, from: 0, start: summary.start))
                    merged.count += summary.count
                }
                state = summary.end
            } else if state.position >= territoryEnd {
                // A previous match covers this whole chunk: it contributes nothing.
            } else {
                // A previous match ran into this chunk: rescan from the true state until the
                // rescan meets one of the chunk's own matches.
                let scanner = rescanner ?? Scanner(program: program, tracker: tracker)
                rescanner = scanner
                var observed = ChunkSummary(start: state, attemptEnd: territoryEnd)
                var syncIndex: Int?
                var syncState = state
                let run = try scanner.run(from: state, to: territoryEnd, budgeted: false) { batch in
                    for (offset, match) in batch.enumerated() {
                        if let index = summary.headIndex(of: match) {
                            syncIndex = index
                            observed.add(
                                UnsafeBufferPointer(rebasing: batch[..<offset]), headCapacity: ScanEngine.syncHead,
                                keepMarks: keepsMarks)
                            return false
                        }
                    }
                    observed.add(batch, headCapacity: ScanEngine.syncHead, keepMarks: keepsMarks)
                    return true
                }
                if let last = observed.last { syncState = last.after }
                observed.end = syncState
                if observed.count > 0 {
                    merged.parts.append(Part(summary: observed, from: 0, start: observed.start))
                    merged.count += observed.count
                }
                if let syncIndex {
                    merged.parts.append(Part(summary: summary, from: syncIndex, start: syncState))
                    merged.count += summary.count - syncIndex
                    state = summary.end
                } else {
                    state = run.state
                }
            }
            if !summary.complete {
                merged.complete = false
                break
            }
        }
        merged.end = state
        return merged
    }

    // MARK: Regeneration

    /// Matches `range` (part-relative indices) of `part`, regenerated from the nearest known state.
    func matches(of part: Part, in range: Range<Int>) throws(SearchError) -> [RawMatch] {
        guard !range.isEmpty else { return [] }
        precondition(range.lowerBound >= 0 && range.upperBound <= part.count)
        let summary = part.summary
        let lower = part.from + range.lowerBound
        let upper = part.from + range.upperBound
        if upper <= summary.head.count {
            return Array(summary.head[lower..<upper])
        }
        let (state, firstIndex) = summary.restart(before: lower, known: (part.start, part.from))
        var result: [RawMatch] = []
        result.reserveCapacity(upper - lower)
        var index = firstIndex
        let scanner = Scanner(program: program, tracker: tracker, batchCapacity: min(4096, upper - firstIndex))
        _ = try scanner.run(from: state, to: summary.attemptEnd, budgeted: false) { batch in
            for match in batch {
                if index >= lower { result.append(match) }
                index += 1
                if index >= upper { return false }
            }
            return true
        }
        return result
    }

    /// The first `n` matches of a merged scan.
    func firstMatches(_ merged: MergedScan, _ n: Int) throws(SearchError) -> [RawMatch] {
        var result: [RawMatch] = []
        for part in merged.parts where result.count < n {
            result += try matches(of: part, in: 0..<min(part.count, n - result.count))
        }
        return result
    }

    /// The last `n` matches of a merged scan, in scan order.
    func lastMatches(_ merged: MergedScan, _ n: Int) throws(SearchError) -> [RawMatch] {
        var pieces: [[RawMatch]] = []
        var needed = n
        for part in merged.parts.reversed() where needed > 0 {
            let take = min(part.count, needed)
            pieces.append(try matches(of: part, in: (part.count - take)..<part.count))
            needed -= take
        }
        return pieces.reversed().flatMap { $0 }
    }
}

/// Lets a value that is safe by construction cross into `concurrentPerform`'s closure.
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
}

/// Results of parallel chunk scans: each slot is written by exactly one worker.
private final class ChunkResults: @unchecked Sendable {
    private let next = Atomic<Int>(0)
    private let state: Mutex<(results: [ChunkSummary?], failure: SearchError?)>
    private let failed = Atomic<Bool>(false)

    init(count: Int) {
        state = Mutex((Array(repeating: nil, count: count), nil))
    }

    func claim() -> Int { next.add(1, ordering: .relaxed).oldValue }
    var hasFailed: Bool { failed.load(ordering: .relaxed) }

    func store(_ summary: ChunkSummary, at index: Int) {
        state.withLock { $0.results[index] = summary }
    }

    func fail(_ error: SearchError) {
        failed.store(true, ordering: .relaxed)
        state.withLock { if $0.failure == nil { $0.failure = error } }
    }

    var failure: SearchError? { state.withLock { $0.failure } }
    var results: [ChunkSummary?] { state.withLock { $0.results } }
}
