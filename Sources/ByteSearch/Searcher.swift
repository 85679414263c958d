import CPCRE2
import CPOSIXShim
import Glibc
import MappedFiles

/// Searches raw buffers (file mappings) for literals or PCRE2 patterns: the engine behind
/// `GET /search/<path>`.
///
/// One `Searcher` serves the whole process: it is `Sendable`, keeps a small LRU of compiled patterns
/// and a pool of per-thread PCRE2 resources, and may be called from any number of threads at once.
///
/// ## Semantics
/// - Matches are non-overlapping and leftmost-first, like Python's `bytes.count` and `re.finditer`.
///   A pattern is matched as `re.finditer` with `pos`/`endpos`: the subject ends at the window's
///   end, lookbehinds see the bytes before its start.
/// - `reverse` with a literal: right-to-left greedy, what repeated `rfind` returns (the rightmost
///   occurrence, then the rightmost ending at or before its start...). With a pattern: the forward
///   matches of the window, last first (chunks are then scanned from the end first, so that a
///   budget cut keeps the end of the window).
/// - `next` (when truncated) is where the next page starts: as `start` forward, as `end` reverse.
///   Forward it is the start of the first match not returned, reverse the end of the first match
///   not returned (or, after a budget cut, where the scan stopped), so following `next` returns
///   exactly the remaining matches — except for patterns in reverse, whose next page is a new,
///   shorter window in which a lookahead, `$`, or an empty match at the new end may see
///   differently (`b*|a` finds `(2,2)` at the end of `aa`, where `aab` had `(2,3)`). A page never
///   repeats the previous one. Forward, an empty match at `next` that the next page would find
///   again is left to the next page (or, when it is the only one returned, `next` moves one byte
///   past it). In reverse, an empty match right after a match ending where it sits comes on the
///   same page as that match, even when this makes the page one match longer than `limit`: no
///   window end can separate the two.
/// - Line numbers are 1-based (`1 +` the number of `\n` before the match).
///
/// ## Budget
/// The deadline and byte limit of ``SearchBudget`` are checked between blocks of about
/// ``SearchConfiguration/blockSize`` bytes. When they run out the search answers with what it has:
/// `count == nil`, `truncated == true` and `next` where the scan stopped (or the first match not
/// returned); it throws ``SearchError/budgetExceeded`` only when nothing at all could be reported.
/// Regeneration of returned matches and line numbering run after the budget and are not cut.
/// A reverse pattern search cut by the budget answers from the chunks completed at the end of the
/// window, the first of them scanned as if nothing before it matched (exact unless a match crosses
/// that chunk's start, which begins a line when one is near).
///
/// ## Memory faults
/// Every read of the buffer, on every thread, runs inside `MemoryFaultGuard.run`; a file
/// truncated under the search makes it throw ``SearchError/fileChanged``.
public final class Searcher: Sendable {
    public let configuration: SearchConfiguration
    private let cache: PatternCache
    private let pool: MatchResourcePool

    public init(configuration: SearchConfiguration = SearchConfiguration()) {
        self.configuration = configuration
        self.cache = PatternCache(capacity: configuration.patternCacheCapacity)
        self.pool = MatchResourcePool(configuration: configuration)
    }

    /// Whether `request` is a case-sensitive literal that occurs nowhere in its window of
    /// `buffer`: one `memmem`, read under the fault guard, instead of the search (false when a
    /// fault or anything else leaves it unproven; the search then answers). For callers that
    /// search many small files, most of which hold no match, where the search's per-call setup
    /// outweighs the scan of a small file.
    public func cannotMatch(_ request: SearchRequest, in buffer: UnsafeRawBufferPointer) -> Bool {
        guard !request.isRegex, !request.caseInsensitive, !request.pattern.isEmpty, let base = buffer.baseAddress else { return false }
        let window = request.window.clamped(to: 0..<buffer.count)
        guard window.count >= request.pattern.count else { return true }
        let found = try? MemoryFaultGuard.run {
            request.pattern.withUnsafeBytes { cposix_memmem(base + window.lowerBound, window.count, $0.baseAddress!, $0.count) != nil }
        }
        return found == false
    }

    /// Number of compiled patterns currently cached.
    public var cachedPatternCount: Int { cache.count }

    /// Checks the pattern of `request` (compiling and caching it for a regex) without searching:
    /// lets the HTTP layer answer 400 before touching the file.
    public func validate(_ request: SearchRequest) throws(SearchError) {
        try checkLength(request)
        if request.isRegex {
            _ = try cache.pattern(for: patternKey(request))
        } else if request.pattern.isEmpty {
            throw .invalidPattern(message: "empty pattern", offset: 0)
        }
    }

    // MARK: Search

    /// Searches `request.window` of `buffer` and returns at most `request.limit` matches with the
    /// exact count (unless the budget cut the scan: see the type's documentation).
    public func search(
        _ request: SearchRequest, in buffer: UnsafeRawBufferPointer, budget: SearchBudget = .unlimited
    ) throws(SearchError) -> SearchOutcome {
        let tracker = BudgetTracker(budget)
        return try tracker.watched { () throws(SearchError) in
            try BackgroundPriority.run(configuration.backgroundPriority) { () throws(SearchError) in
                try searchAtThisPriority(request, in: buffer, tracker: tracker)
            }
        }
    }

    private func searchAtThisPriority(
        _ request: SearchRequest, in buffer: UnsafeRawBufferPointer, tracker: BudgetTracker
    ) throws(SearchError) -> SearchOutcome {
        let (program, window) = try prepare(request, buffer)
        var engine = ScanEngine(program: program, tracker: tracker, configuration: configuration, buffer: buffer)
        let limit = max(0, request.limit)
        // One match past the page tells where the next starts; reverse patterns may need one more
        // (see `inseparable`).
        let wanted = limit >= Int.max - 2 ? Int.max : limit + (request.isRegex && request.reverse ? 2 : 1)
        let territory = program.territory
        let initial = ScanState.fresh(territory.lowerBound)
        let page: Page
        if request.isRegex && request.reverse {
            engine.keepsMarks = true
            let merged = try engine.scan(
                from: initial, to: territory.upperBound, headCapacity: ScanEngine.syncHead, rightToLeft: true)
            page = try lastFirstPage(engine: engine, merged: merged, limit: limit, wanted: wanted, window: window)
        } else {
            let merged = try engine.scan(
                from: initial, to: territory.upperBound, headCapacity: min(wanted, 1 << 16), rightToLeft: false)
            page = try scanOrderPage(engine: engine, merged: merged, limit: limit, wanted: wanted, initial: initial)
        }
        let located = page.matches.map(program.real)
        let lines =
            request.lineNumbers
            ? try Lines.lineNumbers(of: located.map(\.offset), base: program.baseAddress, configuration: configuration)
            : [Int](repeating: 0, count: located.count)
        let matches = zip(located, lines).map { SearchMatch(offset: $0.0.offset, length: $0.0.length, line: $0.1) }
        return SearchOutcome(
            matches: matches, count: page.count, truncated: page.truncated,
            next: page.next.map(program.realPosition), bytesScanned: program.windowBytes(scanned: tracker.bytesScanned, window: window))
    }

    /// A page in scan coordinates.
    private struct Page {
        var matches: [RawMatch]
        var count: Int?
        var truncated: Bool
        var next: Int?
    }

    /// The first `limit` matches in scan order (forward, or reverse literal).
    private func scanOrderPage(
        engine: ScanEngine, merged: MergedScan, limit: Int, wanted: Int, initial: ScanState
    ) throws(SearchError) -> Page {
        let known = try engine.firstMatches(merged, wanted)
        var matches = Array(known.prefix(limit))
        var next: Int?
        if known.count > limit {
            next = known[limit].start
        } else if !merged.complete {
            next = merged.end.position
        }
        if let position = next, limit > 0, let last = matches.last, last.start == last.end, last.start == position {
            // The next page would find this empty match again: leave it to the next page.
            if matches.count > 1 { matches.removeLast() } else { next = position + 1 }
        }
        if !merged.complete, matches.isEmpty, (next ?? initial.position) <= initial.position {
            throw .budgetExceeded
        }
        let truncated = !merged.complete || merged.count > matches.count
        return Page(matches: matches, count: merged.complete ? merged.count : nil, truncated: truncated, next: truncated ? next : nil)
    }

    /// The last `limit` matches, last first (reverse pattern search).
    private func lastFirstPage(
        engine: ScanEngine, merged: MergedScan, limit: Int, wanted: Int, window: Range<Int>
    ) throws(SearchError) -> Page {
        let known = try engine.lastMatches(merged, wanted)
        var returned = min(limit, known.count)
        if returned > 0, returned < known.count,
            Self.inseparable(emptyMatch: known[known.count - returned], before: known[known.count - returned - 1])
        {
            returned += 1
        }
        let matches = Array(known.suffix(returned).reversed())
        var next: Int?
        if known.count > returned {
            next = known[known.count - returned - 1].end
        } else if !merged.complete {
            next = merged.scannedFrom
        }
        if !merged.complete, matches.isEmpty, (next ?? window.upperBound) >= window.upperBound {
            throw .budgetExceeded
        }
        let truncated = !merged.complete || merged.count > matches.count
        return Page(matches: matches, count: merged.complete ? merged.count : nil, truncated: truncated, next: truncated ? next : nil)
    }

    /// Whether a reverse pattern page must not end between `emptyMatch` and the match before it.
    /// An empty match at q right after a match ending at q is inside every window `[start, q)` that
    /// would continue after it: ending the page between them repeats it on every later page. They
    /// travel together, and the page holds one match more than `limit`.
    private static func inseparable(emptyMatch: RawMatch, before: RawMatch) -> Bool {
        emptyMatch.start == emptyMatch.end && before.end == emptyMatch.start
    }

    // MARK: Streaming

    /// Like ``search(_:in:budget:)`` but hands matches to `deliver` in order, in batches of at most
    /// `batchSize` (default ``SearchConfiguration/streamBatchSize``), as they are found, so that a
    /// result set of any size never sits in memory whole. `deliver` runs on the calling thread and
    /// returns `false` to stop the search (the summary then has `count == nil`). At most
    /// `request.limit` matches are delivered; the total is still counted (in parallel chunks).
    ///
    /// Without a budget cut, what is delivered, `count`, `truncated` and `next` are exactly what
    /// ``search(_:in:budget:)`` answers for the same request (a cut may fall elsewhere: the work is
    /// split differently, but the answer is equally a correct prefix with a `next` to continue). Forward and reverse literal searches scan
    /// in waves of `concurrency` chunks searched in parallel (one wave for windows below
    /// ``SearchConfiguration/parallelThreshold``), each wave merged exactly and delivered before the
    /// next starts, so memory stays bounded (a chunk keeps at most 65,536 matches; more are
    /// regenerated from restart points). An empty match is held back until the next match is known,
    /// so that the answer can end the way `search`'s does. Once `limit` is reached the rest is only
    /// counted. A reverse pattern search first counts (in parallel, keeping a restart point every
    /// 512 matches), then regenerates the matches from the end, slice by slice. Lines are counted
    /// incrementally between consecutive matches.
    public func stream(
        _ request: SearchRequest, in buffer: UnsafeRawBufferPointer, budget: SearchBudget = .unlimited,
        batchSize: Int? = nil, deliver: ([SearchMatch]) -> Bool
    ) throws(SearchError) -> StreamSummary {
        let tracker = BudgetTracker(budget)
        return try tracker.watched { () throws(SearchError) in
            try BackgroundPriority.run(configuration.backgroundPriority) { () throws(SearchError) in
                try streamAtThisPriority(request, in: buffer, tracker: tracker, batchSize: batchSize, deliver: deliver)
            }
        }
    }

    private func streamAtThisPriority(
        _ request: SearchRequest, in buffer: UnsafeRawBufferPointer, tracker: BudgetTracker,
        batchSize: Int?, deliver: ([SearchMatch]) -> Bool
    ) throws(SearchError) -> StreamSummary {
        let (program, window) = try prepare(request, buffer)
        var engine = ScanEngine(program: program, tracker: tracker, configuration: configuration, buffer: buffer)
        engine.keepsMarks = true
        let limit = max(0, request.limit)
        let batch = max(1, batchSize ?? configuration.streamBatchSize)
        var lines = LineTracker(base: program.baseAddress, configuration: configuration, counts: request.lineNumbers)
        if request.isRegex && request.reverse {
            return try streamLastFirst(
                engine: engine, program: program, tracker: tracker, window: window, limit: limit, batch: batch,
                lines: &lines, deliver: deliver)
        }
        let territory = program.territory
        let initial = ScanState.fresh(territory.lowerBound)
        // Matches are taken in order, up to `limit`. An empty match is held back until the next one
        // is known: the answer must not end with an empty match that the continuation would find
        // again (the rule `search` applies), so whether it is delivered depends on what follows.
        var taken = 0
        var delivered = 0
        var held: RawMatch?
        var lastDelivered: RawMatch?
        var firstUntaken: RawMatch?
        var consumerStopped = false
        var failure: SearchError?
        var pending: [SearchMatch] = []
        pending.reserveCapacity(batch)

        func flush() -> Bool {
            guard !pending.isEmpty else { return true }
            defer { pending.removeAll(keepingCapacity: true) }
            if deliver(pending) { return true }
            consumerStopped = true
            return false
        }
        /// Queues one match for delivery; `false` when the search must stop.
        func emit(_ match: RawMatch) -> Bool {
            let (offset, length) = program.real(match)
            do throws(SearchError) {
                pending.append(SearchMatch(offset: offset, length: length, line: try lines.line(at: offset)))
            } catch {
                failure = error
                return false
            }
            delivered += 1
            lastDelivered = match
            return pending.count < batch || flush()
        }

        /// Takes the next match of the sequence; `false` when the search must stop.
        func take(_ match: RawMatch) -> Bool {
            if taken >= limit {
                firstUntaken = match
                return false
            }
            if let previous = held {
                held = nil
                if !emit(previous) { return false }
            }
            taken += 1
            if match.start == match.end {
                held = match
                return true
            }
            return emit(match)
        }

        // Waves: a few chunks scanned in parallel, merged, delivered; the next wave starts from the
        // exact state the previous one ended in.
        let total = territory.upperBound - territory.lowerBound
        let waveLength =
            total >= configuration.parallelThreshold
            ? max(1, configuration.chunkSize) * max(1, configuration.concurrency) : max(1, total)
        let keep = 1 << 16
        var state = initial
        var cut: ScanState?
        // Where the limit stopped delivery: matches of that wave not taken, and how it ended.
        var stop: (untakenInWave: Int, wave: MergedScan)?
        waves: while state.position < territory.upperBound {
            let waveEnd = territory.upperBound - state.position <= waveLength ? territory.upperBound : state.position + waveLength
            let merged = try engine.scan(
                from: state, to: waveEnd, headCapacity: keep, chunkHeadCapacity: keep, rightToLeft: false)
            var seen = 0
            for part in merged.parts {
                var lower = 0
                while lower < part.count {
                    let upper = min(part.count, lower + keep)
                    for match in try engine.matches(of: part, in: lower..<upper) {
                        if !take(match) {
                            stop = (merged.count - seen, merged)
                            break waves
                        }
                        seen += 1
                    }
                    lower = upper
                }
            }
            if !merged.complete {
                cut = merged.end
                break
            }
            state = merged.end
        }
        if let failure { throw failure }
        func summary(count: Int?, next: Int?) -> StreamSummary {
            StreamSummary(
                delivered: delivered, count: count, truncated: count.map { $0 > delivered } ?? true,
                next: next.map(program.realPosition), bytesScanned: program.windowBytes(scanned: tracker.bytesScanned, window: window))
        }
        if consumerStopped {
            let resume = held?.start ?? lastDelivered.map { $0.end + ($0.start == $0.end ? 1 : 0) } ?? initial.position
            return summary(count: nil, next: resume)
        }
        /// Ends the answer before `position`, where the next page starts.
        func close(at position: Int) throws(SearchError) -> Int {
            var next = position
            if let last = held {
                if last.start == position, taken > 1 {
                    held = nil  // left to the next page
                } else {
                    if last.start == position { next += 1 }
                    held = nil
                    if !emit(last), let failure { throw failure }
                }
            }
            return next
        }
        if let cut {
            if taken == 0, cut.position <= initial.position { throw .budgetExceeded }
            let next = try close(at: cut.position)
            _ = flush()
            return summary(count: nil, next: next)
        }
        guard let stop else {
            if let last = held, !emit(last), let failure { throw failure }
            held = nil
            guard flush() else { return summary(count: nil, next: nil) }
            return summary(count: taken, next: nil)
        }
        // The limit was reached: count what follows the wave (in parallel when large), keeping nothing.
        var count: Int?
        if stop.wave.complete {
            var counter = engine
            counter.keepsMarks = false
            let rest = try counter.scan(from: stop.wave.end, to: territory.upperBound, headCapacity: 1, rightToLeft: false)
            count = rest.complete ? taken + stop.untakenInWave + rest.count : nil
        }
        let next = try close(at: firstUntaken?.start ?? stop.wave.end.position)
        guard flush() else { return summary(count: nil, next: next) }
        return summary(count: count, next: next)
    }

    private func streamLastFirst(
        engine: ScanEngine, program: any SearchProgram & ProgramBase, tracker: BudgetTracker, window: Range<Int>,
        limit: Int, batch: Int, lines: inout LineTracker, deliver: ([SearchMatch]) -> Bool
    ) throws(SearchError) -> StreamSummary {
        let territory = program.territory
        let merged = try engine.scan(
            from: .fresh(territory.lowerBound), to: territory.upperBound, headCapacity: ScanEngine.syncHead,
            rightToLeft: true)
        var delivered = 0
        var pending: [SearchMatch] = []
        var firstUndelivered: RawMatch?
        var lastDelivered: RawMatch?
        var stopped = false
        /// Queues one match; `false` when the consumer stopped the search.
        func emit(_ match: RawMatch) throws(SearchError) -> Bool {
            pending.append(SearchMatch(offset: match.start, length: match.end - match.start, line: try lines.line(at: match.start)))
            delivered += 1
            lastDelivered = match
            guard pending.count >= batch else { return true }
            defer { pending.removeAll(keepingCapacity: true) }
            return deliver(pending)
        }
        partLoop: for part in merged.parts.reversed() {
            var upper = part.count
            while upper > 0 {
                if delivered >= limit {
                    let candidate = try engine.matches(of: part, in: (upper - 1)..<upper).first
                    guard let candidate, delivered == limit, let empty = lastDelivered,
                        Self.inseparable(emptyMatch: empty, before: candidate)
                    else {
                        firstUndelivered = candidate
                        break partLoop
                    }
                    upper -= 1
                    if try !emit(candidate) {
                        stopped = true
                        break partLoop
                    }
                    continue
                }
                // Slices end on restart points, so each regeneration scans about one slice.
                let interval = ChunkSummary.markInterval
                let chunkIndex = part.from + upper - 1
                let lower = max(0, (chunkIndex / interval) * interval - part.from, upper - (limit - delivered))
                let slice = try engine.matches(of: part, in: lower..<upper)
                for match in slice.reversed() {
                    if try !emit(match) {
                        stopped = true
                        break partLoop
                    }
                }
                upper = lower
            }
        }
        if !stopped, !pending.isEmpty, !deliver(pending) { stopped = true }
        if stopped {
            return StreamSummary(
                delivered: delivered, count: nil, truncated: true, next: nil,
                bytesScanned: program.windowBytes(scanned: tracker.bytesScanned, window: window))
        }
        var next: Int?
        if let firstUndelivered {
            next = firstUndelivered.end
        } else if !merged.complete {
            next = merged.scannedFrom
        }
        if !merged.complete, delivered == 0, (next ?? window.upperBound) >= window.upperBound { throw .budgetExceeded }
        let truncated = !merged.complete || merged.count > delivered
        return StreamSummary(
            delivered: delivered, count: merged.complete ? merged.count : nil, truncated: truncated,
            next: truncated ? next : nil, bytesScanned: program.windowBytes(scanned: tracker.bytesScanned, window: window))
    }

    // MARK: Lines

    /// The line around `match` (see ``LineText``), copied under the fault guard.
    public func lineText(for match: SearchMatch, in buffer: UnsafeRawBufferPointer) throws(SearchError) -> LineText {
        try Lines.text(around: match.offset, length: match.length, in: buffer)
    }

    /// The number of `\n` in `buffer`, by the newline count the line index uses.
    public func countNewlines(in buffer: UnsafeRawBufferPointer) throws(SearchError) -> Int {
        guard let base = buffer.baseAddress else { return 0 }
        return try Lines.countNewlines(in: 0..<buffer.count, of: base, configuration: configuration)
    }

    /// Just after the last `\n` of `buffer`, or after its first `\n` at or beyond `from` when the
    /// bytes before `from` hold none; nil when there is no `\n` at all. (A follow search takes
    /// whole lines, about `from` bytes of them, one step at a time.)
    public static func endOfWholeLines(in buffer: UnsafeRawBufferPointer, preferringBefore from: Int) throws(SearchError) -> Int? {
        guard let base = buffer.baseAddress, !buffer.isEmpty else { return nil }
        let split = min(max(from, 0), buffer.count)
        do {
            return try MemoryFaultGuard.run { () -> Int? in
                if split > 0, let last = cposix_memrchr(base, 0x0A, split) { return base.distance(to: UnsafeRawPointer(last)) + 1 }
                guard split < buffer.count, let first = memchr(base + split, 0x0A, buffer.count - split) else { return nil }
                return base.distance(to: UnsafeRawPointer(first)) + 1
            }
        } catch {
            throw .fileChanged
        }
    }

    /// The line around a match at `offset` of `length` bytes (see ``LineText``).
    public static func lineText(at offset: Int, length: Int, in buffer: UnsafeRawBufferPointer) throws(SearchError) -> LineText {
        try Lines.text(around: offset, length: length, in: buffer)
    }

    // MARK: Preparation

    private func checkLength(_ request: SearchRequest) throws(SearchError) {
        if request.pattern.count > configuration.maxPatternLength {
            throw .patternTooLong(limit: configuration.maxPatternLength)
        }
    }

    private func patternKey(_ request: SearchRequest) -> PatternKey {
        var options = UInt32(PCRE2_USE_OFFSET_LIMIT) | UInt32(PCRE2_ALT_CIRCUMFLEX)
        if request.caseInsensitive { options |= UInt32(PCRE2_CASELESS) }
        if request.unicode {
            options |= UInt32(PCRE2_UTF) | UInt32(PCRE2_UCP) | UInt32(PCRE2_MATCH_INVALID_UTF)
        } else {
            options |= UInt32(PCRE2_NEVER_UTF)
        }
        return PatternKey(pattern: request.pattern, options: options)
    }

    func prepare(
        _ request: SearchRequest, _ buffer: UnsafeRawBufferPointer
    ) throws(SearchError) -> (any SearchProgram & ProgramBase, Range<Int>) {
        try checkLength(request)
        let size = buffer.count
        let window = min(max(request.window.lowerBound, 0), size)..<min(max(request.window.upperBound, 0), size)
        let clamped = window.lowerBound <= window.upperBound ? window : window.lowerBound..<window.lowerBound
        let base = buffer.baseAddress ?? Searcher.emptyBase
        if request.isRegex {
            let pattern = try cache.pattern(for: patternKey(request))
            let program = RegexProgram(
                pattern: pattern, pool: pool, base: base, window: clamped,
                blockSize: max(1, configuration.blockSize / 4), unicode: request.unicode)
            return (program, clamped)
        }
        guard !request.pattern.isEmpty else { throw .invalidPattern(message: "empty pattern", offset: 0) }
        let program = LiteralProgram(
            needle: request.pattern, caseInsensitive: request.caseInsensitive, reverse: request.reverse,
            window: clamped, base: base, blockSize: max(1, configuration.blockSize))
        return (program, clamped)
    }

    /// A readable address standing in for the base of an empty buffer (never read past 0 bytes).
    private static var emptyBase: UnsafeRawPointer { UnsafeRawPointer(StaticBytes.zero.pointer) }
}

/// Gives access to the buffer base a program searches.
protocol ProgramBase {
    var baseAddress: UnsafeRawPointer { get }
}

extension LiteralProgram: ProgramBase {
    var baseAddress: UnsafeRawPointer { base }
}

extension RegexProgram: ProgramBase {
    var baseAddress: UnsafeRawPointer { base }
}

/// A few static bytes with a stable address.
final class StaticBytes: @unchecked Sendable {
    static let zero = StaticBytes()
    private let storage = UnsafeMutableRawPointer.allocate(byteCount: 16, alignment: 16)
    var pointer: UnsafeMutableRawPointer { storage }
    private init() { storage.initializeMemory(as: UInt8.self, repeating: 0, count: 16) }
}

/// 1-based line numbers of a sequence of offsets in either order, counted incrementally.
struct LineTracker {
    let base: UnsafeRawPointer
    let configuration: SearchConfiguration
    /// `false`: every line is 0 and nothing is counted (`line_numbers=false`).
    let counts: Bool
    private var position = 0
    private var line = 1

    init(base: UnsafeRawPointer, configuration: SearchConfiguration, counts: Bool = true) {
        self.base = base
        self.configuration = configuration
        self.counts = counts
    }

    mutating func line(at offset: Int) throws(SearchError) -> Int {
        guard counts else { return 0 }
        if offset >= position {
            line += try Lines.countNewlines(in: position..<offset, of: base, configuration: configuration)
        } else {
            line -= try Lines.countNewlines(in: offset..<position, of: base, configuration: configuration)
        }
        position = offset
        return line
    }
}
