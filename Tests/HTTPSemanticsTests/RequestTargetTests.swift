import ConfinedPaths
import HTTPSemantics
import Testing

@Suite("RequestTarget")
struct RequestTargetTests {
    /// (raw target, expected segments, directory request?)
    static let fileTargets: [(String, [String], Bool)] = [
        ("/files/a.txt", ["a.txt"], false),
        ("/files/dir/sub/file.bin", ["dir", "sub", "file.bin"], false),
        ("/files/a%20b/c.txt", ["a b", "c.txt"], false),
        ("/files/dir/", ["dir"], true),
        ("/files/", [], true),
        ("/files/%C3%A9t%C3%A9.txt", ["été.txt"], false),
        ("/files/%c3%a9t%c3%a9.txt", ["été.txt"], false),
        ("/files/été.txt", ["été.txt"], false),
        ("/files/%E6%97%A5%E6%9C%AC/%F0%9F%98%80", ["日本", "😀"], false),
        ("/files/a//b", ["a", "b"], false),
        ("/files//a", ["a"], false),
        ("/files//etc/passwd", ["etc", "passwd"], false),
        ("/files/a///", ["a"], true),
        ("/files/./a", ["a"], false),
        ("/files/a/./b", ["a", "b"], false),
        ("/files/a/.", ["a"], true),
        ("/files/.", [], true),
        ("/files/%2e", [], true),
        ("/files/a/%2E/b", ["a", "b"], false),
        ("/files/a%2Fb.txt", ["a", "b.txt"], false),
        ("/files/a%2fb.txt", ["a", "b.txt"], false),
        ("/files/dir%2F", ["dir"], true),
        ("/files/a%2F%2Fb", ["a", "b"], false),
        ("/files/a+b.txt", ["a+b.txt"], false),
        ("/files/a%2Bb.txt", ["a+b.txt"], false),
        ("/files/.hidden", [".hidden"], false),
        ("/files/...", ["..."], false),
        ("/files/a..b", ["a..b"], false),
        ("/files/..a", ["..a"], false),
        ("/files/a..", ["a.."], false),
        ("/files/%2e%2e%2e", ["..."], false),
        ("/files/%252e%252e/x", ["%2e%2e", "x"], false),
        ("/files/%25", ["%"], false),
        ("/files/%3Fq%23frag", ["?q#frag"], false),
        ("/files/a;b=c", ["a;b=c"], false),
        ("/files/%5C..%5C", ["\\..\\"], false),
        ("/files/report.final.PDF", ["report.final.PDF"], false)
    ]

    @Test("a /files/ target names a confined path", arguments: fileTargets)
    func filesTarget(raw: String, segments: [String], isDirectory: Bool) throws {
        let target = try RequestTarget(parsing: raw)
        let expected = try #require(RelativePath(segments: segments))
        #expect(target.route == .files(FileTarget(path: expected, isDirectory: isDirectory)))
        #expect(target.query == nil)
    }

    @Test(
        "a /search/ target names a path like /files/ does",
        arguments: [
            ("/search/logs/app.log", ["logs", "app.log"], false),
            ("/search/a%20b.txt", ["a b.txt"], false),
            ("/search/%C3%A9t%C3%A9.txt", ["été.txt"], false),
            ("/search/dir/", ["dir"], true),
            ("/search/", [], true)
        ])
    func searchTarget(raw: String, segments: [String], isDirectory: Bool) throws {
        let target = try RequestTarget(parsing: raw)
        let expected = try #require(RelativePath(segments: segments))
        #expect(target.route == .search(FileTarget(path: expected, isDirectory: isDirectory)))
    }

    @Test(
        "a /view/ target names a path like /files/ does",
        arguments: [
            ("/view/logs/app.log", ["logs", "app.log"], false),
            ("/view/a%20b.txt?line=5", ["a b.txt"], false),
            ("/view/%C3%A9t%C3%A9.txt", ["été.txt"], false),
            ("/view/dir/", ["dir"], true),
            ("/view/", [], true)
        ])
    func viewTarget(raw: String, segments: [String], isDirectory: Bool) throws {
        let target = try RequestTarget(parsing: raw)
        let expected = try #require(RelativePath(segments: segments))
        #expect(target.route == .view(FileTarget(path: expected, isDirectory: isDirectory)))
    }

    @Test(
        "an /assets/ target keeps its name raw, query apart",
        arguments: [
            ("/assets/viewer.js", "viewer.js"), ("/assets/mmapd.css?v=0123abcd", "mmapd.css"),
            ("/assets/", ""), ("/assets/../etc/passwd", "../etc/passwd"), ("/assets/%2e%2e", "%2e%2e")
        ])
    func assetsTarget(raw: String, name: String) throws {
        #expect(try RequestTarget(parsing: raw).route == .assets(name))
    }

    /// Everything that could reach outside the root, or is no route at all: one 404 body.
    static let notFoundTargets: [String] = [
        // `..` raw
        "/files/..", "/files/../", "/files/../etc/passwd", "/files/a/../../b", "/files/a/../b",
        "/files/a/..", "/files/../../../../etc/shadow", "/search/../x", "/files/./../x",
        // `..` encoded, in every mix of case and half-encoding
        "/files/%2e%2e", "/files/%2E%2E", "/files/%2E%2e/x", "/files/%2e%2E/x", "/files/.%2E/x",
        "/files/.%2e/x", "/files/%2e./x", "/files/%2E./x", "/files/a/%2e%2e", "/files/a/%2e%2e/",
        "/search/%2e%2e/x",
        // `..` assembled with an encoded slash
        "/view/../x", "/view/%2e%2e/x", "/view/a%00b",
        "/files/..%2f", "/files/..%2F", "/files/..%2fetc%2fpasswd", "/files/..%2F..%2Fetc",
        "/files/%2e%2e%2f", "/files/%2e%2e%2fetc", "/files/a%2F..%2F..%2Fb", "/files/a%2f%2e%2e",
        "/files/%2F..%2F", "/files/dir%2F..",
        // NUL
        "/files/a%00b", "/files/%00", "/files/a.txt%00.png", "/files/dir/%00/x", "/search/%00",
        // not UTF-8 once decoded (incl. overlong "..": C0 AE C0 AE)
        "/files/%FF.txt", "/files/%C3%28", "/files/%ED%A0%80", "/files/%C0%AE%C0%AE/x",
        "/files/%E2%82", "/files/%F4%90%80%80",
        // no such route
        "/file", "/filesx/a", "/FILES/a", "/%66iles/a", "/healthz/", "/healthz/x",
        "/metrics/", "/metricsx", "/search", "/other", "/favicon.ico", "//files/a",
        "/view", "/viewx/a", "/assets", "/Assets/viewer.js"
    ]

    @Test("traversal, NUL, bad UTF-8 and unknown routes answer the missing-file 404", arguments: notFoundTargets)
    func notFound(raw: String) throws {
        let problem = try #require(problem { () throws(ProblemDetails) in try RequestTarget(parsing: raw) })
        #expect(problem == .notFound())
    }

    @Test(
        "malformed targets are 400",
        arguments: [
            "/files/%", "/files/%2", "/files/%zz", "/files/%2g", "/files/%g2", "/files/a%", "/files/a%4",
            "/files/%%41", "/search/%x", "files/a", "http://host/files/a", "*", "", "?q=x",
            "/files/a\u{01}b", "/files/a\u{7F}", "/files/a\tb", "/files/a\r\nb", "/files/\u{00}",
            // libmicrohttpd hands on `GET /files/a b.txt HTTP/1.1` with the space kept (RFC 9112: no
            // whitespace in a request-target; nginx answers 400 too).
            "/files/a b.txt", "/files/a ", "/search/x?q=a b"
        ])
    func badRequest(raw: String) throws {
        let problem = try #require(problem { () throws(ProblemDetails) in try RequestTarget(parsing: raw) })
        #expect(problem.status == 400)
        #expect(!problem.detail.isEmpty)
    }

    @Test("a bad escape is 400 even where the route decides nothing yet")
    func badEscapeBeatsNotFound() throws {
        let problem = try #require(problem { () throws(ProblemDetails) in try RequestTarget(parsing: "/files/%zz/../x") })
        #expect(problem.status == 400)
    }

    @Test(
        "healthz, metrics and home match exactly, query ignored",
        arguments: [
            ("/healthz", RequestTarget.Route.healthz), ("/healthz?verbose=1", .healthz),
            ("/metrics", .metrics), ("/metrics?", .metrics), ("/", .home), ("/?x=1", .home),
            // The root directory without its slash: a file target, redirected like any directory.
            ("/files", .files(FileTarget(path: .root, isDirectory: false))),
            ("/files?x", .files(FileTarget(path: .root, isDirectory: false)))
        ])
    func fixedRoutes(raw: String, route: RequestTarget.Route) throws {
        #expect(try RequestTarget(parsing: raw).route == route)
    }

    @Test(
        "the query is split at the first '?' and kept raw",
        arguments: [
            ("/files/a", nil), ("/files/a?", ""), ("/files/a?x", "x"),
            ("/search/a?q=x&start=-10", "q=x&start=-10"), ("/search/a?q=%FF%00", "q=%FF%00"),
            ("/search/a?q=a?b", "q=a?b"), ("/search/a?q=a+b", "q=a+b")
        ] as [(String, String?)])
    func query(raw: String, query: String?) throws {
        #expect(try RequestTarget(parsing: raw).query == query)
    }

    @Test("an encoded '?' belongs to the path")
    func encodedQuestionMark() throws {
        let target = try RequestTarget(parsing: "/files/what%3F.txt?q=1")
        #expect(target.route == .files(FileTarget(path: try #require(RelativePath(segments: ["what?.txt"])), isDirectory: false)))
        #expect(target.query == "q=1")
    }

    @Test(
        "RelativePath refuses segments that could escape",
        arguments: [
            [""], ["."], [".."], ["a", ".."], ["a/b"], ["/"], ["a\u{0}b"], ["\u{0}"], ["ok", ""]
        ])
    func relativePathRefuses(segments: [String]) {
        #expect(RelativePath(segments: segments) == nil)
    }

    @Test(
        "RelativePath accepts plain names",
        arguments: [
            ([], ""), (["a"], "a"), (["a", "b.txt"], "a/b.txt"), (["..."], "..."), (["a b"], "a b"),
            ([".hidden"], ".hidden"), (["été"], "été"), (["a\\b"], "a\\b"), (["%2e%2e"], "%2e%2e")
        ] as [([String], String)])
    func relativePathAccepts(segments: [String], string: String) throws {
        let path = try #require(RelativePath(segments: segments))
        #expect(path.segments == segments)
        #expect(path.string == string)
        #expect(path.description == string)
    }

    @Test("the root is the empty path")
    func root() {
        #expect(RelativePath.root.segments.isEmpty)
        #expect(RelativePath.root.string == "")
        #expect(RelativePath(segments: []) == .root)
    }

    @Test("equality is byte-exact: NFC and NFD names are different files")
    func byteExactEquality() throws {
        let composed = try #require(RelativePath(segments: ["\u{E9}t\u{E9}"]))
        let decomposed = try #require(RelativePath(segments: ["e\u{301}te\u{301}"]))
        #expect(composed.segments == decomposed.segments, "String itself calls them equal")
        #expect(composed != decomposed)
        #expect(Set([composed, decomposed]).count == 2)
        #expect(composed == RelativePath(segments: ["\u{E9}t\u{E9}"]))
    }

    @Test("NFC and NFD request paths stay distinct")
    func distinctNormalisationForms() throws {
        let composed = try RequestTarget(parsing: "/files/%C3%A9")
        let decomposed = try RequestTarget(parsing: "/files/e%CC%81")
        #expect(composed != decomposed)
    }

    @Test("segment boundaries count: [a, b] is not [ab] nor [a/b]")
    func segmentBoundaries() throws {
        let split = try #require(RelativePath(segments: ["a", "b"]))
        let joined = try #require(RelativePath(segments: ["ab"]))
        #expect(split != joined)
        #expect(Set([split, joined]).count == 2)
    }
}

/// The problem thrown by `body`, or nil when it succeeded.
