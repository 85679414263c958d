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
    /// Bodies of at least this many bytes go out with sendfile(2), smaller ones from the mapping;
    /// nil: every body from the mapping. See ``descriptorThreshold(configured:tls:)``.
    let sendfileThreshold: UInt64?

    /// The threshold in effect for `--sendfile-threshold` (0: never) with or without TLS.
    /// Benchmarks/README.md, "Body strategy", has the measurements behind the default of 0 (the
    /// mapping was faster at every size) and how to check them on another machine. With TLS there
    /// is no sendfile: libmicrohttpd would read the descriptor 4 KiB per call, and every body is
    /// copied from the mapping under the fault guard instead (MicroHTTP's `GuardedCopyReader`).
    static func descriptorThreshold(configured: Int, tls: Bool) -> UInt64? {
        guard !tls, configured > 0 else { return nil }
        return UInt64(configured)
    }

    func respond(to request: Request, file: FileTarget) -> Response {
        let lease: MappingPool.Lease
        do {
            lease = try pool.lease(file.path)
        } catch .isDirectory {
            return Response.redirectToDirectory(request)
        } catch {
            return Response.problem(for: error)
        }
        let size = lease.identity.size
        let cached = answers.entry(for: lease, generation: generations.current(lease.identity)) {
            MediaType.contentType(forFileName: String(file.path.lastSegment))
        }
        let validators = cached.validators
        let conditions = ConditionalHeaders(
            ifMatch: request.header("If-Match"), ifNoneMatch: request.header("If-None-Match"),
            ifModifiedSince: request.header("If-Modified-Since"), ifUnmodifiedSince: request.header("If-Unmodified-Since"),
            ifRange: request.header("If-Range"))
        let now = Int64(time(nil))
        switch ConditionalRequest.evaluate(conditions, isSafe: true, current: validators, now: now) {
        case .preconditionFailed:
            return Response.problem(
                .preconditionFailed("The file's current validators do not satisfy the request's preconditions."),
                headers: validators.headers)
        case .notModified:
            return prepared(cached.notModified, lease.region)
        case .proceed:
            break
        }
        let region = lease.region

        guard let rangeValue = request.header("Range"),
            ConditionalRequest.rangeApplies(ifRange: conditions.ifRange, current: validators, now: now)
        else {
            return whole(request, file, lease, cached)
        }
        let resolution: RangeResolution
        switch RangeHeader.parse(rangeValue) {
        case .ignored: resolution = .whole
        case .invalid: resolution = .unsatisfiable
        case .specs(let specs): resolution = RangeResolution.resolve(specs, size: size, maxRanges: maxRanges)
        }
        switch resolution {
        case .whole:
            return whole(request, file, lease, cached)
        case .unsatisfiable:
            return Response.problem(
                .rangeNotSatisfiable("The Range header '\(rangeValue.prefix(200))' selects no byte of this \(size)-byte file."),
                headers: cached.headers + [("Content-Range", ContentRange(unsatisfied: size).headerValue)])
        case .single(let range):
            return Response(
                status: 206, shared: cached.typedHeaders,
                headers: [("Content-Range", ContentRange(range: range, completeLength: size).headerValue)],
                body: sent(request, file, lease, offset: range.start, count: range.length) ?? .borrowed(slice(region, range), owner: region)
            )
        case .multiple(let ranges):
            let multipart = MultipartByteranges(
                ranges: ranges, size: size, contentType: cached.contentType,
                boundary: MultipartByteranges.makeBoundary())
            // The framing bound: merged parts never hold more than the file, but many tiny parts of
            // a small file could still make an answer several times its size (256 one-byte ranges
            // of a 1 KiB file: 30 KiB of part headers). The whole file is then the smaller answer.
            guard multipart.contentLength <= size else { return whole(request, file, lease, cached) }
            var pieces: [Response.Piece] = []
            pieces.reserveCapacity(ranges.count * 2 + 1)
            for (header, range) in zip(multipart.partHeaders, ranges) {
                pieces.append(.bytes(header))
                pieces.append(.borrowed(slice(region, range)))
            }
            pieces.append(.bytes(multipart.closing))
            return Response(
                status: 206, headers: cached.headers + [("Content-Type", multipart.contentTypeHeader)],
                body: .pieces(pieces, owner: region))
        }
    }

    /// The whole file: the prepared answer, or a body at the sendfile threshold through sendfile.
    private func whole(
        _ request: Request, _ file: FileTarget, _ lease: MappingPool.Lease,
        _ cached: WholeFileAnswers.Entry
    ) -> Response {
        guard let body = sent(request, file, lease, offset: 0, count: lease.identity.size) else { return prepared(cached.ok, lease.region) }
        return Response(status: 200, shared: cached.typedHeaders, body: body)
    }

    /// `count` bytes from `offset` as a sendfile body when that is large enough and is to be sent
    /// at all (HEAD sends none); nil to send them from the mapping instead, also when the path no
    /// longer shows the leased file.
    private func sent(
        _ request: Request, _ file: FileTarget, _ lease: MappingPool.Lease,
        offset: UInt64, count: UInt64
    ) -> Response.Body? {
        guard let sendfileThreshold, count >= sendfileThreshold, request.method != .head,
            let descriptor = pool.descriptor(file.path, showing: lease)
        else { return nil }
        // Handed over to libmicrohttpd, which closes it once the answer is sent.
        return .file(OpenFile(descriptor: descriptor.rawValue), offset: offset, count: Int(count))
    }

    /// A whole-file answer made once per file version; a 503 in the unlikely case libmicrohttpd
    /// could not allocate it.
    private func prepared(_ answer: PreparedResponse?, _ region: MappedRegion) -> Response {
        guard let answer else { return Response.problem(.serviceUnavailable("Out of memory for the answer; retry the request.")) }
        return Response(prepared: answer, owner: region)
    }

    private func slice(_ region: MappedRegion, _ range: ByteRange) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: region.bytes[Int(range.start)..<Int(range.end)])
    }
}
