import ByteSearch
import Glibc
import HTTPSemantics
import MappedFiles
import MicroHTTP

/// GET and HEAD on `/files/<path>?lines=…`: lines by number (`sed -n 'A,Bp'`) or the last lines
/// (`tail -n N`), the body borrowed from the file's mapping.
///
/// The view is its own representation: an ETag derived from the file's and the selection,
/// conditionals evaluated against it, `Range` ignored, and two headers saying what was served
/// (`Mmapd-Lines: A-B`, `Mmapd-Byte-Span: a-b/len`) so a client can go on with byte ranges.
/// Finding the lines may count newlines (once per file version, through the line index), so it
/// runs off the network threads within the search time budget.
struct FileLines: Sendable {
    let pool: MappingPool
    let generations: WriteGenerations
    let indexes: LineIndexes
    let timeout: Duration

    func begin(_ request: Request, file: FileTarget, selection: LineSelection, numbered: Bool) -> Disposition {
        let lease: MappingPool.Lease
        do {
            lease = try pool.lease(file.path)
        } catch {
            return .respond(Response.problem(for: error))
        }
        let identity = lease.identity
        let fileValidators = Validators(identity, generation: generations.current(identity))
        let validators = Validators(etag: selection.entityTag(of: fileValidators.etag), lastModified: fileValidators.lastModified)
        let conditions = ConditionalHeaders(
            ifMatch: request.header("If-Match"), ifNoneMatch: request.header("If-None-Match"),
            ifModifiedSince: request.header("If-Modified-Since"), ifUnmodifiedSince: request.header("If-Unmodified-Since"))
        switch ConditionalRequest.evaluate(conditions, isSafe: true, current: validators, now: Int64(time(nil))) {
        case .preconditionFailed:
            return .respond(
                Response.problem(
                    .preconditionFailed("This view's current validators do not satisfy the request's preconditions."),
                    headers: validators.headers))
        case .notModified:
            return .respond(Response(status: 304, headers: validators.headers))
        case .proceed:
            break
        }
        let contentType = MediaType.contentType(forFileName: String(file.path.lastSegment))
        let region = lease.region
        let size = min(region.count, Int(clamping: identity.size))
        let indexed = LineIndexes.File(path: file.path, device: identity.device, inode: identity.inode)
        let (indexes, timeout) = (self.indexes, self.timeout)
        return .deferred {
            let bytes = UnsafeRawBufferPointer(rebasing: region.bytes[0..<size])
            let deadline = ContinuousClock.now + timeout
            let span: LineIndexes.Span?
            do throws(SearchError) {
                switch selection {
                case .range(let first, let last):
                    span = try indexes.span(first: first, last: last, of: indexed, in: bytes, deadline: deadline)
                case .last(let count):
                    span = try indexes.tail(count, numbered: numbered, of: indexed, in: bytes, deadline: deadline)
                }
            } catch .budgetExceeded {
                return Response.problem(
                    .serviceUnavailable(
                        "Counting this file's lines took longer than the time budget; what was counted is kept, so a retry gets further."),
                    headers: [("Retry-After", "1")])
            } catch {
                return Response.problem(for: error)
            }
            let served = ServedLines(lines: span?.lines, bytes: span?.bytes ?? size..<size, fileSize: size)
            // The lines view answers whole, never in ranges (Range is ignored), and says so.
            let headers = [("Content-Type", contentType), ("Accept-Ranges", "none")] + validators.headers + served.headers
            guard let span, !span.bytes.isEmpty else { return Response(status: 200, headers: headers) }
            return Response(
                status: 200, headers: headers,
                body: .borrowed(UnsafeRawBufferPointer(rebasing: bytes[span.bytes]), owner: region))
        }
    }
}
