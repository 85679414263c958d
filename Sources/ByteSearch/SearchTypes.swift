import Glibc

/// What to look for and where: one `GET /search/<path>` request after parsing.
///
/// The HTTP layer resolves `start`/`end` with ``SearchWindow/resolve(start:end:size:)`` and passes
/// the result as ``window``.
public struct SearchRequest: Sendable, Hashable {
    /// The needle (a literal) or a PCRE2 pattern (``isRegex``). Never empty for literals.
    public var pattern: [UInt8]
    /// `true`: ``pattern`` is a PCRE2 pattern matched over bytes.
    public var isRegex: Bool
    /// ASCII case-insensitive for literals, `PCRE2_CASELESS` for patterns.
    public var caseInsensitive: Bool
    /// Matches from the end backwards. Literals: what repeated `rfind` returns (right-to-left greedy).
    /// Patterns: the forward matches of the window, last first. See ``Searcher``.
    public var reverse: Bool
    /// Most matches to return; `0` = count only.
    public var limit: Int
    /// The byte window `[lowerBound, upperBound)` searched (clamped to the buffer).
    public var window: Range<Int>
    /// Patterns only: UTF-8 mode (`PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF`). Off by
    /// default: patterns match bytes, as Python's bytes patterns do. In UTF-8 mode the window is
    /// searched on one thread, in one piece (the budget is then checked every 4,096 matches).
    public var unicode: Bool
    /// `false`: matches carry line 0 and no newline is counted, so a match near the end of a huge
    /// file costs no scan of everything before it.
    public var lineNumbers: Bool

    public init(
        pattern: [UInt8], isRegex: Bool = false, caseInsensitive: Bool = false, reverse: Bool = false,
        limit: Int = 100, window: Range<Int>, unicode: Bool = false, lineNumbers: Bool = true
    ) {
        self.lineNumbers = lineNumbers
        self.pattern = pattern
        self.isRegex = isRegex
        self.caseInsensitive = caseInsensitive
        self.reverse = reverse
        self.limit = limit
        self.window = window
        self.unicode = unicode
    }
}

/// One match: where it starts, how long it is, and its 1-based line number.
public struct SearchMatch: Sendable, Hashable, CustomStringConvertible {
    /// Byte offset of the first byte of the match in the buffer.
    public var offset: Int
    /// Length in bytes (0 for an empty regex match).
    public var length: Int
    /// 1-based number of the line holding `offset`: 1 + the number of `\n` before it.
    public var line: Int

    public init(offset: Int, length: Int, line: Int) {
        self.offset = offset
        self.length = length
        self.line = line
    }

    public var description: String { "\(offset)+\(length)@\(line)" }
}

/// The answer to ``Searcher/search(_:in:budget:)``.
public struct SearchOutcome: Sendable, Hashable {
    /// At most `limit` matches, in the requested order (forward: ascending offsets; reverse: from the end).
    public var matches: [SearchMatch]
    /// Total number of matches in the window; `nil` only when the budget cut the scan short.
    public var count: Int?
    /// `true` when more matches may exist than were returned (always `true` when `count` is `nil`).
    public var truncated: Bool
    /// Where to continue when truncated: pass it as `start` (forward) or as `end` (reverse).
    public var next: Int?
    /// Bytes the kernels went through (all passes), for the `search bytes scanned` metric.
    public var bytesScanned: Int

    public init(matches: [SearchMatch], count: Int?, truncated: Bool, next: Int?, bytesScanned: Int) {
        self.matches = matches
        self.count = count
        self.truncated = truncated
        self.next = next
        self.bytesScanned = bytesScanned
    }
}

/// The answer to ``Searcher/stream(_:in:budget:batchSize:deliver:)`` once every batch was delivered.
public struct StreamSummary: Sendable, Hashable {
    /// How many matches were handed to `deliver`.
    public var delivered: Int
    /// Total number of matches in the window; `nil` when the budget cut the scan short or `deliver`
    /// asked to stop.
    public var count: Int?
    /// `true` when more matches may exist than were delivered.
    public var truncated: Bool
    /// Where to continue when truncated (as `start`, or as `end` with `reverse`).
    public var next: Int?
    /// Bytes the kernels went through (all passes).
    public var bytesScanned: Int

    public init(delivered: Int, count: Int?, truncated: Bool, next: Int?, bytesScanned: Int) {
        self.delivered = delivered
        self.count = count
        self.truncated = truncated
        self.next = next
        self.bytesScanned = bytesScanned
    }
}

/// Why a search produced no answer.
public enum SearchError: Error, Sendable, Equatable {
    /// PCRE2 refused the pattern: its message and the byte offset in the pattern where it stopped.
    /// Also thrown for an empty literal (offset 0).
    case invalidPattern(message: String, offset: Int)
    /// The pattern is longer than ``SearchConfiguration/maxPatternLength``.
    case patternTooLong(limit: Int)
    /// The pattern needs more backtracking than the match/depth limits allow, or the time/byte
    /// budget ran out before any progress could be reported.
    case budgetExceeded
    /// The buffer's file was truncated while it was being read (SIGBUS turned into `MemoryFault`).
    case fileChanged
    /// PCRE2 failed while matching for a reason other than a limit (message from PCRE2).
    case matchFailed(message: String)
    /// The client went away (``SearchCancellation/abandon()``): nobody waits for the answer.
    case cancelled
    /// The rendered matches (their lines and context) would exceed `limit` bytes, the bound the
    /// caller set on an answer it builds in memory.
    case answerTooLarge(limit: Int)
}

/// Limits on one search: a deadline and a number of bytes, checked between blocks (never per byte),
/// and the deadline also enforced inside a single regex call by ``SearchWatchdog``, which stops
/// the call from outside (see ``SearchCancellation``): no pattern keeps a core past its budget.
///
/// When either runs out the search stops and returns what it has as a partial ``SearchOutcome``
/// (`count == nil`, `truncated == true`, `next` = where to continue); when it runs out before any
/// match was found and before the scan moved at all, the search throws
/// ``SearchError/budgetExceeded`` instead, so that a caller following `next` always progresses.
/// Pattern-level limits (PCRE2 match/depth limits, see ``SearchConfiguration``) always throw
/// ``SearchError/budgetExceeded``: they mean the pattern itself is pathological.
public struct SearchBudget: Sendable, Hashable {
    /// Stop scanning after this instant.
    public var deadline: ContinuousClock.Instant?
    /// Stop after the kernels went through this many bytes of the window (in all parallel chunks).
    public var maxBytes: Int?
    /// Lets the caller stop the search when its client goes away; one is made for every search
    /// with a deadline when none is given.
    public var cancellation: SearchCancellation?

    public init(deadline: ContinuousClock.Instant? = nil, maxBytes: Int? = nil, cancellation: SearchCancellation? = nil) {
        self.deadline = deadline
        self.maxBytes = maxBytes
        self.cancellation = cancellation
    }

    /// A budget that starts now and lasts `timeout`.
    public init(timeout: Duration?, maxBytes: Int? = nil, cancellation: SearchCancellation? = nil) {
        self.deadline = timeout.map { ContinuousClock.now.advanced(by: $0) }
        self.maxBytes = maxBytes
        self.cancellation = cancellation
    }

    /// No limit.
    public static var unlimited: SearchBudget { SearchBudget() }

    /// Runs `body` with this budget's deadline and client watched for its whole duration: for a
    /// caller that runs many searches under one budget (a tree search, file after file). Each
    /// search still registers, but finds the watchdog's timer running; without this every file
    /// armed and cancelled a timer of its own (a timerfd, a wakeup of dispatch's manager thread,
    /// context switches; Benchmarks/README.md, "Profiles behind the code").
    public func watched<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        try SearchWatchdog.shared.watch(cancellation ?? SearchCancellation(), deadline: deadline, body)
    }
}

/// Tuning of a ``Searcher``; every field has a sensible default.
public struct SearchConfiguration: Sendable, Hashable {
    /// Threads a big window is searched with (default: active cores).
    public var concurrency: Int
    /// Threads for work bound by memory bandwidth rather than by the processor: literal scans and
    /// newline counting (default: active cores). Such a scan streams the window through the caches
    /// at many GB/s, and nice 19 does not share bandwidth: on a 2-core machine two of them made
    /// the p99 of small GETs served meanwhile 4.6–7.6× its idle value, one of them 1.1–1.2×, for
    /// half the throughput. See `foregroundActivity` for having both. Pattern scans use
    /// `concurrency`: they are bound by the processor, which nice 19 hands back.
    public var memoryBoundConcurrency: Int
    /// Other work of the process (a server's requests): all but the first thread of a memory-bound
    /// scan stop taking chunks once it moves, so an idle server scans at full bandwidth and a
    /// busy one leaves the bandwidth to its clients. nil: no such yielding.
    public var foregroundActivity: ForegroundActivity?
    /// Windows at least this long are split into chunks searched in parallel (default 16 MiB).
    public var parallelThreshold: Int
    /// Size of one parallel chunk (default 16 MiB; tests use tiny values).
    public var chunkSize: Int
    /// Bytes of window one kernel call covers between two budget checks (default 1 MiB; patterns
    /// use a quarter of it).
    public var blockSize: Int
    /// Longest pattern accepted, in bytes (default 4,096).
    public var maxPatternLength: Int
    /// PCRE2 match limit (backtracking steps per start position; default 10,000,000, PCRE2's own).
    public var matchLimit: UInt32
    /// PCRE2 depth limit (default 100,000).
    public var depthLimit: UInt32
    /// Largest JIT stack per thread in bytes (default 1 MiB).
    public var jitStackSize: Int
    /// Compiled patterns kept (LRU, default 64).
    public var patternCacheCapacity: Int
    /// Matches per batch handed to a ``Searcher/stream(_:in:budget:batchSize:deliver:)`` callback
    /// (default 1,024).
    public var streamBatchSize: Int
    /// Search at nice 19, so that a server's network threads win the
    /// processors whenever they have work (default false; see `BackgroundPriority`).
    public var backgroundPriority: Bool

    /// Processors online (at least 1).
    public static var activeCores: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

    public init(
        concurrency: Int = SearchConfiguration.activeCores,
        memoryBoundConcurrency: Int = SearchConfiguration.activeCores,
        parallelThreshold: Int = 16 << 20,
        chunkSize: Int = 16 << 20,
        blockSize: Int = 1 << 20,
        maxPatternLength: Int = 4096,
        matchLimit: UInt32 = 10_000_000,
        depthLimit: UInt32 = 100_000,
        jitStackSize: Int = 1 << 20,
        patternCacheCapacity: Int = 64,
        streamBatchSize: Int = 1024,
        backgroundPriority: Bool = false,
        foregroundActivity: ForegroundActivity? = nil
    ) {
        self.concurrency = concurrency
        self.memoryBoundConcurrency = memoryBoundConcurrency
        self.foregroundActivity = foregroundActivity
        self.parallelThreshold = parallelThreshold
        self.chunkSize = chunkSize
        self.blockSize = blockSize
        self.maxPatternLength = maxPatternLength
        self.matchLimit = matchLimit
        self.depthLimit = depthLimit
        self.jitStackSize = jitStackSize
        self.patternCacheCapacity = patternCacheCapacity
        self.streamBatchSize = streamBatchSize
        self.backgroundPriority = backgroundPriority
    }
}

/// A count of the process's other work so far (e.g. requests started), read between chunks of a
/// memory-bound scan: when it has moved, the scan's helper threads retire.
///
/// Not part of a configuration's identity: any two compare equal, so configurations stay
/// comparable values.
public struct ForegroundActivity: Sendable, Hashable {
    let count: @Sendable () -> Int

    public init(_ count: @escaping @Sendable () -> Int) { self.count = count }

    public static func == (lhs: ForegroundActivity, rhs: ForegroundActivity) -> Bool { true }
    public func hash(into hasher: inout Hasher) {}
}

/// The rule both parallel memory-bound loops (chunk scans, newline counts) follow: worker 0 always
/// goes on; the others stop taking work once the foreground activity has moved since the start.
struct HelperRetirement: Sendable {
    private let activity: ForegroundActivity?
    private let start: Int?

    init(_ activity: ForegroundActivity?) {
        self.activity = activity
        start = activity?.count()
    }

    func retires(_ worker: Int) -> Bool {
        guard worker > 0, let activity else { return false }
        return activity.count() != start
    }
}
