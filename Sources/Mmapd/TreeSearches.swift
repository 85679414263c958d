import ByteSearch
import ConfinedPaths
import Dispatch
import HTTPSemantics
import MappedFiles
import MicroHTTP

/// GET `/search/<dir>/`: every regular file below a directory, searched as one file would be, in
/// a fixed walk order (see ``TreeWalk`` and ``TreeSearchRun``).
///
/// Parameters are checked before anything is touched (400); the walk and the searches run off
/// the network threads (the connection suspended, or an NDJSON producer), at background
/// priority, within the search time budget and a maximum of files, either of which cuts the
/// answer short with a cursor to continue from.
struct TreeSearches: Sendable {
    /// The single-file search's pool, searcher, limits and metrics: a tree search shares them.
    let searches: FileSearches

    func begin(_ request: Request, directory: RelativePath, query: String?) -> Disposition {
        let (pool, searcher, metrics, timeout) = (searches.pool, searches.searcher, searches.metrics, searches.timeout)
        let ndjson = request.header("Accept")?.contains("application/x-ndjson") == true
        let parameters: TreeSearchParameters
        do {
            parameters = try TreeSearchParameters(
                QueryParameters(parsing: query), directory: directory.string,
                maximumLimit: ndjson ? Int.max : searches.maxResults, maximumPatternBytes: searcher.configuration.maxPatternLength)
        } catch {
            return .respond(Response.problem(error))
        }
        let search = parameters.search
        let template = SearchRequest(
            pattern: search.pattern, isRegex: search.isRegex, caseInsensitive: search.isCaseInsensitive,
            limit: search.limit, window: 0..<0, lineNumbers: search.lineNumbers)
        do {
            try searcher.validate(template)
        } catch {
            return .respond(Response.problem(for: error))
        }
        // One cancellation for the whole tree: its deadline and its client's departure stop every
        // file's search (see SearchCancellation); a stream holds a slot of --max-search-streams.
        let slot = ndjson ? searches.streams.reserve() : nil
        if ndjson, slot == nil {
            return .respond(Response.problem(searches.streams.refusal, headers: [("Retry-After", "1")]))
        }
        let cancellation = SearchCancellation(isGone: request.departureProbe())
        // A worker holds one file's rendered page in memory, JSON or stream: it is bounded like an answer.
        let rendering = MatchRendering(search, answerLimit: searches.maxAnswerBytes)
        let files = TreeFileSearch(
            searcher: searcher, pool: pool, template: template, rendering: rendering,
            binary: parameters.binary, budget: SearchBudget(timeout: timeout, cancellation: cancellation))
        let run = Preparation(
            pool: pool, directory: directory, parameters: parameters, files: files, maxFiles: searches.maxFiles,
            metrics: metrics, slot: slot, pace: searches.streams.pace)
        return .deferred {
            ndjson ? run.streamed() : run.answered()
        }
    }

    /// Everything a deferred tree search needs.
    private struct Preparation: Sendable {
        let pool: MappingPool
        let directory: RelativePath
        let parameters: TreeSearchParameters
        let files: TreeFileSearch
        let maxFiles: Int
        let metrics: ServiceMetrics
        let slot: StreamSlots.Slot?
        let pace: ReaderPace

        var shownPath: String { directory.string.isEmpty ? "/" : directory.string + "/" }

        func walk() throws(FileAccessError) -> TreeWalk {
            let filter = parameters.filter
            return try TreeWalk(
                root: pool.root, directory: directory.string,
                options: .init(
                    hidden: parameters.hidden, includesFile: { filter.includesFile($0) }, walksDirectory: { filter.walksDirectory($0) }))
        }

        func run(sink: @escaping TreeSearchRun.Sink, streamer: TreeSearchRun.Streamer? = nil) throws(FileAccessError) -> TreeSearchRun {
            TreeSearchRun(
                walk: try walk(), files: files, cursor: parameters.cursor, fingerprint: parameters.fingerprint,
                limit: parameters.search.limit, maxFiles: maxFiles, concurrency: files.searcher.configuration.concurrency,
                sink: sink, streamer: streamer)
        }

        /// The JSON answer, built whole (its matches are bounded by the result limit).
        func answered() -> Response {
            let started = ContinuousClock.now
            defer { metrics.searchDuration.record(ContinuousClock.now - started) }
            let collector = MatchCollector(limit: files.rendering.answerLimit)
            let summary: TreeSearchRun.Summary
            do {
                summary = try run { rendered, count in collector.append(rendered, count) }.run()
            } catch let error as FileAccessError {
                return Response.problem(for: error)
            } catch let error as SearchError {
                return Response.problem(for: error)
            } catch {
                return Response.problem(.internalServerError("The search failed."))
            }
            metrics.searchBytes.increment(by: Int64(summary.bytesScanned))
            if collector.isFull { return Response.problem(SearchError.answerTooLarge(limit: collector.limit).problem) }
            return Response.json(TreeSearchJSON.answer(path: shownPath, summary: summary, matches: collector.bytes))
        }

        /// The NDJSON answer: match lines as files are merged, then the summary line.
        func streamed() -> Response {
            let cancellation = files.budget.cancellation
            let body = StreamingBody(pace: pace, onCancel: { cancellation?.abandon() })
            let search: TreeSearchRun
            do {
                search = try run(
                    sink: { rendered, count in
                        var out: [UInt8] = []
                        for index in 0..<count {
                            out += rendered.match(index)
                            out.append(UInt8(ascii: "\n"))
                        }
                        return body.write(out)
                    },
                    streamer: { file, start, limit, buffer throws(SearchError) in
                        try stream(file, from: start, limit: limit, buffer: buffer, into: body)
                    })
            } catch {
                return Response.problem(for: error)
            }
            TreeSearches.producers.async {
                let started = ContinuousClock.now
                defer {
                    metrics.searchDuration.record(ContinuousClock.now - started)
                    slot?.release()  // before the end reaches the client (StreamSlots.Slot.release)
                    body.finish()
                }
                do throws(SearchError) {
                    let summary = try search.run()
                    metrics.searchBytes.increment(by: Int64(summary.bytesScanned))
                    if !summary.abandoned { body.write(TreeSearchJSON.summary(path: shownPath, summary: summary) + [10]) }
                } catch {
                    body.write(Array(#"{"error":"#.utf8) + error.problem.json + Array("}\n".utf8))
                }
            }
            return Response(status: 200, headers: [("Content-Type", "application/x-ndjson")], body: .stream(body))
        }

        /// One file's matches streamed into `body` (nil when the client left).
        private func stream(
            _ file: WalkedFile, from start: Int, limit: Int, buffer: ReadBuffer,
            into body: StreamingBody
        ) throws(SearchError) -> StreamSummary? {
            var failure: SearchError?
            var left = false
            // Streamed matches are sent as they are rendered: no answer bound applies to them.
            var streaming = files.rendering
            streaming.answerLimit = .max
            let path = file.rootPathBytes
            let access = files.withBytes(of: file, buffer: buffer) { bytes -> StreamSummary? in
                do throws(SearchError) {
                    let request = files.request(from: start, limit: limit, size: bytes.count)
                    return try files.searcher.stream(request, in: bytes, budget: files.budget) { batch in
                        var out: [UInt8] = []
                        do throws(SearchError) {
                            for match in batch {
                                try streaming.append(match, path: path, bytes: bytes, to: &out)
                                out.append(UInt8(ascii: "\n"))
                                if out.count >= MatchRendering.streamPieceBytes {
                                    guard body.write(out) else {
                                        left = true
                                        return false
                                    }
                                    out.removeAll(keepingCapacity: true)
                                }
                            }
                        } catch {
                            failure = error
                            return false
                        }
                        if body.write(out) { return true }
                        left = true
                        return false
                    }
                } catch {
                    failure = error
                    return nil
                }
            }
            if let failure { throw failure }
            guard case .read(_, let summary) = access else { throw .fileChanged }
            return left ? nil : summary
        }
    }

    /// NDJSON producers block while the client reads slowly, so they get their own queue.
    private static let producers = DispatchQueue(label: "mmapd.search.tree.ndjson", attributes: .concurrent)
}

/// The match objects of a JSON answer, comma-separated as they arrive from the run's sink (on
/// the coordinating thread), at most `limit` bytes of them.
private final class MatchCollector {
    let limit: Int
    private(set) var bytes: [UInt8] = []
    /// More matches came than `limit` bytes hold: the run was stopped, the answer is a 422.
    private(set) var isFull = false

    init(limit: Int) { self.limit = limit }

    /// false (stop the run) once the matches would exceed the limit.
    func append(_ rendered: TreeFileSearch.RenderedMatches, _ count: Int) -> Bool {
        for index in 0..<count {
            let match = rendered.match(index)
            guard bytes.count + 1 + match.count <= limit else {
                isFull = true
                return false
            }
            if !bytes.isEmpty { bytes.append(UInt8(ascii: ",")) }
            bytes += match
        }
        return true
    }
}
