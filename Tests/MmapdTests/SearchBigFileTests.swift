import Foundation
import Glibc
import Testing

@testable import Mmapd

extension SearchTests {
    /// Searches over big files: other clients while a long search runs, truncation under a search,
    /// budgets on real scans, and NDJSON with a million matches. One at a time: each one alone
    /// keeps both cores busy and hundreds of megabytes in the page cache.
    @Suite(.serialized) struct BigFiles {
        /// Python that writes argv[2] copies of one 1 MiB text block to argv[1] and prints how many
        /// matches `re.finditer(argv[3])` has in one block. The block ends with "\n!\n", so no
        /// match of the patterns used here crosses from one copy to the next: the file's count is
        /// copies × the block's.
        static let blockFileGenerator = #"""
            import random, re, sys
            path, copies, pattern = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode()
            r = random.Random(7)
            words = [bytes(r.choice(b'abcdefghijklmnopqrstuvwxyzABCDE') for _ in range(r.randint(1, 9))) for _ in range(5000)]
            out = bytearray()
            while len(out) < (1 << 20):
                out += b' '.join(r.choice(words) for _ in range(r.randint(3, 15))) + b'\n'
            block = bytes(out[:(1 << 20) - 3]) + b'\n!\n'
            assert len(block) == 1 << 20
            with open(path, 'wb') as f:
                for _ in range(copies):
                    f.write(block)
            print(sum(1 for _ in re.finditer(pattern, block)))
            """#

        /// Writes `copies` MiB of text to `path`; returns the number of `pattern` matches per MiB.
        static func writeBlocks(_ path: String, copies: Int, pattern: String) throws -> Int {
            let count = try PythonReference.evaluate(blockFileGenerator, [path, "\(copies)", pattern]) as? Int
            return try #require(count)
        }

        /// A backreference: PCRE2 cannot skip ahead, so a scan of 256 MiB takes seconds.
        static let slowPattern = #"(\w+)\s+\1"#

        /// A file truncated while it is searched: the answer is 200 (the search won the race) or a
        /// 409 problem+json (JSON) / an error line (NDJSON), never a crash; the server goes on.
        @Test func truncationDuringASearchIsAConflictNotACrash() throws {
            let server = try TestServer(configure: {
                $0.searchTimeoutMilliseconds = 600_000
                $0.connectionTimeout = 600
            })
            var outcomes: [String] = []
            for round in 0..<4 {
                let name = "shrinking-\(round).txt"
                let path = server.path(name)
                _ = try Self.writeBlocks(path, copies: 64, pattern: "x")
                let ndjson = round % 2 == 1
                let query =
                    ndjson ? SearchQuery(#"\w+"#, regex: true, limit: 100_000_000) : SearchQuery(Self.slowPattern, regex: true, limit: 0)
                let client = try RawHTTPClient(port: server.port, timeoutSeconds: 600)
                try client.send(query.target(name), headers: ndjson ? [("Accept", "application/x-ndjson")] : [])
                // Right after the lease: the in-process server has mapped the file.
                #expect(eventually { isMappedInThisProcess(path) }, "the search never mapped \(path)")
                #expect(truncate(path, 4096) == 0)
                try client.readHead()
                if ndjson {
                    #expect(client.status == 200)
                    var last: [UInt8] = []
                    try client.forEachLine { line in
                        last = Array(line)
                        return true
                    }
                    let summary = (try? JSONSerialization.jsonObject(with: Data(last))) as? [String: Any] ?? [:]
                    if let error = summary["error"] as? [String: Any] {
                        #expect(error["status"] as? Int == 409, "\(summary)")
                        #expect(error["detail"] is String)
                        outcomes.append("NDJSON error line 409")
                    } else {
                        #expect(summary["count"] is Int, "the last line is a summary or an error: \(String(decoding: last, as: UTF8.self))")
                        outcomes.append("NDJSON complete")
                    }
                } else {
                    let response = HTTPResponse(status: client.status, headers: client.headers, body: try client.readBody())
                    if response.status == 409 {
                        expectProblem(response, status: 409)
                        outcomes.append("409")
                    } else {
                        #expect(response.status == 200, "\(response.status) \(response.text)")
                        outcomes.append("\(response.status)")
                    }
                }
                #expect(try server.request("GET", "/healthz").status == 200)
                // The next search sees the new size.
                let after = try server.search(name, SearchQuery(#"\w+"#, regex: true, limit: 0))
                #expect(after.status == 200)
                #expect(after.size == 4096)
            }
            print("truncation outcomes: \(outcomes)")
        }

        /// Between two searches a file shrinks, then grows: each search describes the file as it is.
        @Test func aFileChangedBetweenSearchesIsSeenAtItsNewSize() throws {
            let first = Array(String(repeating: "one needle\n", count: 1000).utf8)
            let server = try TestServer(files: ["changing.txt": first])
            let path = server.path("changing.txt")
            let before = try server.search("changing.txt", SearchQuery("needle", limit: 0))
            #expect(before.size == first.count)
            #expect(before.count == 1000)
            #expect(truncate(path, 5500) == 0)
            let shrunk = try server.search("changing.txt", SearchQuery("needle", reverse: true, limit: 1))
            #expect(shrunk.size == 5500)
            #expect(shrunk.count == 500)
            #expect(shrunk.matches.map(\.offset) == [499 * 11 + 4])
            // Grows in place (same inode): appended bytes are searched too.
            let handle = try #require(FileHandle(forWritingAtPath: path))
            try handle.seekToEnd()
            try handle.write(contentsOf: Data(String(repeating: "two needle\n", count: 10).utf8))
            try handle.close()
            let grown = try server.search("changing.txt", SearchQuery("needle", limit: 0))
            #expect(grown.size == 5610)
            #expect(grown.count == 510)
        }

        /// A budget (time) that runs out during a long scan: an answer with `count: null`,
        /// `truncated` and a `next` that makes progress, or a 422 when nothing could be reported.
        @Test func aTimeBudgetEndsALongScanWithAPartialAnswerOrAnError() throws {
            let server = try TestServer(configure: { $0.searchTimeoutMilliseconds = 1 })
            _ = try Self.writeBlocks(server.path("long.txt"), copies: 64, pattern: "x")
            let query = SearchQuery(Self.slowPattern, regex: true, limit: 100)
            let answer = try server.search("long.txt", query)
            if answer.status == 200, answer.count == nil {
                #expect(answer.truncated == true)
                let next = try #require(answer.next)
                #expect(next > 0)
                #expect(answer.matches.allSatisfy { $0.offset < next })
                var following = query
                following.start = Int64(next)
                let more = try server.search("long.txt", following)
                #expect(more.status == 200 || more.status == 422, "\(more)")
                #expect(more.matches.allSatisfy { $0.offset >= next })
                print("time budget: partial answer, next \(next), then \(more)")
            } else if answer.status == 200 {
                // The machine scanned 64 MiB within a millisecond: nothing to check about budgets.
                #expect(answer.count != nil)
            } else {
                expectProblem(answer.response, status: 422)
            }
            #expect(try server.request("GET", "/healthz").status == 200)
        }

        /// One million matches through NDJSON: every line checked (offset, line), the summary
        /// exact, this process's anonymous memory (server included: it runs in-process) far below
        /// the size of the equivalent single JSON document. Halfway, with the stream provably
        /// unfinished (its unread rest is far bigger than every buffer on the way), other clients
        /// are served.
        @Test func ndjsonStreamsAMillionMatchesInBoundedMemory() throws {
            let server = try TestServer(
                configure: {
                    $0.searchTimeoutMilliseconds = 600_000
                    $0.connectionTimeout = 600
                }, files: ["small.txt": Array("hello small world\n".utf8)])
            let lineLength = 48
            let total = 1_000_000
            try Self.writeNumberedLines(server.path("million.txt"), count: total)
            // The memory bound is measured on a separate mmapd process over the same root: this
            // test process's own memory moves with every test running beside it.
            let (spawned, port) = try SpawnedServer.started(
                root: server.root.path, ["--search-timeout-milliseconds", "600000", "--connection-timeout", "600"])
            let pid = spawned.process.processIdentifier
            defer { spawned.stop() }
            let client = try RawHTTPClient(port: port, timeoutSeconds: 600)
            try client.send(SearchQuery("word", limit: 2_000_000).target("million.txt"), headers: [("Accept", "application/x-ndjson")])
            try client.readHead()
            #expect(client.status == 200)
            #expect(client.header("Content-Type") == "application/x-ndjson")
            #expect(client.isChunked)
            #expect(client.header("Content-Length") == nil)

            let baseline = try anonymousResidentBytes(pid: pid)
            var peak = baseline
            var matchLines = 0
            var wrong: [String] = []
            var jsonBytes = 0
            var summary: [String: Any] = [:]
            var firstObject: [String: Any] = [:]
            var othersServed = false
            let rest = try client.forEachLine { line in
                guard line.starts(with: #"{"offset":"#.utf8) else {
                    summary =
                        (try? JSONSerialization.jsonObject(with: Data(line))) as? [String: Any] ?? [
                            "unparsable": String(decoding: line, as: UTF8.self)
                        ]
                    return true
                }
                let expectedOffset = matchLines * lineLength + 8
                if integer(after: #""offset":"#, in: line) != expectedOffset || integer(after: #""line":"#, in: line) != matchLines + 1 {
                    if wrong.count < 5 { wrong.append("#\(matchLines): \(String(decoding: line, as: UTF8.self))") }
                }
                if matchLines == 0 {
                    firstObject = (try? JSONSerialization.jsonObject(with: Data(line))) as? [String: Any] ?? [:]
                }
                matchLines += 1
                jsonBytes += line.count + 1
                if matchLines % 50_000 == 0 { peak = max(peak, (try? anonymousResidentBytes(pid: pid)) ?? 0) }
                if matchLines == 100_000 {
                    // ~90 MB of the answer are still to come: the search is not finished.
                    for _ in 0..<5 {
                        let get = try HTTPConnection(port: port).send("GET", "/files/small.txt")
                        #expect(get.status == 200)
                        let small = try HTTPConnection(port: port).send("GET", "/search/small.txt?q=small")
                        #expect(small.json["count"] as? Int == 1)
                    }
                    let health = try HTTPConnection(port: port).send("GET", "/healthz")
                    #expect(health.status == 200)
                    othersServed = true
                }
                return true
            }
            #expect(rest.isEmpty, "the body ends with a complete line")
            #expect(othersServed)
            #expect(wrong.isEmpty, "lines with the wrong offset or line number: \(wrong)")
            #expect(matchLines == total)
            #expect(summary["count"] as? Int == total, "\(summary)")
            #expect(summary["truncated"] as? Bool == false)
            #expect(summary["next"] is NSNull)
            #expect(
                FoundMatch(firstObject)
                    == FoundMatch([
                        "offset": 8, "length": 4, "line": 1,
                        "text": "0000000 word " + String(repeating: ".", count: 34)
                    ]))
            let growth = Int(peak) - Int(baseline)
            print("NDJSON: \(jsonBytes) bytes of match lines streamed; anonymous memory grew by \(growth) bytes")
            #expect(jsonBytes > 90_000_000)
            #expect(growth < jsonBytes / 4, "anonymous memory grew by \(growth) bytes while \(jsonBytes) bytes of matches streamed")
        }

        /// A client that goes away in the middle of a stream: the producer stops, the request ends,
        /// and the server answers the next requests normally.
        @Test func aClientLeavingMidStreamDoesNotHurtTheServer() throws {
            let server = try TestServer(configure: {
                $0.searchTimeoutMilliseconds = 600_000
            })
            try Self.writeNumberedLines(server.path("many.txt"), count: 300_000)
            for _ in 0..<3 {
                let client = try RawHTTPClient(port: server.port)
                try client.send(SearchQuery("word", limit: 1_000_000).target("many.txt"), headers: [("Accept", "application/x-ndjson")])
                try client.readHead()
                #expect(client.status == 200)
                var seen = 0
                try client.forEachLine { _ in
                    seen += 1
                    return seen < 1000
                }
                #expect(seen == 1000)
                client.close()
            }
            #expect(
                eventually(within: 60) { server.service.requestsInFlight == 0 },
                "\(server.service.requestsInFlight) requests still in flight after their clients left")
            let after = try server.search("many.txt", SearchQuery("word", limit: 0))
            #expect(after.count == 300_000)
            let streamed = try ndjson(server, "many.txt", SearchQuery("word", start: -480, limit: 100))
            #expect(streamed.matches.count == 10)
            #expect(streamed.summary["count"] as? Int == 10)
        }

        /// `count` lines of 48 bytes: a 7-digit number, " word ", 34 dots, "\n"; "word" at 48·k + 8.
        static func writeNumberedLines(_ path: String, count: Int) throws {
            _ = try PythonReference.evaluate(
                #"""
                import sys
                path, count = sys.argv[1], int(sys.argv[2])
                with open(path, 'wb') as f:
                    for start in range(0, count, 100000):
                        f.write(b''.join(b'%07d word %s\n' % (i, b'.' * 34) for i in range(start, min(count, start + 100000))))
                print(count)
                """#, [path, "\(count)"])
        }
    }
}

/// User + system CPU seconds of this process so far.
func processCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}
