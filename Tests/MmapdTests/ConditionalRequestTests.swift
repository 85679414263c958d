import Foundation
import Glibc
import Testing

/// Conditional requests (RFC 9110 §13) against a live server: the order of §13.2.2, 304 and 412
/// answers, If-Range, and ETags that change when the file changes behind the server's back.
@Suite struct ConditionalRequestTests {
    static let content = Array(String(repeating: "conditional requests follow RFC 9110 section 13.2.2\n", count: 40).utf8)
    static let target = "/files/doc.txt"
    /// The file's modification time: Tue, 14 Nov 2023 22:13:20 GMT.
    static let modified = 1_700_000_000
    static let lastModified = "Tue, 14 Nov 2023 22:13:20 GMT"
    static let secondBefore = "Tue, 14 Nov 2023 22:13:19 GMT"
    static let secondAfter = "Tue, 14 Nov 2023 22:13:21 GMT"
    static let dayBefore = "Mon, 13 Nov 2023 22:13:20 GMT"
    /// Last-Modified in the two obsolete forms a recipient must accept (RFC 9110 §5.6.7).
    static let lastModifiedRFC850 = "Tuesday, 14-Nov-23 22:13:20 GMT"
    static let lastModifiedAsctime = "Tue Nov 14 22:13:20 2023"

    /// A server over `doc.txt` with a known mtime, and the ETag it currently sends.
    static func server() throws -> (TestServer, etag: String) {
        let server = try TestServer(files: ["doc.txt": content])
        try setModificationTime(server.path("doc.txt"), seconds: modified)
        let response = try server.request("GET", target)
        #expect(response.header("Last-Modified") == lastModified)
        let etag = try #require(response.header("ETag"))
        return (server, etag)
    }

    // MARK: The precondition table

    enum Outcome: Sendable, CustomStringConvertible {
        /// 200 with the whole file.
        case whole
        /// 206 with bytes 0-9.
        case partial
        /// 206 multipart with bytes 0-9 and 20-29.
        case multipart
        case notModified
        case preconditionFailed
        case rangeNotSatisfiable

        var description: String {
            switch self {
            case .whole: "200"
            case .partial: "206"
            case .multipart: "206 multipart"
            case .notModified: "304"
            case .preconditionFailed: "412"
            case .rangeNotSatisfiable: "416"
            }
        }
    }

    /// Header values may hold `{etag}` (the current strong ETag) and `{weak}` (its weak form,
    /// `W/"…"`), replaced when the request is sent.
    struct Case: Sendable, CustomTestStringConvertible {
        let headers: [(String, String)]
        let outcome: Outcome
        init(_ headers: [(String, String)], _ outcome: Outcome) {
            self.headers = headers
            self.outcome = outcome
        }
        var testDescription: String { headers.map { "\($0.0): \($0.1)" }.joined(separator: " + ") + " → \(outcome)" }

        func resolved(etag: String) -> [(String, String)] {
            headers.map { name, value in
                (name, value.replacingOccurrences(of: "{etag}", with: etag).replacingOccurrences(of: "{weak}", with: "W/" + etag))
            }
        }
    }

    static let cases: [Case] = [
        // Step 1: If-Match, strong comparison.
        Case([("If-Match", "{etag}")], .whole),
        Case([("If-Match", "\"stale\"")], .preconditionFailed),
        Case([("If-Match", "\"stale\", {etag}")], .whole),
        Case([("If-Match", "\"a\",\"b\"")], .preconditionFailed),
        Case([("If-Match", "*")], .whole),
        Case([("If-Match", "{weak}")], .preconditionFailed),
        Case([("If-Match", "W/\"stale\", {weak}")], .preconditionFailed),
        Case([("If-Match", "unquoted")], .preconditionFailed),
        Case([("If-Match", "{etag}"), ("Range", "bytes=0-9")], .partial),
        Case([("If-Match", "\"stale\""), ("Range", "bytes=0-9")], .preconditionFailed),
        Case([("If-Match", "\"stale\""), ("Range", "bytes=999999-")], .preconditionFailed),
        // Step 2: If-Unmodified-Since, only without If-Match.
        Case([("If-Unmodified-Since", secondBefore)], .preconditionFailed),
        Case([("If-Unmodified-Since", dayBefore)], .preconditionFailed),
        Case([("If-Unmodified-Since", lastModified)], .whole),
        Case([("If-Unmodified-Since", secondAfter)], .whole),
        Case([("If-Unmodified-Since", "not a date")], .whole),
        Case([("If-Match", "{etag}"), ("If-Unmodified-Since", dayBefore)], .whole),
        Case([("If-Match", "\"stale\""), ("If-Unmodified-Since", secondAfter)], .preconditionFailed),
        // Step 3: If-None-Match, weak comparison.
        Case([("If-None-Match", "{etag}")], .notModified),
        Case([("If-None-Match", "\"a\", {etag}, \"b\"")], .notModified),
        Case([("If-None-Match", "*")], .notModified),
        Case([("If-None-Match", "{weak}")], .notModified),
        Case([("If-None-Match", "W/\"other\", {weak}")], .notModified),
        Case([("If-None-Match", "\"other\"")], .whole),
        Case([("If-None-Match", "\"other\", W/\"another\"")], .whole),
        Case([("If-None-Match", "{etag}"), ("Range", "bytes=0-9")], .notModified),
        Case([("If-None-Match", "{etag}"), ("Range", "bytes=999999-")], .notModified),
        Case([("If-None-Match", "\"other\""), ("Range", "bytes=0-9")], .partial),
        // Step 4: If-Modified-Since, only without If-None-Match.
        Case([("If-Modified-Since", lastModified)], .notModified),
        Case([("If-Modified-Since", secondAfter)], .notModified),
        Case([("If-Modified-Since", lastModifiedRFC850)], .notModified),
        Case([("If-Modified-Since", lastModifiedAsctime)], .notModified),
        Case([("If-Modified-Since", secondBefore)], .whole),
        Case([("If-Modified-Since", dayBefore)], .whole),
        Case([("If-Modified-Since", "yesterday")], .whole),
        Case([("If-Modified-Since", lastModified), ("Range", "bytes=0-9")], .notModified),
        Case([("If-None-Match", "\"other\""), ("If-Modified-Since", lastModified)], .whole),
        Case([("If-None-Match", "{etag}"), ("If-Modified-Since", dayBefore)], .notModified),
        // The order between the steps.
        Case([("If-Match", "\"stale\""), ("If-None-Match", "{etag}")], .preconditionFailed),
        Case([("If-Unmodified-Since", dayBefore), ("If-None-Match", "{etag}")], .preconditionFailed),
        Case([("If-Unmodified-Since", dayBefore), ("If-Modified-Since", lastModified)], .preconditionFailed),
        Case([("If-Match", "{etag}"), ("If-None-Match", "{etag}")], .notModified),
        Case([("If-Match", "{etag}"), ("If-Modified-Since", lastModified)], .notModified),
        Case([("If-Unmodified-Since", lastModified), ("If-Modified-Since", dayBefore)], .whole),
        // Step 5: If-Range decides whether Range applies.
        Case([("If-Range", "{etag}"), ("Range", "bytes=0-9")], .partial),
        Case([("If-Range", "\"stale\""), ("Range", "bytes=0-9")], .whole),
        Case([("If-Range", "{weak}"), ("Range", "bytes=0-9")], .whole),
        Case([("If-Range", lastModified), ("Range", "bytes=0-9")], .partial),
        Case([("If-Range", secondBefore), ("Range", "bytes=0-9")], .whole),
        Case([("If-Range", secondAfter), ("Range", "bytes=0-9")], .whole),
        Case([("If-Range", lastModifiedRFC850), ("Range", "bytes=0-9")], .partial),
        Case([("If-Range", "not a validator"), ("Range", "bytes=0-9")], .whole),
        Case([("If-Range", "{etag}"), ("Range", "bytes=0-9,20-29")], .multipart),
        Case([("If-Range", "\"stale\""), ("Range", "bytes=0-9,20-29")], .whole),
        Case([("If-Range", "{etag}"), ("Range", "bytes=999999-")], .rangeNotSatisfiable),
        Case([("If-Range", "\"stale\""), ("Range", "bytes=999999-")], .whole),
        Case([("If-Range", "\"stale\""), ("Range", "bytes=abc")], .whole),
        Case([("If-Range", "{etag}")], .whole),
        Case([("If-None-Match", "\"other\""), ("If-Range", "{etag}"), ("Range", "bytes=0-9")], .partial),
        Case([("If-Match", "{etag}"), ("If-Range", "\"stale\""), ("Range", "bytes=0-9")], .whole)
    ]

    /// Checks `response` (to GET or HEAD) against the outcome the table expects.
    static func expect(
        _ response: HTTPResponse, _ outcome: Outcome, etag: String, isHead: Bool,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let body = isHead ? [] : content
        switch outcome {
        case .whole:
            #expect(response.status == 200, sourceLocation: sourceLocation)
            #expect(response.header("Content-Range") == nil, sourceLocation: sourceLocation)
            #expect(response.header("Content-Length") == "\(content.count)", sourceLocation: sourceLocation)
            #expect(response.body == body, sourceLocation: sourceLocation)
            #expect(response.header("ETag") == etag, sourceLocation: sourceLocation)
        case .partial:
            #expect(response.status == 206, sourceLocation: sourceLocation)
            #expect(response.header("Content-Range") == "bytes 0-9/\(content.count)", sourceLocation: sourceLocation)
            #expect(response.header("Content-Length") == "10", sourceLocation: sourceLocation)
            #expect(response.body == (isHead ? [] : Array(content[0...9])), sourceLocation: sourceLocation)
            #expect(response.header("ETag") == etag, sourceLocation: sourceLocation)
        case .multipart:
            #expect(response.status == 206, sourceLocation: sourceLocation)
            #expect(
                response.header("Content-Type")?.hasPrefix("multipart/byteranges; boundary=") == true,
                sourceLocation: sourceLocation)
            if !isHead {
                try expectByteranges(
                    response, [0...9, 20...29], of: content, contentType: "text/plain; charset=utf-8",
                    sourceLocation: sourceLocation)
            }
        case .notModified:
            #expect(response.status == 304, sourceLocation: sourceLocation)
            #expect(response.header("ETag") == etag, sourceLocation: sourceLocation)
            #expect(response.header("Last-Modified") == lastModified, sourceLocation: sourceLocation)
            #expect(response.header("Content-Range") == nil, sourceLocation: sourceLocation)
        // Content-Length is checked once, in notModifiedSendsNoWrongContentLength.
        case .preconditionFailed:
            #expect(response.status == 412, sourceLocation: sourceLocation)
            #expect(response.header("Content-Type") == "application/problem+json", sourceLocation: sourceLocation)
            #expect(response.header("Content-Range") == nil, sourceLocation: sourceLocation)
            if !isHead {
                #expect(response.json["status"] as? Int == 412, sourceLocation: sourceLocation)
                #expect(response.json["detail"] is String, sourceLocation: sourceLocation)
            }
        case .rangeNotSatisfiable:
            #expect(response.status == 416, sourceLocation: sourceLocation)
            #expect(response.header("Content-Range") == "bytes */\(content.count)", sourceLocation: sourceLocation)
            #expect(response.header("Content-Type") == "application/problem+json", sourceLocation: sourceLocation)
        }
    }

    @Test("preconditions are evaluated in RFC 9110 §13.2.2 order, for GET and HEAD", arguments: cases)
    func precondition(_ row: Case) throws {
        let (server, etag) = try Self.server()
        let headers = row.resolved(etag: etag)
        for method in ["GET", "HEAD"] {
            let connection = try HTTPConnection(port: server.port)
            let response = try connection.send(method, Self.target, headers: headers)
            try Self.expect(response, row.outcome, etag: etag, isHead: method == "HEAD")
            // A 304 or a HEAD answer has no body: the next answer on the connection must start
            // right after the headers.
            let next = try connection.send("GET", "/healthz")
            #expect(next.status == 200, "\(method): the connection still serves")
            #expect(next.text == "ok\n", "\(method): the connection still serves")
        }
    }

    /// RFC 9110 §8.6: a server MUST NOT send Content-Length in a 304 unless it equals the length
    /// of the 200 answer's content. (A cache or client that merges the 304's fields into its
    /// stored response would otherwise believe the file is empty.)
    @Test("a 304 sends no Content-Length, or the 200's", arguments: ["GET", "HEAD"])
    func notModifiedSendsNoWrongContentLength(_ method: String) throws {
        let (server, etag) = try Self.server()
        for condition in [("If-None-Match", etag), ("If-Modified-Since", Self.lastModified)] {
            let response = try server.request(method, Self.target, headers: [condition])
            #expect(response.status == 304)
            let length = response.header("Content-Length")
            #expect(
                length == nil || length == "\(Self.content.count)",
                "\(method) with \(condition.0): 304 carries Content-Length: \(length ?? "")")
        }
    }

    /// RFC 9110 §13.1.5 accepts a date in If-Range only as a strong validator, and §8.8.2.2
    /// counts Last-Modified as strong only when it lies at least a second before the answer:
    /// otherwise the file may have changed again within that second. A file whose mtime is in the
    /// future (a clock skew, a `touch -d`) never qualifies, so the date cannot resume it.
    @Test func ifRangeDateIsNotStrongForAFileModifiedInTheFuture() throws {
        let server = try TestServer(files: ["doc.txt": Self.content])
        let future = Int(time(nil)) + 86_400
        try setModificationTime(server.path("doc.txt"), seconds: future)
        let current = try server.request("GET", Self.target)
        let lastModified = try #require(current.header("Last-Modified"))
        let etag = try #require(current.header("ETag"))

        let byDate = try server.request("GET", Self.target, headers: [("If-Range", lastModified), ("Range", "bytes=0-9")])
        #expect(byDate.status == 200)
        #expect(byDate.header("Content-Range") == nil)
        #expect(byDate.body == Self.content)

        let byTag = try server.request("GET", Self.target, headers: [("If-Range", etag), ("Range", "bytes=0-9")])
        #expect(byTag.status == 206)
        #expect(byTag.body == Array(Self.content[0...9]))
    }

    // MARK: Validators

    @Test func etagIsStrongAndStableWhileTheFileIsUnchanged() throws {
        let (server, etag) = try Self.server()
        #expect(etag.hasPrefix("\"") && etag.hasSuffix("\"") && etag.count > 2)
        #expect(try server.request("GET", Self.target).header("ETag") == etag)
        #expect(try server.request("HEAD", Self.target).header("ETag") == etag)
        #expect(try server.request("GET", Self.target, headers: [("Range", "bytes=0-0")]).header("ETag") == etag)
        #expect(try server.request("GET", Self.target, headers: [("Range", "bytes=0-0,5-5")]).header("ETag") == etag)
    }

    @Test func differentFilesHaveDifferentETags() throws {
        let server = try TestServer(files: ["a.txt": Self.content, "b.txt": Self.content])
        try setModificationTime(server.path("a.txt"), seconds: Self.modified)
        try setModificationTime(server.path("b.txt"), seconds: Self.modified)
        let a = try #require(try server.request("GET", "/files/a.txt").header("ETag"))
        let b = try #require(try server.request("GET", "/files/b.txt").header("ETag"))
        #expect(a != b)
        #expect(try server.request("GET", "/files/b.txt", headers: [("If-None-Match", a)]).status == 200)
    }

    /// After the file changed, a client's old ETag fails If-Match, no longer matches
    /// If-None-Match, and turns If-Range into a whole answer; the new ETag works.
    static func expectOldETagIsStale(
        _ server: TestServer, old: String, new newContent: [UInt8],
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let current = try server.request("GET", target)
        #expect(current.body == newContent, sourceLocation: sourceLocation)
        let etag = try #require(current.header("ETag"), sourceLocation: sourceLocation)
        #expect(etag != old, "the ETag must change with the bytes", sourceLocation: sourceLocation)

        let ifNoneMatch = try server.request("GET", target, headers: [("If-None-Match", old)])
        #expect(ifNoneMatch.status == 200, sourceLocation: sourceLocation)
        #expect(ifNoneMatch.body == newContent, sourceLocation: sourceLocation)
        #expect(try server.request("GET", target, headers: [("If-Match", old)]).status == 412, sourceLocation: sourceLocation)
        let ifRange = try server.request("GET", target, headers: [("If-Range", old), ("Range", "bytes=0-9")])
        #expect(ifRange.status == 200, sourceLocation: sourceLocation)
        #expect(ifRange.body == newContent, sourceLocation: sourceLocation)

        #expect(try server.request("GET", target, headers: [("If-None-Match", etag)]).status == 304, sourceLocation: sourceLocation)
        #expect(try server.request("GET", target, headers: [("If-Match", etag)]).status == 200, sourceLocation: sourceLocation)
        let resumed = try server.request("GET", target, headers: [("If-Range", etag), ("Range", "bytes=0-9")])
        #expect(resumed.status == 206, sourceLocation: sourceLocation)
        #expect(resumed.body == Array(newContent[0...9]), sourceLocation: sourceLocation)
    }

    @Test("rewritten in place with the same size: the ETag changes (mtime)")
    func rewriteInPlaceChangesETag() throws {
        let (server, old) = try Self.server()
        let path = server.path("doc.txt")
        let before = try fileStatus(path)
        let newContent = Self.content.map { $0 == UInt8(ascii: "e") ? UInt8(ascii: "E") : $0 }
        try overwrite(path, at: 0, with: newContent)
        let after = try fileStatus(path)
        try #require(after.st_ino == before.st_ino && after.st_size == before.st_size, "same file, same size")
        try #require(after.st_mtim.tv_sec != before.st_mtim.tv_sec, "the write moved mtime off the fixed 2023 time")
        try Self.expectOldETagIsStale(server, old: old, new: newContent)
    }

    @Test("rewritten in place with the same size and mtime restored: the ETag changes (ctime)")
    func rewriteInPlaceRestoringMtimeChangesETag() throws {
        let (server, old) = try Self.server()
        let path = server.path("doc.txt")
        let before = try fileStatus(path)
        let newContent = Self.content.map { $0 == UInt8(ascii: "o") ? UInt8(ascii: "0") : $0 }
        // The premise is a stat that differs only in ctime. A filesystem with coarse timestamps
        // can give the write the same ctime as the setup's utimensat when both fall in one clock
        // tick; no server could tell those apart, so repeat the write until ctime has moved.
        let deadline = ContinuousClock.now + .seconds(5)
        var after: stat
        repeat {
            try overwrite(path, at: 0, with: newContent)
            try setModificationTime(path, seconds: Self.modified)
            after = try fileStatus(path)
        } while after.st_ctim.tv_sec == before.st_ctim.tv_sec && after.st_ctim.tv_nsec == before.st_ctim.tv_nsec
            && ContinuousClock.now < deadline
        try #require(after.st_ino == before.st_ino && after.st_size == before.st_size, "same file, same size")
        try #require(
            after.st_mtim.tv_sec == before.st_mtim.tv_sec && after.st_mtim.tv_nsec == before.st_mtim.tv_nsec,
            "mtime restored")
        try #require(
            after.st_ctim.tv_sec != before.st_ctim.tv_sec || after.st_ctim.tv_nsec != before.st_ctim.tv_nsec,
            "ctime moved")
        try Self.expectOldETagIsStale(server, old: old, new: newContent)
        #expect(try server.request("GET", Self.target).header("Last-Modified") == Self.lastModified)
    }

    @Test("replaced by rename with the same size and mtime (rsync -a): the ETag changes (inode)")
    func replacementByRenameChangesETag() throws {
        let (server, old) = try Self.server()
        let path = server.path("doc.txt")
        let newContent = Self.content.map { $0 == UInt8(ascii: " ") ? UInt8(ascii: "_") : $0 }
        try server.write("doc.txt.tmp", newContent)
        try setModificationTime(server.path("doc.txt.tmp"), seconds: Self.modified)
        let original = try fileStatus(path)
        let replacement = try fileStatus(server.path("doc.txt.tmp"))
        try #require(rename(server.path("doc.txt.tmp"), path) == 0, "rename: errno \(errno)")
        let after = try fileStatus(path)
        try #require(after.st_ino == replacement.st_ino && after.st_ino != original.st_ino, "a new inode")
        try #require(after.st_size == original.st_size, "same size")
        try #require(
            after.st_mtim.tv_sec == original.st_mtim.tv_sec && after.st_mtim.tv_nsec == original.st_mtim.tv_nsec,
            "same mtime")
        try Self.expectOldETagIsStale(server, old: old, new: newContent)
        #expect(try server.request("GET", Self.target).header("Last-Modified") == Self.lastModified)
    }

    // MARK: curl

    @Test func curlIfNoneMatchGets304() throws {
        let (server, etag) = try Self.server()
        let result = try curl([
            "-H", "If-None-Match: \(etag)", "-D", "-", "-w", "%{http_code} %{size_download}", server.baseURL + Self.target
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let output = result.stdoutText
        #expect(output.hasPrefix("HTTP/1.1 304"))
        #expect(output.contains("ETag: \(etag)\r\n"))
        #expect(output.hasSuffix("\r\n\r\n304 0"))

        let changed = try curl(["-H", "If-None-Match: \"something-else\"", "-w", "\n%{http_code}", server.baseURL + Self.target])
        #expect(changed.stdout == Self.content + Array("\n200".utf8))
    }

    @Test func curlTimeConditions() throws {
        let (server, _) = try Self.server()
        // -z DATE sends If-Modified-Since; -z -DATE sends If-Unmodified-Since. The status comes
        // from the dumped headers: curl's %{http_code} reports 304 whenever its time condition
        // is unmet, whatever the server answered.
        func statusLine(_ condition: String) throws -> String {
            let result = try curl(["-z", condition, "-D", "-", "-o", "/dev/null", server.baseURL + Self.target])
            #expect(result.status == 0, "\(result.stderr)")
            return result.stdoutText.components(separatedBy: "\r\n").first ?? ""
        }
        #expect(try statusLine(Self.lastModified).hasPrefix("HTTP/1.1 304"))
        #expect(try statusLine(Self.dayBefore).hasPrefix("HTTP/1.1 200"))
        #expect(try statusLine("-" + Self.dayBefore).hasPrefix("HTTP/1.1 412"))
        #expect(try statusLine("-" + Self.lastModified).hasPrefix("HTTP/1.1 200"))
    }
}
