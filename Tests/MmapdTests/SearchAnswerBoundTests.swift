import Foundation
import Mmapd
import Testing

/// The size of a JSON search answer is bounded (`--max-search-answer-bytes`). A match carries its
/// line (up to a 4 KiB window) and up to 100 lines of context on each side, so `limit=10000` with
/// `before=100&after=100` on a file of long lines built gigabytes in memory for one request, and
/// went on building after the client left (found in the issue-16 audit: 1.2 MB of 4,000-byte
/// lines, `limit=2000`, RSS rising past 500 MB in a debug build). NDJSON streams are sent as
/// they are rendered and keep any size.
@Suite struct SearchAnswerBoundTests {
    /// 300 lines of 1,000 `a`: every byte matches `q=a`, every line is long.
    static let longLines = Array((String(repeating: "a", count: 1000) + "\n").utf8) * 300

    static func server(limit: Int = 1 << 16) throws -> TestServer {
        try TestServer(
            configure: { $0.maxSearchAnswerBytes = limit },
            files: ["long.txt": longLines, "tree/one.txt": longLines, "tree/two.txt": longLines])
    }

    @Test("A JSON answer larger than the bound is a 422 that says how to get the matches")
    func anOversizedAnswerIs422() throws {
        let server = try Self.server()
        for target in [
            "/search/long.txt?q=a&limit=1000&before=10&after=10", "/search/long.txt?q=a&limit=1000",
            "/search/tree/?q=a&limit=1000&before=10&after=10", "/search/tree/?q=a&limit=1000"
        ] {
            let response = try server.request("GET", target)
            #expect(response.status == 422, "\(target): \(response.status)")
            #expect(response.header("Content-Type") == "application/problem+json", "\(target)")
            #expect(response.text.contains("--max-search-answer-bytes"), "\(target): \(response.text)")
        }
    }

    @Test("Answers within the bound are unchanged")
    func answersWithinTheBoundAreServed() throws {
        let server = try Self.server()
        let one = try server.request("GET", "/search/long.txt?q=a&limit=2&before=10&after=10")
        #expect(one.status == 200)
        let matches = one.json["matches"] as? [[String: Any]] ?? []
        #expect(matches.count == 2)
        #expect((matches.first?["after"] as? [String])?.count == 10)
        let tree = try server.request("GET", "/search/tree/?q=a&limit=2&before=3")
        #expect(tree.status == 200)
        #expect((tree.json["matches"] as? [[String: Any]])?.count == 2)
    }

    /// A stream is not built whole: the same search that is too large as JSON streams in full.
    @Test func ndjsonStreamsWhatJSONCannotHold() throws {
        let server = try Self.server()
        for target in ["/search/long.txt?q=a&limit=300&after=5", "/search/tree/?q=a&limit=300&after=5"] {
            let response = try server.request("GET", target, headers: [("Accept", "application/x-ndjson")])
            #expect(response.status == 200)
            let lines = response.text.split(separator: "\n")
            #expect(lines.count == 301, "\(target): \(lines.count) lines")
            #expect(response.body.count > 1 << 16, "\(target)")
            #expect(lines.last?.contains("\"error\"") == false, "\(target): \(lines.last ?? "")")
        }
    }

    /// The default bound leaves ordinary answers alone: the full default limit of matches with
    /// context on this file is well within 64 MiB.
    @Test func theDefaultBoundAllowsOrdinaryAnswers() throws {
        let server = try TestServer(files: ["long.txt": Self.longLines])
        let response = try server.request("GET", "/search/long.txt?q=a&limit=100&before=2&after=2")
        #expect(response.status == 200)
        #expect((response.json["matches"] as? [[String: Any]])?.count == 100)
    }
}

private func * (bytes: [UInt8], count: Int) -> [UInt8] {
    Array([[UInt8]](repeating: bytes, count: count).joined())
}
