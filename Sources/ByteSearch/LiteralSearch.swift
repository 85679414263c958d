import CPOSIXShim
import Glibc

/// A literal needle compiled for one buffer and window.
///
/// Semantics: leftmost-first non-overlapping occurrences inside the window (Python's `bytes.count`,
/// `re.finditer` with a literal); reverse is right-to-left greedy: the rightmost occurrence, then the
/// rightmost one ending at or before its start, and so on (what repeated `rfind(sub, start, end)`
/// with `end` = the previous match's start returns). For self-overlapping needles the two sets
/// differ: in `aaa`, `aa` is found at 0 forward and at 1 in reverse.
///
/// ## Kernel
/// Two candidates were measured (release build, one thread, best of 5, on a 140 MB corpus of
/// licences and Python sources, on the shared 2-core build machine — absolute figures are noisy,
/// the comparison is not), in GB/s, counting every match:
///
/// | needle                 | glibc memmem | rare-byte prefilter (kept) | icase | reverse | reverse icase |
/// |------------------------|-------------:|---------------------------:|------:|--------:|--------------:|
/// | `the`                  | 1.6          | 2.6                        | 2.0   | 2.3     | 1.9           |
/// | ` the `                | 2.2          | 2.5                        | 1.8   | 2.0     | 1.5           |
/// | `license`              | 4.2          | 4.3                        | 2.4   | 2.1     | 1.6           |
/// | `Software Foundation`  | 5.8          | 8.4                        | 3.1   | 6.1     | 1.9           |
/// | `zebra` (absent)       | 3.7          | 10.1                       | 7.8   | 9.6     | 7.2           |
/// | `ZQX` (absent)         | 1.8          | 8.7                        | 5.3   | 8.5     | 5.2           |
/// | 44-byte sentence       | 4.8          | 5.5                        | 3.3   | 4.1     | 1.9           |
/// | `e` (9 M matches)      | 1.5          | 1.4                        | 0.8   | 1.3     | 0.8           |
/// | `eeeeeeee` (dense)     | 6.3          | 6.1                        | 2.8   | 2.2     | 1.6           |
/// | four spaces (4.5 M)    | 0.6          | 0.6                        | 0.5   | 0.4     | 0.4           |
///
/// The prefilter: `memchr` for the needle byte that a fixed frequency table
/// (``ByteFrequency``) says is rarest — for case-insensitive letters both cases through two
/// `memchr` streams — then a check of a second rare byte, then `memcmp` (or a folded compare).
/// It wins by 2–5x when that byte is rare and loses when candidates are dense (a `memchr` round
/// trip costs ~25 ns), so each kernel call starts with it and switches, once false candidates
/// come more often than one per `12n + 8` bytes (after 64 of them), to the linear fallback:
/// `memmem` forward, or `memmem` over lower-cased and/or reversed copies of 64 KiB segments for
/// case-insensitive and reverse searches. Net: never notably slower than `memmem`, much faster
/// on the common case.
final class LiteralProgram: SearchProgram, @unchecked Sendable {
    // @unchecked: `base` points into the caller's buffer, which outlives the search; all else is
    // immutable.
    let base: UnsafeRawPointer
    let window: Range<Int>
    let needle: [UInt8]
    /// The needle as compared: lower-cased when case-insensitive.
    let key: [UInt8]
    let caseInsensitive: Bool
    let reverse: Bool
    let rare: (first: Int, second: Int)
    let territory: Range<Int>
    let blockSize: Int
    var splittable: Bool { true }
    var memoryBound: Bool { true }

    init(needle: [UInt8], caseInsensitive: Bool, reverse: Bool, window: Range<Int>, base: UnsafeRawPointer, blockSize: Int) {
        precondition(!needle.isEmpty)
        self.base = base
        self.window = window
        self.needle = needle
        self.caseInsensitive = caseInsensitive
        self.key = caseInsensitive ? needle.map(ASCII.lower) : needle
        self.reverse = reverse
        self.rare = ByteFrequency.rareOffsets(in: needle, caseInsensitive: caseInsensitive)
        self.blockSize = blockSize
        let n = needle.count
        let lastStart = window.upperBound - n  // inclusive
        if lastStart < window.lowerBound {
            territory = reverse ? -window.upperBound ..< -window.upperBound : window.lowerBound..<window.lowerBound
        } else if reverse {
            // Attempt' = -end, end in [lower + n, upper].
            territory = -window.upperBound ..< -(window.lowerBound + n) + 1
        } else {
            territory = window.lowerBound..<(lastStart + 1)
        }
    }

    func makeKernel() -> any MatchKernel { LiteralKernel(self) }

    func real(_ match: RawMatch) -> (offset: Int, length: Int) {
        reverse ? (-match.end, match.end - match.start) : (match.start, match.end - match.start)
    }

    func realPosition(_ position: Int) -> Int { reverse ? -position : position }

    func chunkBoundaries(chunkSize: Int, in buffer: UnsafeRawBufferPointer) throws(SearchError) -> [Int] {
        Array(stride(from: territory.lowerBound + chunkSize, to: territory.upperBound, by: chunkSize))
    }
}

/// One thread's literal kernel: needle copies and a scratch segment for the fallback.
final class LiteralKernel: MatchKernel {
    private let program: LiteralProgram
    private let base: UnsafeRawPointer
    private let n: Int
    /// The key (forward) or the reversed key (reverse), as searched by `memmem` in the fallback.
    private let key: UnsafeMutablePointer<UInt8>
    private let fallbackKey: UnsafeMutablePointer<UInt8>
    private let scratch: UnsafeMutablePointer<UInt8>?
    private let scratchSize: Int
    private let fold: UnsafeMutablePointer<UInt8>
    /// The prefilter hands over to the fallback once false candidates come more often than one per
    /// this many bytes (after 64 of them). A `memchr` round trip plus checks costs about 25 ns; glibc
    /// `memmem` about 2.2/n ns per byte for short needles, 0.17 for long ones (measured, see above):
    /// the break-even spacing is about 12n + 8 bytes, capped at 360.
    private let denseSpacing: Int

    init(_ program: LiteralProgram) {
        self.program = program
        self.base = program.base
        self.n = program.key.count
        self.denseSpacing = min(360, 12 * program.key.count + 8)
        key = .allocate(capacity: n)
        key.initialize(from: program.key, count: n)
        fallbackKey = .allocate(capacity: n)
        fallbackKey.initialize(from: program.reverse ? program.key.reversed() : program.key, count: n)
        fold = .allocate(capacity: 256)
        fold.initialize(from: ASCII.lowerTable, count: 256)
        if program.caseInsensitive || program.reverse {
            scratchSize = max(64 << 10, 4 * n)
            scratch = .allocate(capacity: scratchSize)
        } else {
            scratchSize = 0
            scratch = nil
        }
    }

    deinit {
        key.deallocate()
        fallbackKey.deallocate()
        fold.deallocate()
        scratch?.deallocate()
    }

    func error(for code: Int32) -> SearchError { .matchFailed(message: "literal kernel error \(code)") }
    func poison() {}

    func scan(from state: ScanState, attemptEnd: Int, into output: UnsafeMutablePointer<RawMatch>, capacity: Int)
        -> KernelStep
    {
        let end = min(attemptEnd, program.territory.upperBound)
        if program.reverse {
            return scanReverse(from: state, attemptEnd: end, into: output, capacity: capacity)
        }
        return scanForward(from: state, attemptEnd: end, into: output, capacity: capacity)
    }

    // MARK: Forward

    private func scanForward(
        from state: ScanState, attemptEnd: Int, into output: UnsafeMutablePointer<RawMatch>, capacity: Int
    ) -> KernelStep {
        let base = self.base
        let n = self.n
        let key = self.key
        let lastStart = attemptEnd - 1
        var p = state.position
        var written = 0
        var current = state
        let origin = p
        var misses = 0
        var dense = false
        let k1 = program.rare.first
        let k2 = program.rare.second
        let b1 = key[k1]
        let b2 = key[k2]
        let icase = program.caseInsensitive
        let letter1 = icase && ASCII.isLetter(b1)
        var finder = DualFinder()

        if n == 1, !letter1 {
            // A single byte: every hit is a match.
            while written < capacity {
                guard p <= lastStart, let h = memchr(base + p, Int32(b1), lastStart - p + 1) else {
                    return KernelStep(written: written, state: .fresh(p), exhausted: true, error: 0)
                }
                let s = base.distance(to: UnsafeRawPointer(h))
                output[written] = RawMatch(start: s, end: s + 1)
                written += 1
                p = s + 1
            }
            return KernelStep(written: written, state: .fresh(p), exhausted: false, error: 0)
        }

        @inline(__always) func emit(_ s: Int) {
            output[written] = RawMatch(start: s, end: s + n)
            written += 1
            p = s + n
            current = .fresh(p)
        }

        while written < capacity {
            if p > lastStart { return KernelStep(written: written, state: current, exhausted: true, error: 0) }
            if dense {
                let found =
                    icase
                    ? foldedForward(from: &p, lastStart: lastStart, into: output, written: &written, capacity: capacity)
                    : plainForward(from: &p, lastStart: lastStart, into: output, written: &written, capacity: capacity)
                if written > 0 { current = .fresh(p) }
                return KernelStep(written: written, state: current, exhausted: !found, error: 0)
            }
            // Candidates: the rare byte at offset k1 of a start in [p, lastStart].
            let from = p + k1
            let length = lastStart - p + 1
            let hit: Int
            if letter1 {
                guard let h = finder.next(base, from: from, end: from + length, ASCII.lower(b1), ASCII.upper(b1)) else {
                    return KernelStep(written: written, state: current, exhausted: true, error: 0)
                }
                hit = h
            } else {
                guard let h = memchr(base + from, Int32(b1), length) else {
                    return KernelStep(written: written, state: current, exhausted: true, error: 0)
                }
                hit = base.distance(to: UnsafeRawPointer(h))
            }
            let s = hit - k1
            if matches(at: s, icase: icase, k2: k2, b2: b2) {
                emit(s)
            } else {
                p = s + 1
                misses += 1
                if misses >= 64, misses * denseSpacing > p - origin { dense = true }
            }
        }
        return KernelStep(written: written, state: current, exhausted: false, error: 0)
    }

    /// Whether the needle occurs at `s`, given that the prefilter byte (offset k1) already matched:
    /// the second rare byte first, then the rest (nothing more for needles of one or two bytes).
    @inline(__always) private func matches(at s: Int, icase: Bool, k2: Int, b2: UInt8) -> Bool {
        let second = base.load(fromByteOffset: s + k2, as: UInt8.self)
        if icase {
            return fold[Int(second)] == b2 && (n <= 2 || foldedEqual(s))
        }
        return second == b2 && (n <= 2 || memcmp(base + s, key, n) == 0)
    }

    @inline(__always) private func foldedEqual(_ s: Int) -> Bool {
        let hay = base + s
        var i = 0
        while i < n {
            if fold[Int(hay.load(fromByteOffset: i, as: UInt8.self))] != key[i] { return false }
            i += 1
        }
        return true
    }

    /// `memmem` from `p`; returns `false` when no occurrence starts at or before `lastStart`.
    private func plainForward(
        from p: inout Int, lastStart: Int, into output: UnsafeMutablePointer<RawMatch>, written: inout Int, capacity: Int
    ) -> Bool {
        while written < capacity {
            if p > lastStart { return false }
            guard let found = cposix_memmem(base + p, lastStart + n - p, key, n) else { return false }
            let s = base.distance(to: UnsafeRawPointer(found))
            output[written] = RawMatch(start: s, end: s + n)
            written += 1
            p = s + n
        }
        return true
    }

    /// `memmem` over lower-cased copies of segments of the haystack.
    private func foldedForward(
        from p: inout Int, lastStart: Int, into output: UnsafeMutablePointer<RawMatch>, written: inout Int, capacity: Int
    ) -> Bool {
        guard let scratch else { return false }
        let hayEnd = lastStart + n
        while written < capacity {
            if p > lastStart { return false }
            let segmentStart = p
            let segmentEnd = min(hayEnd, segmentStart + scratchSize)
            let length = segmentEnd - segmentStart
            foldCopy(from: base + segmentStart, to: scratch, count: length)
            var offset = 0
            while written < capacity, offset + n <= length {
                guard let found = cposix_memmem(scratch + offset, length - offset, key, n) else { break }
                let q = UnsafeRawPointer(scratch).distance(to: UnsafeRawPointer(found))
                let s = segmentStart + q
                output[written] = RawMatch(start: s, end: s + n)
                written += 1
                offset = q + n
                p = s + n
            }
            if written >= capacity { return true }
            if segmentEnd >= hayEnd { return false }
            p = max(p, segmentEnd - n + 1)
        }
        return true
    }

    // MARK: Reverse (scan coordinates are negated offsets)

    private func scanReverse(
        from state: ScanState, attemptEnd: Int, into output: UnsafeMutablePointer<RawMatch>, capacity: Int
    ) -> KernelStep {
        let base = self.base
        let n = self.n
        let key = self.key
        // Real bounds: occurrences [s, s+n) with s + n <= bound and s >= lowestStart.
        var bound = -state.position
        let lowestStart = max(program.window.lowerBound, 1 - attemptEnd - n)
        var written = 0
        var current = state
        let origin = bound
        var misses = 0
        var dense = false
        let k1 = program.rare.first
        let k2 = program.rare.second
        let b1 = key[k1]
        let b2 = key[k2]
        let icase = program.caseInsensitive
        let letter1 = icase && ASCII.isLetter(b1)
        var finder = DualFinder()

        if n == 1, !letter1 {
            while written < capacity {
                guard bound - 1 >= lowestStart, let h = cposix_memrchr(base + lowestStart, Int32(b1), bound - lowestStart) else {
                    return KernelStep(written: written, state: .fresh(-bound), exhausted: true, error: 0)
                }
                let s = base.distance(to: UnsafeRawPointer(h))
                output[written] = RawMatch(start: -(s + 1), end: -s)
                written += 1
                bound = s
            }
            return KernelStep(written: written, state: .fresh(-bound), exhausted: false, error: 0)
        }

        while written < capacity {
            let highestStart = bound - n
            if highestStart < lowestStart {
                return KernelStep(written: written, state: current, exhausted: true, error: 0)
            }
            if dense {
                let found = reversedFallback(
                    bound: &bound, lowestStart: lowestStart, into: output, written: &written, capacity: capacity)
                if written > 0 { current = .fresh(-bound) }
                return KernelStep(written: written, state: current, exhausted: !found, error: 0)
            }
            let from = lowestStart + k1
            let length = highestStart - lowestStart + 1
            let hit: Int
            if letter1 {
                guard let h = finder.previous(base, from: from, end: from + length, ASCII.lower(b1), ASCII.upper(b1)) else {
                    return KernelStep(written: written, state: current, exhausted: true, error: 0)
                }
                hit = h
            } else {
                guard let h = cposix_memrchr(base + from, Int32(b1), length) else {
                    return KernelStep(written: written, state: current, exhausted: true, error: 0)
                }
                hit = base.distance(to: UnsafeRawPointer(h))
            }
            let s = hit - k1
            if matches(at: s, icase: icase, k2: k2, b2: b2) {
                output[written] = RawMatch(start: -(s + n), end: -s)
                written += 1
                bound = s
                current = .fresh(-s)
            } else {
                bound = s + n - 1
                misses += 1
                if misses >= 64, misses * denseSpacing > origin - bound { dense = true }
            }
        }
        return KernelStep(written: written, state: current, exhausted: false, error: 0)
    }

    /// `memmem` with the reversed key over reversed (and, case-insensitive, lower-cased) copies of
    /// segments, from the top down. Returns `false` when no occurrence is left.
    private func reversedFallback(
        bound: inout Int, lowestStart: Int, into output: UnsafeMutablePointer<RawMatch>, written: inout Int, capacity: Int
    ) -> Bool {
        guard let scratch else { return false }
        let icase = program.caseInsensitive
        while written < capacity {
            let top = bound
            if top - n < lowestStart { return false }
            let bottom = max(lowestStart, top - scratchSize)
            let length = top - bottom
            reverseCopy(from: base + bottom, to: scratch, count: length, fold: icase)
            // scratch[i] = hay[top - 1 - i]; an occurrence of the reversed key at scratch[q..<q+n]
            // is the occurrence hay[top - q - n ..< top - q].
            var offset = 0
            while written < capacity, offset + n <= length {
                guard let found = cposix_memmem(scratch + offset, length - offset, fallbackKey, n) else { break }
                let q = UnsafeRawPointer(scratch).distance(to: UnsafeRawPointer(found))
                let s = top - q - n
                output[written] = RawMatch(start: -(s + n), end: -s)
                written += 1
                offset = q + n
                bound = s
            }
            if written >= capacity { return true }
            if bottom <= lowestStart { return false }
            bound = min(bound, bottom + n - 1)
        }
        return true
    }

    // MARK: Copies

    /// Copies `count` bytes lower-casing ASCII letters, eight at a time.
    private func foldCopy(from source: UnsafeRawPointer, to destination: UnsafeMutablePointer<UInt8>, count: Int) {
        let target = UnsafeMutableRawPointer(destination)
        var i = 0
        while i + 8 <= count {
            let word = source.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            target.storeBytes(of: ASCIIWord.lowercased(word), toByteOffset: i, as: UInt64.self)
            i += 8
        }
        while i < count {
            destination[i] = fold[Int(source.load(fromByteOffset: i, as: UInt8.self))]
            i += 1
        }
    }

    /// Copies `count` bytes in reverse order (destination[i] = source[count - 1 - i]), optionally
    /// lower-casing ASCII letters.
    private func reverseCopy(
        from source: UnsafeRawPointer, to destination: UnsafeMutablePointer<UInt8>, count: Int, fold shouldFold: Bool
    ) {
        let target = UnsafeMutableRawPointer(destination)
        var i = 0
        while i + 8 <= count {
            var word = source.loadUnaligned(fromByteOffset: count - i - 8, as: UInt64.self).byteSwapped
            if shouldFold { word = ASCIIWord.lowercased(word) }
            target.storeBytes(of: word, toByteOffset: i, as: UInt64.self)
            i += 8
        }
        while i < count {
            let byte = source.load(fromByteOffset: count - 1 - i, as: UInt8.self)
            destination[i] = shouldFold ? fold[Int(byte)] : byte
            i += 1
        }
    }
}

/// Eight bytes at a time (SWAR).
enum ASCIIWord {
    static let highBits: UInt64 = 0x8080_8080_8080_8080
    static let lowSeven: UInt64 = 0x7F7F_7F7F_7F7F_7F7F

    /// Each byte in `A`...`Z` gets 0x20 added; all others are unchanged.
    @inline(__always) static func lowercased(_ word: UInt64) -> UInt64 {
        let low = word & lowSeven
        let atLeastA = low &+ (0x80 - 0x41) * 0x0101_0101_0101_0101  // high bit set if low >= 'A'
        let aboveZ = low &+ (0x80 - 0x5B) * 0x0101_0101_0101_0101  // high bit set if low > 'Z'
        let upper = atLeastA & ~aboveZ & ~word & highBits
        return word | (upper >> 2)
    }
}

/// `memchr`/`memrchr` for either of two bytes (both cases of a letter), keeping the next hit of
/// each so that each call to libc scans its stretch once.
struct DualFinder {
    private var first = Int.min
    private var second = Int.min
    private var firstValid = false
    private var secondValid = false
    private var limit = 0

    /// The lowest offset in `[from, end)` holding `a` or `b`. Successive calls must use the same
    /// `end` and non-decreasing `from`.
    @inline(__always)
    mutating func next(_ base: UnsafeRawPointer, from: Int, end: Int, _ a: UInt8, _ b: UInt8) -> Int? {
        if limit != end {
            limit = end
            firstValid = false
            secondValid = false
        }
        if !firstValid || first < from {
            first = memchr(base + from, Int32(a), end - from).map { base.distance(to: UnsafeRawPointer($0)) } ?? Int.max
            firstValid = true
        }
        if !secondValid || second < from {
            second = memchr(base + from, Int32(b), end - from).map { base.distance(to: UnsafeRawPointer($0)) } ?? Int.max
            secondValid = true
        }
        let hit = min(first, second)
        return hit == Int.max ? nil : hit
    }

    /// The highest offset in `[from, end)` holding `a` or `b`. Successive calls must use the same
    /// `from` and non-increasing `end`.
    @inline(__always)
    mutating func previous(_ base: UnsafeRawPointer, from: Int, end: Int, _ a: UInt8, _ b: UInt8) -> Int? {
        if limit != from {
            limit = from
            firstValid = false
            secondValid = false
        }
        if !firstValid || first >= end {
            first = cposix_memrchr(base + from, Int32(a), end - from).map { base.distance(to: UnsafeRawPointer($0)) } ?? Int.min
            firstValid = true
        }
        if !secondValid || second >= end {
            second = cposix_memrchr(base + from, Int32(b), end - from).map { base.distance(to: UnsafeRawPointer($0)) } ?? Int.min
            secondValid = true
        }
        let hit = max(first, second)
        return hit == Int.min ? nil : hit
    }
}
