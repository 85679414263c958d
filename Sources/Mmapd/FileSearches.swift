import ByteSearch
import Glibc
import HTTPSemantics
import MappedFiles
import MicroHTTP

/// GET `/search/<path>`: literal or PCRE2 search over the file's read-only mapping.
///
/// Everything a client can get wrong is answered before the file is touched (parameters, pattern
/// compile errors: 400). The scan itself runs off the network threads with the connection
/// suspended, so a search over gigabytes never stalls other clients; it is bounded by a time
/// budget and PCRE2's match limits, and a file truncated under it becomes a 409, not a crash.
struct FileSearches: Sendable {
    let pool: MappingPool
    let searcher: Searcher
    let maxResults: Int
    /// The most bytes of one JSON answer (`--max-search-answer-bytes`).
    let maxAnswerBytes: Int
    let timeout: Duration
    let metrics: ServiceMetrics
    /// The write generations behind the ETag a search answer names.
    let generations: WriteGenerations
    /// Most files one tree search opens.
    let maxFiles: Int
    let streams: StreamSlots
    /// `follow=true`: `tail -f | grep`.
    let follows: FollowSearches

    func begin(_ request: Request, file: FileTarget, query: String?) -> Disposition {
        guard !file.isDirectory else {
            return TreeSearches(searches: self).begin(request, directory: file.path, query: query)
        }
        let ndjson = request.header("Accept")?.contains("application/x-ndjson") == true
        let parameters: SearchParameters
        do {
            // A stream holds only a pipe's worth of results, so its limit is the time budget's.
            parameters = try SearchParameters(QueryParameters(parsing: query), maximumLimit: ndjson ? Int.max : maxResults)
        } catch {
            return .respond(Response.problem(error))
        }
        if parameters.isFollow { return follows.begin(request, file: file, parameters: parameters) }
        var search = SearchRequest(
            pattern: parameters.pattern, isRegex: parameters.isRegex, caseInsensitive: parameters.isCaseInsensitive,
            reverse: parameters.isReverse, limit: parameters.limit, window: 0..<0, lineNumbers: parameters.lineNumbers)
        // A JSON answer is built whole, so its size is bounded; a stream sends as it renders.
        let rendering = MatchRendering(parameters, answerLimit: ndjson ? .max : maxAnswerBytes)
        do {
            try searcher.validate(search)
        } catch {
            return .respond(Response.problem(for: error))
        }
        let lease: MappingPool.Lease
        do {
            lease = try pool.lease(file.path)
        } catch .isDirectory {
            return .respond(Response.redirectToDirectory(request))
        } catch {
            return .respond(Response.problem(for: error))
        }
        // The answer names the version it searched; a stale If-Match is refused before the scan.
        let validators = Validators(lease.identity, generation: generations.current(lease.identity))
        let conditions = ConditionalHeaders(
            ifMatch: request.header("If-Match"), ifNoneMatch: nil, ifModifiedSince: nil,
            ifUnmodifiedSince: request.header("If-Unmodified-Since"), ifRange: nil)
        if case .preconditionFailed = ConditionalRequest.evaluate(conditions, isSafe: true, current: validators, now: Int64(time(nil))) {
            return .respond(
                Response.problem(
                    .preconditionFailed("The file is no longer the version the If-Match header names; search it again without it."),
                    headers: validators.headers))
        }
        let versionHeaders: [(name: String, value: String)] = [("ETag", validators.etag.headerValue)]
        // The stat of this lease is what the answer describes, even if the file grew since it was mapped.
        let size = min(lease.region.count, Int(lease.identity.size))
        let path = file.path.string
        // A window that starts after its end holds nothing, not even the empty match a regex
        // would find at its start (Python: finditer(data, 2, 1) finds nothing).
        guard let window = SearchWindow.resolveOrNil(start: parameters.start, end: parameters.end, size: size) else {
            let nothing = SearchOutcome(matches: [], count: 0, truncated: false, next: nil, bytesScanned: 0)
            if ndjson {
                return .respond(
                    Response(
                        status: 200, headers: [("Content-Type", "application/x-ndjson")] + versionHeaders,
                        body: .bytes(SearchResultsNDJSON.summary(count: 0, truncated: false, next: nil))))
            }
            do {
                // No matches: no line is read from the (empty) buffer.
                return .respond(
                    Response.json(
                        try SearchResultsJSON.encode(
                            path: path, size: size, outcome: nothing, searcher: searcher,
                            bytes: UnsafeRawBufferPointer(start: nil, count: 0)),
                        headers: versionHeaders))
            } catch {
                return .respond(Response.problem(for: error))
            }
        }
        search.window = window
        let (searcher, timeout, metrics, region, query) = (self.searcher, self.timeout, self.metrics, lease.region, search)
        // A stream holds its slot until its producer is done (the slot frees itself when released).
        let slot = ndjson ? streams.reserve() : nil
        if ndjson, slot == nil {
            return .respond(Response.problem(streams.refusal, headers: [("Retry-After", "1")]))
        }
        // A client that leaves stops the search: the probe sees a closed socket while the
        // connection is suspended (the JSON answer, a stream waiting for matches); a stream's
        // release by libmicrohttpd stops it too (SearchResultsNDJSON).
        let cancellation = SearchCancellation(isGone: request.departureProbe())
        let pace = streams.pace
        return .deferred {
            withExtendedLifetime(region) {
                let (bytes, search) = (UnsafeRawBufferPointer(rebasing: region.bytes[0..<size]), query)
                let started = ContinuousClock.now
                defer { metrics.searchDuration.record(ContinuousClock.now - started) }
                do throws(SearchError) {
                    let budget = SearchBudget(timeout: timeout, cancellation: cancellation)
                    if let slot {
                        return SearchResultsNDJSON.response(
                            searcher: searcher, search: search, bytes: bytes, owner: region,
                            budget: budget, pace: pace, slot: slot, metrics: metrics,
                            rendering: rendering, headers: versionHeaders)
                    }
                    let outcome = try searcher.search(search, in: bytes, budget: budget)
                    metrics.searchBytes.increment(by: Int64(outcome.bytesScanned))
                    return Response.json(
                        try SearchResultsJSON.encode(
                            path: path, size: bytes.count, outcome: outcome,
                            searcher: searcher, bytes: bytes, rendering: rendering),
                        headers: versionHeaders)
                } catch {
                    return Response.problem(for: error)
                }
            }
        }
    }
}
