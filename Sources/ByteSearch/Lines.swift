import CPOSIXShim
import Dispatch
import Glibc
import MappedFiles
import Synchronization

/// The line around a match, copied out of the buffer.
public struct LineText: Sendable, Hashable {
    /// The bytes: the whole line (without its `\n`) or, for a long line, a window around the match.
    public var bytes: [UInt8]
    /// Offset of `bytes[0]` in the buffer.
    public var offset: Int
    /// `true` when the line was longer than ``LineText/wholeLineLimit`` and `bytes` is only a
    /// window of it (at most ``LineText/windowLimit`` bytes holding as much of the match as fits).
    public var isCut: Bool

    /// Lines up to this many bytes come back whole.
    public static let wholeLineLimit = 1024
    /// Longest window cut out of a longer line.
    public static let windowLimit = 4096

    public init(bytes: [UInt8], offset: Int, isCut: Bool) {
        self.bytes = bytes
        self.offset = offset
        self.isCut = isCut
    }
}

/// Newline counting and line extraction, every read guarded.
enum Lines {
    /// Number of `\n` bytes in `range`, eight bytes at a time (SWAR zero-byte test and popcount);
    /// ranges of the configuration's `parallelThreshold` or more are split over its
    /// `memoryBoundConcurrency` threads (in the background class if it says so; helpers yielding
    /// to its `foregroundActivity`).
    ///
    /// Measured against a `memchr` loop on the same corpus: the word loop runs at a steady
    /// 5–7 GB/s per core whatever the line length, while `memchr` per line drops to ~1 GB/s on
    /// source code (short lines), so the word loop is used.
    static func countNewlines(
        in range: Range<Int>, of base: UnsafeRawPointer, configuration: SearchConfiguration
    ) throws(SearchError) -> Int {
        guard !range.isEmpty else { return 0 }
        let block = 4 << 20
        if range.count < max(configuration.parallelThreshold, 2 * block) || configuration.memoryBoundConcurrency <= 1 {
            return try guardedCount(range, base)
        }
        return try newlinesPerBlock(in: range, block: block, of: base, configuration: configuration).reduce(0, +)
    }

    /// The number of `\n` bytes in each `block`-sized piece of `range` (the last may be shorter),
    /// the pieces counted in parallel over the configuration's `memoryBoundConcurrency` threads
    /// (in the background class if it says so; helpers yielding to its `foregroundActivity`).
    /// The one counting loop behind search line numbers and the line index's checkpoints.
    static func newlinesPerBlock(
        in range: Range<Int>, block: Int, of base: UnsafeRawPointer, configuration: SearchConfiguration
    ) throws(SearchError) -> [Int] {
        guard !range.isEmpty else { return [] }
        let pieces = (range.count + block - 1) / block
        let concurrency = min(configuration.memoryBoundConcurrency, pieces)
        if concurrency <= 1 {
            var counts: [Int] = []
            counts.reserveCapacity(pieces)
            for piece in 0..<pieces {
                let lower = range.lowerBound + piece * block
                counts.append(try guardedCount(lower..<min(range.upperBound, lower + block), base))
            }
            return counts
        }
        let background = configuration.backgroundPriority
        let counts = Mutex<(perBlock: [Int], failed: Bool)>(([Int](repeating: 0, count: pieces), false))
        let shared = UncheckedSendable(value: base)
        let next = Atomic<Int>(0)
        let retirement = HelperRetirement(configuration.foregroundActivity)
        DispatchQueue.concurrentPerform(iterations: concurrency) { worker in
            BackgroundPriority.run(background) {
                while true {
                    // Helpers retire once other work shows up (see `foregroundActivity`).
                    if retirement.retires(worker) { break }
                    let piece = next.add(1, ordering: .relaxed).oldValue
                    if piece >= pieces { break }
                    let lower = range.lowerBound + piece * block
                    let upper = min(range.upperBound, lower + block)
                    do {
                        let count = try guardedCount(lower..<upper, shared.value)
                        counts.withLock { $0.perBlock[piece] = count }
                    } catch {
                        counts.withLock { $0.failed = true }
                        return
                    }
                }
            }
        }
        let result = counts.withLock { $0 }
        if result.failed { throw .fileChanged }
        return result.perBlock
    }

    /// The position just after the `k`-th `\n` (k ≥ 1) of `range`, or how many there are when
    /// fewer: whole 4 MiB pieces are counted by the word loop, and only the piece holding the
    /// newline is walked word by word, then byte by byte.
    static func afterNewline(_ k: Int, in range: Range<Int>, of base: UnsafeRawPointer) throws(SearchError) -> NewlineSearch {
        precondition(k >= 1)
        var seen = 0
        var lower = range.lowerBound
        while lower < range.upperBound {
            let upper = min(range.upperBound, lower + (4 << 20))
            let wanted = k - seen
            let found: (position: Int?, count: Int)
            do {
                found = try MemoryFaultGuard.run { () -> (position: Int?, count: Int) in
                    let count = countNewlines(base + lower, upper - lower)
                    guard count >= wanted else { return (nil, count) }
                    return (lower + positionAfter(wanted, base + lower, upper - lower), count)
                }
            } catch {
                throw .fileChanged
            }
            if let position = found.position { return .found(after: position) }
            seen += found.count
            lower = upper
        }
        return .short(count: seen)
    }

    enum NewlineSearch: Equatable {
        /// The position just after the newline.
        case found(after: Int)
        /// The range holds only `count` newlines.
        case short(count: Int)
    }

    /// Offset just after the `k`-th newline of `count` bytes known to hold at least `k` (runs inside the guard).
    @inline(__always)
    private static func positionAfter(_ k: Int, _ start: UnsafeRawPointer, _ count: Int) -> Int {
        let pattern: UInt64 = 0x0A0A_0A0A_0A0A_0A0A
        var remaining = k
        var i = 0
        while i + 8 <= count {
            let hits = zeroBytes(start.loadUnaligned(fromByteOffset: i, as: UInt64.self) ^ pattern).nonzeroBitCount
            if hits >= remaining { break }
            remaining -= hits
            i &+= 8
        }
        while i < count {
            if start.load(fromByteOffset: i, as: UInt8.self) == 0x0A {
                remaining -= 1
                if remaining == 0 { return i + 1 }
            }
            i &+= 1
        }
        preconditionFailure("fewer newlines than counted")
    }

    /// Where the last `n` lines of `buffer[0..<end]` begin (n ≥ 1), scanning backwards with
    /// memrchr from the end: the cost is the bytes of those lines only. A final `\n` ends the last
    /// line rather than starting an empty one, as `tail -n` counts.
    static func startOfLast(_ n: Int, before end: Int, of base: UnsafeRawPointer) throws(SearchError) -> Int {
        guard end > 0 else { return 0 }
        do {
            return try MemoryFaultGuard.run { () -> Int in
                var limit = base.load(fromByteOffset: end - 1, as: UInt8.self) == 0x0A ? end - 1 : end
                var remaining = n
                while limit > 0 {
                    guard let newline = cposix_memrchr(base, 0x0A, limit) else { return 0 }
                    let position = base.distance(to: UnsafeRawPointer(newline))
                    remaining -= 1
                    if remaining == 0 { return position + 1 }
                    limit = position
                }
                return 0
            }
        } catch {
            throw .fileChanged
        }
    }

    private static func guardedCount(_ range: Range<Int>, _ base: UnsafeRawPointer) throws(SearchError) -> Int {
        var total = 0
        var lower = range.lowerBound
        // Guard per 4 MiB so that a fault is reported promptly and the body stays a tight loop.
        while lower < range.upperBound {
            let upper = min(range.upperBound, lower + (4 << 20))
            do {
                total += try MemoryFaultGuard.run { countNewlines(base + lower, upper - lower) }
            } catch {
                throw .fileChanged
            }
            lower = upper
        }
        return total
    }

    /// The tight loop (runs inside the guard).
    @inline(__always)
    static func countNewlines(_ start: UnsafeRawPointer, _ count: Int) -> Int {
        let pattern: UInt64 = 0x0A0A_0A0A_0A0A_0A0A
        var total = 0
        var i = 0
        while i + 32 <= count {
            let a = start.loadUnaligned(fromByteOffset: i, as: UInt64.self) ^ pattern
            let b = start.loadUnaligned(fromByteOffset: i + 8, as: UInt64.self) ^ pattern
            let c = start.loadUnaligned(fromByteOffset: i + 16, as: UInt64.self) ^ pattern
            let d = start.loadUnaligned(fromByteOffset: i + 24, as: UInt64.self) ^ pattern
            total &+=
                zeroBytes(a).nonzeroBitCount &+ zeroBytes(b).nonzeroBitCount
                &+ zeroBytes(c).nonzeroBitCount &+ zeroBytes(d).nonzeroBitCount
            i &+= 32
        }
        while i + 8 <= count {
            total &+= zeroBytes(start.loadUnaligned(fromByteOffset: i, as: UInt64.self) ^ pattern).nonzeroBitCount
            i &+= 8
        }
        while i < count {
            if start.load(fromByteOffset: i, as: UInt8.self) == 0x0A { total &+= 1 }
            i &+= 1
        }
        return total
    }

    /// 0x80 in every byte of `word` that is zero, 0 elsewhere (exact: no carries across bytes).
    @inline(__always) static func zeroBytes(_ word: UInt64) -> UInt64 {
        let low = (word & ASCIIWord.lowSeven) &+ ASCIIWord.lowSeven
        return ~(low | word | ASCIIWord.lowSeven)
    }

    /// 1-based line numbers of `offsets` (in any order): one count of the prefix before the
    /// smallest, then only the stretches between consecutive offsets (never quadratic).
    static func lineNumbers(
        of offsets: [Int], base: UnsafeRawPointer, configuration: SearchConfiguration
    ) throws(SearchError) -> [Int] {
        guard !offsets.isEmpty else { return [] }
        let order = offsets.indices.sorted { offsets[$0] < offsets[$1] }
        var lines = [Int](repeating: 0, count: offsets.count)
        var position = 0
        var line = 1
        for index in order {
            let offset = offsets[index]
            line += try countNewlines(in: position..<offset, of: base, configuration: configuration)
            position = offset
            lines[index] = line
        }
        return lines
    }

    /// The line holding `offset` (the line the match starts on): whole when it has at most
    /// ``LineText/wholeLineLimit`` bytes, else a window of at most ``LineText/windowLimit`` bytes
    /// with as much of the match as fits and the rest split between the context before and after
    /// (inside the line), cut edges moved so as not to split a UTF-8 sequence.
    static func text(around offset: Int, length: Int, in buffer: UnsafeRawBufferPointer) throws(SearchError) -> LineText {
        let size = buffer.count
        guard let base = buffer.baseAddress, offset >= 0, offset <= size else {
            return LineText(bytes: [], offset: min(max(offset, 0), size), isCut: false)
        }
        let whole = LineText.wholeLineLimit
        let window = LineText.windowLimit
        let copy = UnsafeMutablePointer<UInt8>.allocate(capacity: window)
        defer { copy.deallocate() }
        let found: (start: Int, count: Int, cut: Bool)
        do {
            found = try MemoryFaultGuard.run { () -> (start: Int, count: Int, cut: Bool) in
                let matchLength = min(max(length, 0), window, size - offset)
                let matchEnd = offset + matchLength
                // Line bounds, looking at most `window` bytes each way: (position, isTheRealBound).
                let backFrom = max(0, offset - window)
                let lower: (Int, Bool) =
                    cposix_memrchr(base + backFrom, 0x0A, offset - backFrom).map { (base.distance(to: UnsafeRawPointer($0)) + 1, true) }
                    ?? (backFrom, backFrom == 0)
                let forwardLimit = min(size, matchEnd + window)
                let upper: (Int, Bool) =
                    memchr(base + offset, 0x0A, forwardLimit - offset).map { (base.distance(to: UnsafeRawPointer($0)), true) }
                    ?? (forwardLimit, forwardLimit == size)
                if lower.1, upper.1, upper.0 - lower.0 <= whole {
                    memcpy(copy, base + lower.0, upper.0 - lower.0)
                    return (lower.0, upper.0 - lower.0, false)
                }
                // A long line: the match (up to `window` bytes, even past a newline it contains),
                // then context split evenly, unused context on one side going to the other.
                var afterEnd = upper.0
                if afterEnd < matchEnd {
                    afterEnd =
                        memchr(base + matchEnd, 0x0A, forwardLimit - matchEnd).map { base.distance(to: UnsafeRawPointer($0)) }
                        ?? forwardLimit
                }
                let available = (before: offset - lower.0, after: afterEnd - matchEnd)
                let context = window - matchLength
                let before = min(available.before, max(context / 2, context - available.after))
                let after = min(available.after, context - before)
                var start = offset - before
                var end = matchEnd + after
                let startIsLineStart = start == lower.0 && lower.1
                let endIsLineEnd = end == upper.0 && upper.1
                if !startIsLineStart {
                    // Skip continuation bytes of a sequence the cut split.
                    var skipped = 0
                    while start < offset, skipped < 3, base.load(fromByteOffset: start, as: UInt8.self) & 0xC0 == 0x80 {
                        start += 1
                        skipped += 1
                    }
                }
                if !endIsLineEnd, end > matchEnd {
                    // Drop a last sequence the cut left incomplete.
                    var lead = end - 1
                    while lead > matchEnd, lead > end - 4, base.load(fromByteOffset: lead, as: UInt8.self) & 0xC0 == 0x80 {
                        lead -= 1
                    }
                    let byte = base.load(fromByteOffset: lead, as: UInt8.self)
                    let needed = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC0 ? 2 : 1
                    if byte >= 0xC0, lead + needed > end, lead >= matchEnd { end = lead }
                }
                memcpy(copy, base + start, end - start)
                return (start, end - start, !(start == lower.0 && lower.1 && end == upper.0 && upper.1))
            }
        } catch {
            throw .fileChanged
        }
        return LineText(bytes: Array(UnsafeBufferPointer(start: copy, count: found.count)), offset: found.start, isCut: found.cut)
    }
}
