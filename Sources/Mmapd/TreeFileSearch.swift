import ByteSearch
import ConfinedPaths
import Glibc
import HTTPSemantics
import MappedFiles
import SystemPackage

/// How one file of a tree search is read and searched; shared by every worker of a search.
///
/// Small files are read with pread into the worker's own buffer: a mapping costs an mmap, page
/// faults and an munmap per file, more than copying a few kilobytes (see ``readLimit``). Larger
/// ones are leased from the mapping pool, as single-file searches are.
struct TreeFileSearch: Sendable {
    let searcher: Searcher
    let pool: MappingPool
    /// Pattern and options; the window and limit are set per file.
    let template: SearchRequest
    let rendering: MatchRendering
    let binary: TreeSearchParameters.BinaryFiles
    let budget: SearchBudget

    /// Files up to this size are read, larger ones mapped.
    static let readLimit = 1 << 20

    /// What searching one file gave.
    enum Result: Sendable {
        /// It could not be opened or read, or it changed under the search.
        case skipped
        /// `binary=skip` and a NUL among its first bytes.
        case binary
        /// The budget ran out before it was begun.
        case notStarted
        case searched(size: Int, outcome: SearchOutcome, rendered: RenderedMatches, limit: Int)
        /// Its rendered page would exceed the answer bound (``MatchRendering/answerLimit``).
        case tooLarge(size: Int)
        case failed(SearchError)
    }

    /// A page of one file's match objects, rendered while its bytes were at hand.
    struct RenderedMatches: Sendable {
        var bytes: [UInt8] = []
        /// Where each match object ends in `bytes`.
        var ends: [Int] = []

        func match(_ index: Int) -> ArraySlice<UInt8> {
            bytes[(index == 0 ? 0 : ends[index - 1])..<ends[index]]
        }
    }

    /// What reading a file gave: its bytes (for the duration of the call), or why not.
    enum Access<T> {
        case skipped
        case binary
        case read(size: Int, T)
    }

    /// Searches `file` from `start` for at most `limit` matches and renders them. A file is not
    /// begun once the budget is gone, unless `begun` (the first of a page), which then scans one
    /// block (``SearchConfiguration/blockSize``) past the deadline: following cursors always
    /// progresses, as it does in one file.
    func search(_ file: WalkedFile, from start: Int, limit: Int, buffer: ReadBuffer, begun: Bool = false) -> Result {
        if !begun, budget.isExhausted { return .notStarted }
        let access = withBytes(of: file, buffer: buffer) { bytes -> Result in
            var budget = budget
            if begun, budget.isExhausted {
                // One block's worth: the scan always moves, and no further. A short deadline of its
                // own bounds a pattern whose one block is slow; the client's departure still counts.
                budget.deadline = ContinuousClock.now + .milliseconds(500)
                budget.maxBytes = searcher.configuration.blockSize
                budget.cancellation = budget.cancellation?.successor()
            }
            let request = request(from: start, limit: limit, size: bytes.count)
            // Only for a file read whole into the buffer: there the search's setup outweighs the
            // scan. A mapped one is searched in parallel chunks under the budget, which one
            // unbudgeted memmem over all of it would not be.
            if bytes.count <= Self.readLimit, searcher.cannotMatch(request, in: bytes) {
                let none = SearchOutcome(matches: [], count: 0, truncated: false, next: nil, bytesScanned: request.window.count)
                return .searched(size: bytes.count, outcome: none, rendered: RenderedMatches(), limit: limit)
            }
            do throws(SearchError) {
                let outcome = try searcher.search(request, in: bytes, budget: budget)
                var rendered = RenderedMatches()
                let path = outcome.matches.isEmpty ? [] : file.rootPathBytes
                for match in outcome.matches {
                    try rendering.append(match, path: path, bytes: bytes, to: &rendered.bytes)
                    rendered.ends.append(rendered.bytes.count)
                }
                return .searched(size: bytes.count, outcome: outcome, rendered: rendered, limit: limit)
            } catch .answerTooLarge {
                return .tooLarge(size: bytes.count)
            } catch {
                return error == .fileChanged ? .skipped : .failed(error)
            }
        }
        switch access {
        case .skipped: return .skipped
        case .binary: return .binary
        case .read(_, let result): return result
        }
    }

    /// The single-file request for `file` from `start` (clamped to its size).
    func request(from start: Int, limit: Int, size: Int) -> SearchRequest {
        var request = template
        request.limit = limit
        request.window = min(start, size)..<size
        return request
    }

    /// Runs `body` over the file's bytes: read into `buffer` when small, a pool lease when large.
    func withBytes<T>(of file: WalkedFile, buffer: ReadBuffer, _ body: (UnsafeRawBufferPointer) -> T) -> Access<T> {
        guard let fd = try? file.open() else { return .skipped }
        var status = stat()
        guard fstat(fd.rawValue, &status) == 0, status.st_mode & S_IFMT == S_IFREG else {
            try? fd.close()
            return .skipped
        }
        let size = Int(status.st_size)
        if size <= Self.readLimit {
            let count = buffer.read(fd, size: size)
            try? fd.close()
            guard let count else { return .skipped }
            let bytes = UnsafeRawBufferPointer(start: buffer.base, count: count)
            if binary == .skip, Self.looksBinary(bytes) { return .binary }
            return .read(size: count, body(bytes))
        }
        try? fd.close()
        guard let path = RelativePath(file.rootPath), let lease = try? pool.lease(path) else { return .skipped }
        let region = lease.region
        return withExtendedLifetime(region) { () -> Access<T> in
            let bytes = UnsafeRawBufferPointer(rebasing: region.bytes[0..<min(region.count, Int(lease.identity.size))])
            if binary == .skip {
                guard let probe = try? MemoryFaultGuard.run({ Self.looksBinary(bytes) }) else { return .skipped }
                if probe { return .binary }
            }
            return .read(size: bytes.count, body(bytes))
        }
    }

    /// A NUL among the first ``TreeSearchParameters/binaryProbeLength`` bytes.
    static func looksBinary(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let base = bytes.baseAddress else { return false }
        return memchr(base, 0, min(bytes.count, TreeSearchParameters.binaryProbeLength)) != nil
    }
}

/// A worker's buffer for small files, reused from file to file.
final class ReadBuffer: @unchecked Sendable {
    let base = UnsafeMutableRawPointer.allocate(byteCount: TreeFileSearch.readLimit, alignment: 64)

    deinit { base.deallocate() }

    /// Reads up to `size` bytes from the start of `fd`; nil on a read error.
    func read(_ fd: FileDescriptor, size: Int) -> Int? {
        var count = 0
        while count < size {
            // swift-system's pread, which reads again after an EINTR.
            let room = UnsafeMutableRawBufferPointer(start: base + count, count: size - count)
            guard let got = try? fd.read(fromAbsoluteOffset: Int64(count), into: room) else { return nil }
            if got == 0 { break }  // truncated since fstat: search what is there
            count += got
        }
        return count
    }
}

extension SearchBudget {
    /// The deadline has passed or the client left: nothing more should be begun.
    var isExhausted: Bool {
        if let cancellation, cancellation.level.value >= SearchCancellation.abandoned { return true }
        guard let deadline else { return false }
        return ContinuousClock.now >= deadline
    }
}
