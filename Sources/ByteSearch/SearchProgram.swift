import MappedFiles

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
    /// Returns whether it does, and so whether the scanning thread must register to take the
    /// interrupt signal. Kernels whose calls are short (a literal's block) ignore it and say
    /// false: the scanner checks between calls, and a tree search of small files does not pay
    /// two signal-mask calls per file.
    func interruptible(by level: InterruptLevel, threshold: Int32) -> Bool
}

extension MatchKernel {
    func interruptible(by level: InterruptLevel, threshold: Int32) -> Bool { false }
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

extension SearchProgram {
    /// The bytes of `window` a scan went through, from the attempt positions it covered: a literal
    /// of length n has n - 1 fewer attempt positions than its window has bytes (the last bytes are
    /// read but never start a match), a pattern one more (the empty match at the end). Rescans of
    /// merged chunks are capped at the window.
    func windowBytes(scanned attempts: Int, window: Range<Int>) -> Int {
        min(window.count, attempts + max(0, window.count - territory.count))
    }
}
