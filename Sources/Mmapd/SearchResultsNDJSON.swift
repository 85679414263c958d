import ByteSearch
import Dispatch
import HTTPSemantics
import MicroHTTP

/// `Accept: application/x-ndjson`: one match object per line as the scan finds them, then one
/// summary line `{"count", "truncated", "next"}` (or `{"error": {problem}}` if the search fails
/// after the answer has begun). Memory stays bounded by the pipe, whatever the number of matches.
enum SearchResultsNDJSON {
    /// Producers block when the client reads slowly, so they get their own queue.
    private static let producers = DispatchQueue(label: "mmapd.search.ndjson", attributes: .concurrent)

    /// `slot` is held until the producer is done, and given back before the last byte is. The
    /// client's departure (libmicrohttpd freeing the response) abandons the search at once, even
    /// inside one long regex call.
    static func response(
        searcher: Searcher, search: SearchRequest, bytes: UnsafeRawBufferPointer, owner: AnyObject,
        budget: SearchBudget, pace: ReaderPace, slot: StreamSlots.Slot,
        metrics: ServiceMetrics, rendering: MatchRendering = .plain,
        headers: [(name: String, value: String)] = []
    ) -> Response {
        let cancellation = budget.cancellation
        let body = StreamingBody(pace: pace, onCancel: { cancellation?.abandon() })
        let source = Borrowed(bytes: bytes, owner: owner)
        producers.async {
            produce(
                into: body, searcher: searcher, search: search, source: source, budget: budget, metrics: metrics,
                rendering: rendering, slot: slot)
        }
        return Response(status: 200, headers: [("Content-Type", "application/x-ndjson")] + headers, body: .stream(body))
    }

    private static func produce(
        into body: StreamingBody, searcher: Searcher, search: SearchRequest, source: Borrowed,
        budget: SearchBudget, metrics: ServiceMetrics, rendering: MatchRendering,
        slot: StreamSlots.Slot
    ) {
        defer {
            slot.release()
            body.finish()
        }
        let bytes = source.bytes
        var failure: SearchError?
        do throws(SearchError) {
            let summary = try searcher.stream(search, in: bytes, budget: budget) { batch in
                var out: [UInt8] = []
                do throws(SearchError) {
                    for match in batch {
                        try rendering.append(match, bytes: bytes, to: &out)
                        out.append(UInt8(ascii: "\n"))
                        if out.count >= MatchRendering.streamPieceBytes {
                            guard body.write(out) else { return false }
                            out.removeAll(keepingCapacity: true)
                        }
                    }
                } catch {
                    failure = error
                    return false
                }
                return body.write(out)
            }
            metrics.searchBytes.increment(by: Int64(summary.bytesScanned))
            if let failure { throw failure }
            body.write(Self.summary(count: summary.count, truncated: summary.truncated, next: summary.next))
        } catch {
            body.write(Array(#"{"error":"#.utf8) + error.problem.json + Array("}\n".utf8))
        }
        withExtendedLifetime(source.owner) {}
    }

    /// The closing line: `{"count", "truncated", "next"}`.
    static func summary(count: Int?, truncated: Bool, next: Int?) -> [UInt8] {
        let json = SearchResultsJSON.json
        return Array(#"{"count":\#(json(count)),"truncated":\#(truncated),"next":\#(json(next))}"#.utf8) + [10]
    }

    /// A view of mapped bytes with the object that keeps them mapped, handed to the producer.
    private struct Borrowed: @unchecked Sendable {
        let bytes: UnsafeRawBufferPointer
        let owner: AnyObject
    }
}
