import ConfinedPaths
import MappedFiles
import Synchronization

/// Lines by number in mapped files: the per-version line indexes of a server, kept within a
/// memory bound, and the lookups the `lines` view and follow searches need.
///
/// An index is built on first need, only as far as the line asked for, by the same word-at-a-time
/// newline count the search kernels use (``Lines/newlinesPerBlock(in:block:of:configuration:)``),
/// in parallel. It belongs to one file (path, device, inode) and is **extended, not rebuilt**,
/// when that file grows: the checkpoints below the old end stay valid as long as the old bytes
/// are unchanged. What tells a rewrite from an append:
/// - this server's own writes report their lowest offset (``rewrote(path:from:)``): the
///   checkpoints above it are dropped, exactly;
/// - a replacement (another inode) or a truncation below the indexed end drops the index;
/// - for another process's writes, a fingerprint of the first and the last 4 KiB below the
///   indexed end is compared on every use: a rewrite that changes those bytes drops the index.
///   **Not detected**: another process rewriting old bytes in place elsewhere (keeping the inode,
///   not shrinking the file, leaving the sampled bytes alone); line numbers past such a rewrite
///   may then be off until the file is replaced or the index evicted. Appending writers
///   (loggers) and rotation never do that.
///
/// Memory: every index takes 8 bytes per checkpoint (1 MiB of file, at first); the sum stays
/// within `memoryLimit`, least recently used indexes dropped first, and an index alone above a
/// quarter of the limit is coarsened (every other checkpoint dropped, twice the stride).
public final class LineIndexes: Sendable {
    /// Which file an index describes.
    public struct File: Sendable, Hashable {
        public var path: RelativePath
        public var device: UInt64
        public var inode: UInt64

        public init(path: RelativePath, device: UInt64, inode: UInt64) {
            self.path = path
            self.device = device
            self.inode = inode
        }
    }

    /// Lines served: their 1-based numbers (nil when not counted) and their bytes.
    public struct Span: Sendable, Hashable {
        public var lines: ClosedRange<Int>?
        public var bytes: Range<Int>
    }

    private struct Entry {
        var file: File
        var index: LineIndex
        var lastUse: UInt64
        /// The lowest offset this server wrote since the index was stored: checkpoints above it
        /// are dropped on the next use (the mapping is needed to fingerprint what stays).
        var rewrittenFrom: Int?
        /// Bumped by every ``LineIndexes/rewrote(path:from:)``: an index counted from a snapshot
        /// older than the last rewrite must not clear `rewrittenFrom` when it is stored.
        var rewrites: UInt64 = 0
    }

    /// An index as one lookup found it, with the rewrite count it saw.
    private struct Snapshot {
        var index: LineIndex
        var rewrites: UInt64
    }

    private struct State {
        var entries: [RelativePath: Entry] = [:]
        var clock: UInt64 = 0
        var bytes = 0
    }

    private let state = Mutex(State())
    public let memoryLimit: Int
    let minimumStride: Int
    let configuration: SearchConfiguration

    /// - Parameters:
    ///   - memoryLimit: bytes all checkpoints may take together.
    ///   - stride: the finest distance between checkpoints (1 MiB; tests use less).
    public init(memoryLimit: Int, configuration: SearchConfiguration = SearchConfiguration(), stride: Int = 1 << 20) {
        self.memoryLimit = max(memoryLimit, 1024)
        self.configuration = configuration
        self.minimumStride = max(64, stride)
    }

    /// Bytes the checkpoints take now.
    public var memoryInUse: Int { state.withLock { $0.bytes } }

    /// Lines `first` through `last` (nil: to the end) of `buffer`, the file's current bytes;
    /// nil when the file has fewer than `first` lines.
    ///
    /// - Throws: ``SearchError/budgetExceeded`` when counting to the line would pass `deadline`
    ///   (the counted part is kept: a retry continues from it), ``SearchError/fileChanged`` when
    ///   the file shrank under the count.
    public func span(
        first: Int, last: Int?, of file: File, in buffer: UnsafeRawBufferPointer,
        deadline: ContinuousClock.Instant? = nil
    ) throws(SearchError) -> Span? {
        precondition(first >= 1 && (last ?? first) >= first)
        guard let base = buffer.baseAddress, !buffer.isEmpty else { return nil }
        let size = buffer.count
        let snapshot = try current(file, base: base, size: size)
        var index = snapshot.index
        defer { store(index, for: file, seen: snapshot.rewrites) }
        let start: Int
        if first == 1 {
            start = 0
        } else {
            index = try reaching(first - 1, index, base: base, size: size, deadline: deadline)
            guard let after = try index.afterNewline(first - 1, size: size, of: base), after < size else { return nil }
            start = after
        }
        if let last {
            index = try reaching(last, index, base: base, size: size, deadline: deadline)
            if let end = try index.afterNewline(last, size: size, of: base) {
                return Span(lines: first...last, bytes: start..<end)
            }
        }
        // To the end: the last line's number is the file's line count.
        index = try extended(index, to: size, base: base, size: size, deadline: deadline)
        let total = try index.newlines(before: size, of: base, configuration: configuration) + (try endsOpen(base, size) ? 1 : 0)
        return Span(lines: first...total, bytes: start..<size)
    }

    /// The last `count` lines of `buffer`, found backwards from the end (memrchr): only their bytes
    /// are read, unless `numbered`, when their numbers come from the index (counted once per file
    /// version, then only as the file grows). nil for an empty file.
    public func tail(
        _ count: Int, numbered: Bool, of file: File, in buffer: UnsafeRawBufferPointer,
        deadline: ContinuousClock.Instant? = nil
    ) throws(SearchError) -> Span? {
        precondition(count >= 1)
        guard let base = buffer.baseAddress, !buffer.isEmpty else { return nil }
        let size = buffer.count
        let start = try Lines.startOfLast(count, before: size, of: base)
        guard numbered else { return Span(lines: nil, bytes: start..<size) }
        let snapshot = try current(file, base: base, size: size)
        var index = snapshot.index
        defer { store(index, for: file, seen: snapshot.rewrites) }
        index = try extended(index, to: start, base: base, size: size, deadline: deadline)
        let first = try index.newlines(before: start, of: base, configuration: configuration) + 1
        let inBody = try Lines.countNewlines(in: start..<size, of: base, configuration: configuration) + (try endsOpen(base, size) ? 1 : 0)
        return Span(lines: first...(first + inBody - 1), bytes: start..<size)
    }

    /// The 1-based number of the line holding `offset` (1 + the newlines before it), as search
    /// numbers matches.
    public func lineNumber(
        at offset: Int, of file: File, in buffer: UnsafeRawBufferPointer,
        deadline: ContinuousClock.Instant? = nil
    ) throws(SearchError) -> Int {
        guard let base = buffer.baseAddress, offset > 0 else { return 1 }
        let size = buffer.count
        let snapshot = try current(file, base: base, size: size)
        var index = snapshot.index
        defer { store(index, for: file, seen: snapshot.rewrites) }
        index = try extended(index, to: min(offset, size), base: base, size: size, deadline: deadline)
        return try index.newlines(before: min(offset, size), of: base, configuration: configuration) + 1
    }

    /// This server wrote `path` from `offset` on: checkpoints above it no longer hold.
    public func rewrote(path: RelativePath, from offset: Int) {
        state.withLock { state in
            guard var entry = state.entries[path] else { return }
            entry.rewrittenFrom = min(entry.rewrittenFrom ?? offset, offset)
            entry.rewrites += 1
            state.entries[path] = entry
        }
    }

    /// The stored index of `file` if it still describes these bytes, else a fresh one.
    private func current(_ file: File, base: UnsafeRawPointer, size: Int) throws(SearchError) -> Snapshot {
        let stored = state.withLock { state -> Entry? in
            guard let entry = state.entries[file.path] else { return nil }
            state.clock += 1
            state.entries[file.path]?.lastUse = state.clock
            return entry
        }
        let rewrites = stored?.rewrites ?? 0
        if let stored, stored.file == file {
            var index = stored.index
            if let from = stored.rewrittenFrom { index = try index.truncated(to: from, of: base) }
            if try index.stillMatches(base, size: size) { return Snapshot(index: index, rewrites: rewrites) }
        }
        var stride = minimumStride
        // A quarter of the bound for one file's whole index at most.
        while size / stride * MemoryLayout<Int>.stride > memoryLimit / 4 { stride *= 2 }
        return Snapshot(index: .empty(stride: stride), rewrites: rewrites)
    }

    /// Counted far enough that the `k`-th newline lies below the last checkpoint or after it
    /// (the rest is at most a stride plus the unindexed tail), growing the steps as it goes.
    private func reaching(
        _ k: Int, _ index: LineIndex, base: UnsafeRawPointer, size: Int,
        deadline: ContinuousClock.Instant?
    ) throws(SearchError) -> LineIndex {
        var index = index
        var step = 16
        while (index.counts.last ?? 0) < k, index.end + index.stride <= size {
            index = try extended(index, to: min(size, index.end + step * index.stride), base: base, size: size, deadline: deadline)
            step = min(step * 2, 1024)
        }
        return index
    }

    /// Extended over `[index.end, limit)` in steps of at most 256 strides, the deadline checked
    /// between steps; progress is stored before the budget error is thrown.
    private func extended(
        _ index: LineIndex, to limit: Int, base: UnsafeRawPointer, size: Int,
        deadline: ContinuousClock.Instant?
    ) throws(SearchError) -> LineIndex {
        var index = index
        while index.end + index.stride <= limit {
            if let deadline, ContinuousClock.now >= deadline {
                throw .budgetExceeded
            }
            index = try index.extended(to: min(limit, index.end + 256 * index.stride), of: base, configuration: configuration)
        }
        return index
    }

    private func endsOpen(_ base: UnsafeRawPointer, _ size: Int) throws(SearchError) -> Bool {
        do {
            return try MemoryFaultGuard.run { base.load(fromByteOffset: size - 1, as: UInt8.self) != 0x0A }
        } catch {
            throw .fileChanged
        }
    }

    /// Keeps `index` for `file` unless a longer one for the same file was stored meanwhile; then
    /// evicts the least recently used until the bound holds, coarsening an index too big alone.
    private func store(_ index: LineIndex, for file: File, seen rewrites: UInt64) {
        guard index.end > 0 else { return }
        var index = index
        while index.bytes > memoryLimit / 4, index.counts.count > 1 { index = index.coarsened() }
        state.withLock { state in
            state.clock += 1
            var entry = Entry(file: file, index: index, lastUse: state.clock, rewrittenFrom: nil, rewrites: rewrites)
            if let old = state.entries[file.path] {
                if old.rewrites != rewrites {
                    // Written meanwhile: what this index counted may predate the write.
                    entry.rewrittenFrom = old.rewrittenFrom
                    entry.rewrites = old.rewrites
                } else if old.file == file, old.rewrittenFrom == nil, old.index.end > index.end, old.index.stride == index.stride {
                    return
                }
                state.bytes -= old.index.bytes
            }
            state.entries[file.path] = entry
            state.bytes += index.bytes
            while state.bytes > memoryLimit,
                let victim = state.entries.filter({ $0.key != file.path }).min(by: { $0.value.lastUse < $1.value.lastUse })
            {
                state.bytes -= victim.value.index.bytes
                state.entries[victim.key] = nil
            }
        }
    }
}
