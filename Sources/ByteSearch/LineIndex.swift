import MappedFiles

/// Sparse newline checkpoints of one file version: how many `\n` lie before each multiple of
/// `stride`, so that line N is found by a binary search and a scan of at most one stride, not
/// by counting from the start of the file.
///
/// Immutable: an extended or coarsened index is a new value, so readers never lock.
struct LineIndex: Sendable {
    /// Bytes between two checkpoints (a power of two, at least 1 MiB).
    let stride: Int
    /// `counts[i]`: newlines in `[0, (i + 1) * stride)`.
    let counts: [Int]
    /// Fingerprint of the first and the last sampled bytes of `[0, end)`, to tell an append (the
    /// old bytes unchanged: the checkpoints hold) from a rewrite by another process.
    let sample: UInt64

    /// The bytes the checkpoints cover.
    var end: Int { counts.count * stride }
    /// Memory the checkpoints take (what the cache's bound counts).
    var bytes: Int { counts.count * MemoryLayout<Int>.stride + 64 }

    static func empty(stride: Int) -> LineIndex { LineIndex(stride: stride, counts: [], sample: 0) }

    /// Newlines in `[0, offset)`: a checkpoint, then the bytes after it.
    func newlines(before offset: Int, of base: UnsafeRawPointer, configuration: SearchConfiguration) throws(SearchError) -> Int {
        let checkpoint = min(offset / stride, counts.count)
        let counted = checkpoint == 0 ? 0 : counts[checkpoint - 1]
        return counted + (try Lines.countNewlines(in: checkpoint * stride..<offset, of: base, configuration: configuration))
    }

    /// The position just after the `k`-th newline (k ≥ 1) of `[0, size)`, nil when there are fewer.
    /// Start from the last checkpoint with fewer than `k` newlines before it.
    func afterNewline(_ k: Int, size: Int, of base: UnsafeRawPointer) throws(SearchError) -> Int? {
        var low = 0
        var high = counts.count  // the first checkpoint with counts >= k, by binary search
        while low < high {
            let middle = (low + high) / 2
            if counts[middle] < k { low = middle + 1 } else { high = middle }
        }
        let from = low * stride
        let before = low == 0 ? 0 : counts[low - 1]
        guard from < size else { return nil }
        switch try Lines.afterNewline(k - before, in: from..<size, of: base) {
        case .found(let after): return after
        case .short: return nil
        }
    }

    /// This index extended over every whole stride of `[end, limit)`, counted in parallel.
    func extended(to limit: Int, of base: UnsafeRawPointer, configuration: SearchConfiguration) throws(SearchError) -> LineIndex {
        let target = limit / stride * stride
        guard target > end else { return self }
        let added = try Lines.newlinesPerBlock(in: end..<target, block: stride, of: base, configuration: configuration)
        var counts = self.counts
        counts.reserveCapacity(counts.count + added.count)
        var running = counts.last ?? 0
        for count in added {
            running += count
            counts.append(running)
        }
        return LineIndex(stride: stride, counts: counts, sample: try Self.fingerprint(end: target, of: base))
    }

    /// Every other checkpoint dropped: half the memory, twice the stride.
    func coarsened() -> LineIndex {
        let kept = Swift.stride(from: 1, to: counts.count, by: 2).map { counts[$0] }
        return LineIndex(stride: stride * 2, counts: kept, sample: sample)
    }

    /// The checkpoints at or below `offset` only (bytes from `offset` on were rewritten).
    func truncated(to offset: Int, of base: UnsafeRawPointer?) throws(SearchError) -> LineIndex {
        let kept = min(counts.count, max(0, offset) / stride)
        guard kept < counts.count else { return self }
        guard kept > 0, let base else { return .empty(stride: stride) }
        return LineIndex(stride: stride, counts: Array(counts[..<kept]), sample: try Self.fingerprint(end: kept * stride, of: base))
    }

    /// Whether `base` still holds the bytes this index was counted over, as far as the sample
    /// shows (the first and the last 4 KiB before `end`).
    func stillMatches(_ base: UnsafeRawPointer, size: Int) throws(SearchError) -> Bool {
        guard end > 0 else { return true }
        guard size >= end else { return false }
        return try Self.fingerprint(end: end, of: base) == sample
    }

    static let sampleBytes = 4096

    /// FNV-1a over 64-bit words of the first and the last `sampleBytes` of `[0, end)`.
    static func fingerprint(end: Int, of base: UnsafeRawPointer) throws(SearchError) -> UInt64 {
        let head = min(end, sampleBytes)
        let tailStart = max(head, end - sampleBytes)
        do {
            return try MemoryFaultGuard.run { () -> UInt64 in
                var hash: UInt64 = 0xCBF2_9CE4_8422_2325
                for range in [0..<head, tailStart..<end] {
                    var i = range.lowerBound
                    while i + 8 <= range.upperBound {
                        hash = (hash ^ base.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0x100_0000_01B3
                        i += 8
                    }
                    while i < range.upperBound {
                        hash = (hash ^ UInt64(base.load(fromByteOffset: i, as: UInt8.self))) &* 0x100_0000_01B3
                        i += 1
                    }
                }
                return hash
            }
        } catch {
            throw .fileChanged
        }
    }
}
