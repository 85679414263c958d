import Glibc
import HTTPSemantics
import MappedFiles
import MicroHTTP

/// GET and HEAD on `/files/<path>`: conditionals, ranges, zero-copy bodies from the pool.
///
/// The HTTP rules live in `HTTPSemantics` (pure and unit-tested); this type only joins them to a
/// leased mapping and turns the outcome into a response whose body borrows the mapping.
struct FileReads: Sendable {
    let pool: MappingPool
    let generations: WriteGenerations
    let answers: WholeFileAnswers
    let maxRanges: Int
    let listings: Bool

    func respond(to request: Request, file: FileTarget) -> Response {
        if file.isDirectory { return listing(file.path) }
        let lease: MappingPool.Lease
        do {
            lease = try pool.lease(file.path.string)
        } catch .isDirectory {
            return redirectToDirectory(request)
        } catch {
            return Responses.problem(error.problem)
        }
        let size = lease.identity.size
        let cached = answers.entry(for: lease, generation: generations.current(lease.identity)) {
            MediaType.contentType(forFileName: file.path.segments.last ?? "")
        }
        let validators = cached.validators
        let conditions = ConditionalHeaders(
            ifMatch: request.header("If-Match"), ifNoneMatch: request.header("If-None-Match"),
            ifModifiedSince: request.header("If-Modified-Since"), ifUnmodifiedSince: request.header("If-Unmodified-Since"),
            ifRange: request.header("If-Range"))
        let now = Int64(time(nil))
        switch ConditionalRequest.evaluate(conditions, isSafe: true, current: validators, now: now) {
        case .preconditionFailed:
            return Responses.problem(.preconditionFailed("The file's current validators do not satisfy the request's preconditions."),
                                     headers: validators.headers)
        case .notModified:
            return prepared(cached.notModified, lease.region)
        case .proceed:
            break
        }
        let contentType = cached.contentType
        let headers = cached.headers
        let region = lease.region

        guard let rangeValue = request.header("Range"),
              ConditionalRequest.rangeApplies(ifRange: conditions.ifRange, current: validators, now: now) else {
            return prepared(cached.ok, region)
        }
        let resolution: RangeResolution
        switch RangeHeader.parse(rangeValue) {
        case .ignored: resolution = .whole
        case .invalid: resolution = .unsatisfiable
        case .specs(let specs): resolution = RangeResolution.resolve(specs, size: size, maxRanges: maxRanges)
        }
        switch resolution {
        case .whole:
            return prepared(cached.ok, region)
        case .unsatisfiable:
            return Responses.problem(
                .rangeNotSatisfiable("The Range header '\(rangeValue.prefix(200))' selects no byte of this \(size)-byte file."),
                headers: headers + [("Content-Range", ContentRange(unsatisfied: size).headerValue)])
        case .single(let range):
            return Response(
                status: 206,
                headers: headers + [("Content-Type", contentType),
                                    ("Content-Range", ContentRange(range: range, completeLength: size).headerValue)],
                body: .borrowed(slice(region, range), owner: region))
        case .multiple(let ranges):
            let multipart = MultipartByteranges(ranges: ranges, size: size, contentType: contentType,
                                                boundary: MultipartByteranges.makeBoundary())
            var pieces: [Response.Piece] = []
            pieces.reserveCapacity(ranges.count * 2 + 1)
            for (header, range) in zip(multipart.partHeaders, ranges) {
                pieces.append(.bytes(header))
                pieces.append(.borrowed(slice(region, range)))
            }
            pieces.append(.bytes(multipart.closing))
            return Response(status: 206, headers: headers + [("Content-Type", multipart.contentTypeHeader)],
                            body: .pieces(pieces, owner: region))
        }
    }

    /// A whole-file answer made once per file version; a 503 in the unlikely case libmicrohttpd
    /// could not allocate it.
    private func prepared(_ answer: PreparedResponse?, _ region: MappedRegion) -> Response {
        guard let answer else { return Responses.problem(.serviceUnavailable("Out of memory for the answer; retry the request.")) }
        return Response(prepared: answer, owner: region)
    }

    private func slice(_ region: MappedRegion, _ range: ByteRange) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: region.bytes[Int(range.start)..<Int(range.end)])
    }

    private func redirectToDirectory(_ request: Request) -> Response {
        let target = request.target
        let path = target.prefix { $0 != "?" }
        let query = target.dropFirst(path.count)
        return Response(status: 301, headers: [("Location", path + "/" + query)])
    }

    private func listing(_ path: RelativePath) -> Response {
        guard listings else { return Responses.problem(.notFound()) }
        do {
            let entries = try pool.root.list(path.string)
            return Responses.json(DirectoryListingJSON.encode(path: path.string, entries: entries))
        } catch {
            return Responses.problem(error.problem)
        }
    }
}

extension FileAccessError {
    /// The answer for a file that cannot be read or written. System errors are reported
    /// without paths.
    var problem: ProblemDetails {
        switch self {
        case .notFound, .isDirectory: .notFound()
        case .notWritable: .forbidden("The file is not writable.")
        case .noSpace: .insufficientStorage("No space left for this write; nothing was changed.")
        case .changedWhileReading: .serviceUnavailable("The file changed while it was being read; retry the request.")
        case .system(let errno): .internalServerError("The file could not be read (\(errno)).")
        }
    }
}
