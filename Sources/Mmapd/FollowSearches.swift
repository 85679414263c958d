import ByteSearch
import ConfinedPaths
import HTTPSemantics
import MappedFiles
import MicroHTTP

/// GET `/search/<path>?q=…&follow=true`: `tail -f | grep` (see ``FollowSearchStream``), always
/// NDJSON. Every line that ends after the request began is searched, the one incomplete at the
/// start included (whole, once it ends); `start=N` begins at byte N instead (a line start, such as
/// a summary's `next`). The same pattern limits and time budget as any search, counted among
/// the follow streams (`--max-followers`).
struct FollowSearches: Sendable {
    let followers: Followers
    let searcher: Searcher
    let indexes: LineIndexes
    let timeout: Duration

    func begin(_ request: Request, file: FileTarget, parameters: SearchParameters) -> Disposition {
        let search = SearchRequest(
            pattern: parameters.pattern, isRegex: parameters.isRegex, caseInsensitive: parameters.isCaseInsensitive,
            limit: 0, window: 0..<0, lineNumbers: parameters.lineNumbers)
        do {
            try searcher.validate(search)
        } catch {
            return .respond(Response.problem(error.problem))
        }
        guard let slot = followers.slots.reserve() else {
            return .respond(Response.problem(followers.slots.refusal, headers: [("Retry-After", "5")]))
        }
        let stream = FollowSearchStream(
            followers: followers, slot: slot,
            query: .init(
                searcher: searcher, request: search, rendering: MatchRendering(parameters), limit: parameters.limit, timeout: timeout))
        let (followers, indexes, timeout, path) = (self.followers, self.indexes, self.timeout, file.path)
        return .deferred {
            let registered: (file: FollowedFile, identity: FileIdentity)
            do throws(FollowRefusal) {
                registered = try followers.follow(path, by: stream)
            } catch {
                return Response.problem(error.problem)
            }
            let followed = registered.file
            let start: (offset: Int, line: Int)
            do throws(ProblemDetails) {
                start = try Self.start(
                    of: followed, identity: registered.identity, path: path, given: parameters.start,
                    numbered: parameters.lineNumbers, indexes: indexes, deadline: ContinuousClock.now + timeout)
            } catch {
                followers.leave(stream, file: followed)
                return Response.problem(error, headers: error.status == 503 ? [("Retry-After", "1")] : [])
            }
            let body = PulledBody(source: stream, stallAllowance: followers.slots.pace.stallTimeout)
            stream.start(followed, at: start.offset, line: start.line) { [weak body] in body?.wake() }
            return Response(
                status: 200,
                headers: [
                    ("Content-Type", "application/x-ndjson"), ("Cache-Control", "no-store"), ("X-Accel-Buffering", "no"),
                    (FileFollows.offsetHeader, String(start.offset))
                ], body: .pulled(body))
        }
    }

    /// Where the search starts (`given`, or the start of the line incomplete now) and that line's number.
    private static func start(
        of file: FollowedFile, identity: FileIdentity, path: RelativePath, given: Int64?, numbered: Bool,
        indexes: LineIndexes, deadline: ContinuousClock.Instant
    ) throws(ProblemDetails) -> (offset: Int, line: Int) {
        let region: MappedRegion
        do {
            region = try MappedRegion.reading(file.descriptor)
        } catch {
            throw error.problem
        }
        guard let end = file.stableEnd() else { throw SearchError.fileChanged.problem }
        let size = min(region.count, Int(clamping: end))
        let bytes = UnsafeRawBufferPointer(rebasing: region.bytes[0..<size])
        let indexed = LineIndexes.File(path: path, device: identity.device, inode: identity.inode)
        if let given, given > Int64(size) {
            throw .rangeNotSatisfiable("The start \(given) lies past the end of this \(size)-byte file.")
        }
        do throws(SearchError) {
            let offset: Int
            if let given {
                offset = Int(given)
            } else if size == 0 {
                offset = 0
            } else if try Self.endsWithNewline(bytes) {
                offset = size
            } else {
                offset = try indexes.tail(1, numbered: false, of: indexed, in: bytes)?.bytes.lowerBound ?? 0
            }
            let line = numbered ? try indexes.lineNumber(at: offset, of: indexed, in: bytes, deadline: deadline) : 1
            return (offset, line)
        } catch .budgetExceeded {
            throw .serviceUnavailable(
                "Counting this file's lines took longer than the time budget; what was counted is kept, so a retry gets further.")
        } catch {
            throw error.problem
        }
    }

    private static func endsWithNewline(_ bytes: UnsafeRawBufferPointer) throws(SearchError) -> Bool {
        do {
            return try MemoryFaultGuard.run { bytes[bytes.count - 1] == 0x0A }
        } catch {
            throw .fileChanged
        }
    }
}
