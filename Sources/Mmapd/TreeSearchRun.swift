import ByteSearch
import Dispatch
import HTTPSemantics
import MappedFiles
import Synchronization

/// One tree search from its first file (or its cursor) to its end, a budget cut or its limit of
/// files: walks in order, searches batches of files in parallel, merges their results in walk
/// order into one answer.
///
/// ## Order and memory
/// The walk yields files in a fixed order; a batch of them (at most ``batchFiles``) is searched by
/// all workers at once while the coordinator merges the batch before it and walks on to the next,
/// then merged in order. So the answer is the same whatever the timing, and what waits to be
/// merged is bounded: two batches of results, each at most ``workerLimit`` rendered matches per
/// file, with at most one more batch of walked (not yet opened) files. A file that needs more
/// matches than its worker rendered (the page ends inside it, or
/// holds more than ``workerLimit``) is searched again by the coordinator with the page's exact
/// remaining limit, so a page is exactly what single-file searches would give, file after file.
///
/// ## Counting
/// `count` is exact unless the search is cut: every file is searched to the end (count only, once
/// the page is full), as for one file.
///
/// Not thread-safe, and needs not be: it is made on one thread and then run by one other (an
/// NDJSON producer), never by two at once; its workers only see immutable jobs and result slots.
final class TreeSearchRun: @unchecked Sendable {
    /// Where the matches of a page go, in order; false stops the search (the client left).
    typealias Sink = (_ matches: TreeFileSearch.RenderedMatches, _ taken: Int) -> Bool
    /// A continuation streamed straight into the answer (NDJSON): the file, where its search
    /// starts, the limit; returns the summary, or nil when the client left.
    typealias Streamer = (_ file: WalkedFile, _ start: Int, _ limit: Int, _ buffer: ReadBuffer) throws(SearchError) -> StreamSummary?

    struct Summary {
        var filesSearched = 0
        var filesMatched = 0
        var bytesSearched = 0
        var skipped = 0
        var bytesScanned = 0
        /// nil when cut short.
        var count: Int? = 0
        var returned = 0
        var next: TreeSearchCursor?
        /// `limit=0`: the answer lists `counts`, the files with at least one match and their
        /// counts, in walk order.
        var listsCounts = false
        var counts: [(path: [UInt8], count: Int)] = []
        /// The client went away: nothing more is written.
        var abandoned = false

        var truncated: Bool { count == nil || next != nil }
    }

    private enum Job: Sendable {
        case file(WalkedFile, start: Int)
        case skipped
    }

    static let batchFiles = 128
    /// Most matches a worker renders per file (so a batch holds at most 16,384 rendered matches).
    static let workerLimit = 128
    private static let workers = DispatchQueue(label: "mmapd.search.tree", attributes: .concurrent)

    private let walk: TreeWalk
    private let files: TreeFileSearch
    private let cursor: TreeSearchCursor?
    private let fingerprint: UInt64
    private let maxFiles: Int
    private let concurrency: Int
    private let sink: Sink
    private let streamer: Streamer?
    private var remaining: Int
    private var summary = Summary()
    private var taken = 0
    private var overflow: Job?
    private var walked = false
    private var merged = false
    private let coordinatorBuffer = ReadBuffer()

    init(
        walk: TreeWalk, files: TreeFileSearch, cursor: TreeSearchCursor?, fingerprint: UInt64, limit: Int,
        maxFiles: Int, concurrency: Int, sink: @escaping Sink, streamer: Streamer? = nil
    ) {
        self.walk = walk
        self.files = files
        self.cursor = cursor
        self.fingerprint = fingerprint
        self.maxFiles = maxFiles
        self.concurrency = max(1, concurrency)
        self.sink = sink
        self.streamer = streamer
        remaining = limit
        summary.listsCounts = limit == 0
    }

    /// Runs the search. Throws only when it could not make any progress (a pattern over budget
    /// on the page's first file) or failed in a way that is not one file's (a PCRE2 error).
    func run() throws(SearchError) -> Summary {
        try files.budget.watched { () throws(SearchError) in try runWatched() }
    }

    /// Batches are pipelined: the next one is handed to the workers before the coordinator waits
    /// for the one before it, so the workers do not idle while a batch is merged or the walk
    /// catches up (a barrier per batch left cores idle: Benchmarks/README.md, "Profiles"). Its worker
    /// limit may then be larger than what the page still takes; ``take`` handles that as any other
    /// mismatch. Two sets of worker buffers alternate between the two batches in flight.
    private func runWatched() throws(SearchError) -> Summary {
        let bufferSets = (0..<2).map { _ in (0..<concurrency).map { _ in ReadBuffer() } }
        var inFlight: SearchedBatch?
        var batch = collect()
        var number = 0
        while !batch.isEmpty || inFlight != nil {
            let started = batch.isEmpty ? nil : start(batch, buffers: bufferSets[number % 2], opening: number == 0)
            number += 1
            if let previous = inFlight {
                previous.group.wait()
                // Ending here (done or failed): the next batch's workers are let finish first, so
                // that no search work outlives the answer.
                do throws(SearchError) {
                    if try merge(previous.jobs, previous.results.all) {
                        started?.group.wait()
                        return summary
                    }
                } catch {
                    started?.group.wait()
                    throw error
                }
            }
            inFlight = started
            batch = started == nil ? [] : collect()  // walked while the batches are searched
        }
        if let overflow, case .file(let file, let start) = overflow {
            cut(at: file.path, start)
        }
        return summary
    }

    /// A batch handed to the workers: its jobs, where its results land, and its completion.
    private struct SearchedBatch {
        let jobs: [Job]
        let results: ResultSlots
        let group: DispatchGroup
    }

    /// Hands `batch` to the workers. `opening`: the page's first batch, whose first file is begun
    /// even when the budget is gone (see ``TreeFileSearch/search(_:from:limit:buffer:begun:)``).
    private func start(_ batch: [Job], buffers: [ReadBuffer], opening: Bool) -> SearchedBatch {
        let results = ResultSlots(count: batch.count)
        let group = DispatchGroup()
        let (files, limit, width) = (self.files, min(Self.workerLimit, remaining), min(concurrency, batch.count))
        let priority = files.searcher.configuration.backgroundPriority
        Self.workers.async(group: group) {
            let next = Atomic<Int>(0)
            DispatchQueue.concurrentPerform(iterations: width) { worker in
                BackgroundPriority.run(priority) {
                    while true {
                        let index = next.add(1, ordering: .relaxed).oldValue
                        guard index < batch.count else { return }
                        guard case .file(let file, let start) = batch[index] else { continue }
                        results.store(
                            files.search(
                                file, from: start, limit: limit, buffer: buffers[worker],
                                begun: opening && index == 0), at: index)
                    }
                }
            }
        }
        return SearchedBatch(jobs: batch, results: results, group: group)
    }

    /// Where the workers leave their results, one slot per job.
    private final class ResultSlots: Sendable {
        private let slots: Mutex<[TreeFileSearch.Result?]>

        init(count: Int) { slots = Mutex([TreeFileSearch.Result?](repeating: nil, count: count)) }

        func store(_ result: TreeFileSearch.Result, at index: Int) { slots.withLock { $0[index] = result } }

        var all: [TreeFileSearch.Result?] { slots.withLock { $0 } }
    }

    // MARK: Walking

    /// The next batch of jobs in walk order, files before the cursor left out.
    private func collect() -> [Job] {
        var jobs: [Job] = []
        while !walked, jobs.count < Self.batchFiles {
            guard let entry = walk.next() else {
                walked = true
                break
            }
            switch entry {
            case .skipped(let path):
                if position(of: path) != nil { jobs.append(.skipped) }
            case .file(let file):
                guard let start = position(of: file.path) else { continue }
                if taken == maxFiles {
                    overflow = .file(file, start: start)
                    walked = true
                    break
                }
                taken += 1
                jobs.append(.file(file, start: start))
            }
        }
        return jobs
    }

    /// Where the page searches `path` from: nil before the cursor, its offset at it, else 0.
    private func position(of path: [UInt8]) -> Int? {
        guard let cursor else { return 0 }
        switch TreeSearchCursor.walkOrder(path, cursor.path) {
        case ..<0: return nil
        case 0: return cursor.offset
        default: return 0
        }
    }

    // MARK: Merging

    /// Merges one batch in order; true when the search ends here.
    private func merge(_ batch: [Job], _ results: [TreeFileSearch.Result?]) throws(SearchError) -> Bool {
        for (job, result) in zip(batch, results) {
            guard case .file(let file, let start) = job else {
                summary.skipped += 1
                merged = true
                continue
            }
            switch result ?? .notStarted {
            case .notStarted:
                cut(at: file.path, start)
                return true
            case .skipped:
                summary.skipped += 1
            case .binary:
                break
            case .failed(.budgetExceeded):
                guard progressed(file.path, start) else { throw .budgetExceeded }
                cut(at: file.path, start)
                return true
            case .failed(let error):
                throw error
            case .tooLarge(let size):
                // A stream renders the file's matches piece by piece as it sends them; a JSON
                // answer cannot hold them.
                guard let streamer else { throw .answerTooLarge(limit: files.rendering.answerLimit) }
                if try stream(file, start: start, size: size, streamer) { return true }
            case .searched(let size, let outcome, let rendered, let limit):
                if try take(file, start: start, size: size, outcome: outcome, rendered: rendered, workerLimit: limit) { return true }
            }
            merged = true
        }
        return false
    }

    /// One searched file; true when the search ends here (cut, or the client left).
    private func take(
        _ file: WalkedFile, start: Int, size: Int, outcome: SearchOutcome,
        rendered: TreeFileSearch.RenderedMatches, workerLimit: Int
    ) throws(SearchError) -> Bool {
        var (outcome, rendered) = (outcome, rendered)
        // The worker's answer is the page's when it asked for exactly what the page still takes,
        // or when it holds the file's every match and they all fit.
        let complete = outcome.count.map { $0 <= workerLimit && $0 <= remaining } ?? false
        if remaining == 0, let total = outcome.count, total > 0 {
            // Count only (the page is full): what a `limit=0` search says, from any page of it.
            outcome = SearchOutcome(
                matches: [], count: total, truncated: true, next: outcome.matches.first?.offset ?? outcome.next,
                bytesScanned: outcome.bytesScanned)
        } else if workerLimit != remaining && !complete && (outcome.count ?? 1) > 0 {
            if let streamer {
                return try stream(file, start: start, size: size, streamer)
            }
            switch files.search(file, from: start, limit: remaining, buffer: coordinatorBuffer, begun: !progressed(file.path, start)) {
            case .searched(_, let again, let renderedAgain, _):
                (outcome, rendered) = (again, renderedAgain)
            case .failed(.budgetExceeded), .notStarted:
                guard progressed(file.path, start) else { throw .budgetExceeded }
                cut(at: file.path, start)
                return true
            case .failed(let error):
                throw error
            case .tooLarge:
                throw .answerTooLarge(limit: files.rendering.answerLimit)
            case .skipped, .binary:
                summary.skipped += 1  // changed since the worker read it
                return false
            }
        }
        summary.filesSearched += 1
        summary.bytesSearched += size
        summary.bytesScanned += outcome.bytesScanned
        let count = min(outcome.matches.count, remaining)
        if count > 0 {
            guard sink(rendered, count) else {
                summary.abandoned = true
                return true
            }
            remaining -= count
            summary.returned += count
        }
        guard let total = outcome.count else {
            // Cut inside this file: continue from the first match not taken, or where it stopped.
            let next = count < outcome.matches.count ? outcome.matches[count].offset : (outcome.next ?? start)
            guard count > 0 || progressed(file.path, next) else { throw .budgetExceeded }
            cut(at: file.path, next)
            return true
        }
        record(file.rootPathBytes, total)
        if outcome.truncated, let next = outcome.next { close(at: file.path, next) }
        return false
    }

    /// NDJSON: the file's matches streamed from its start (the page's remaining limit), so that
    /// none of them sits in memory.
    private func stream(_ file: WalkedFile, start: Int, size: Int, _ streamer: Streamer) throws(SearchError) -> Bool {
        let streamed: StreamSummary?
        do {
            streamed = try streamer(file, start, remaining, coordinatorBuffer)
        } catch .fileChanged {
            summary.skipped += 1
            return false
        } catch .budgetExceeded {
            guard progressed(file.path, start) else { throw .budgetExceeded }
            cut(at: file.path, start)
            return true
        }
        guard let streamed else {
            summary.abandoned = true
            return true
        }
        summary.filesSearched += 1
        summary.bytesSearched += size
        summary.bytesScanned += streamed.bytesScanned
        remaining -= streamed.delivered
        summary.returned += streamed.delivered
        guard let total = streamed.count else {
            cut(at: file.path, streamed.next ?? start)
            return true
        }
        record(file.rootPathBytes, total)
        if streamed.truncated, let next = streamed.next { close(at: file.path, next) }
        return false
    }

    /// `path`: relative to the root, as answers show it.
    private func record(_ path: [UInt8], _ count: Int) {
        summary.count? += count
        guard count > 0 else { return }
        summary.filesMatched += 1
        if summary.listsCounts { summary.counts.append((path, count)) }
    }

    /// The first match not returned is at `path`/`offset`: the next page starts there, and this
    /// one takes no more matches (a file's page may end before its limit, with an empty match
    /// left to the next page; a later file's matches must not overtake it).
    private func close(at path: [UInt8], _ offset: Int) {
        guard summary.next == nil else { return }
        summary.next = TreeSearchCursor(path: path, offset: offset, fingerprint: fingerprint)
        remaining = 0
    }

    /// Cut short at `path`/`offset`: the count is unknown, the next page starts there (unless an
    /// earlier match is already the first not returned).
    private func cut(at path: [UInt8], _ offset: Int) {
        summary.count = nil
        if summary.next == nil {
            summary.next = TreeSearchCursor(path: path, offset: offset, fingerprint: fingerprint)
        }
    }

    /// Whether continuing at `path`/`offset` is progress: the page did something before, or it
    /// lies after where the page began.
    private func progressed(_ path: [UInt8], _ offset: Int) -> Bool {
        if merged || summary.returned > 0 { return true }
        guard let cursor else { return offset > 0 }
        return TreeSearchCursor.walkOrder(path, cursor.path) != 0 || offset > cursor.offset
    }
}
