import Foundation
import Glibc
import Mmapd
import Testing

/// PATCH on a live server, every answer checked against the file as read straight from disk:
/// the three body forms (and the real curl), appends and growth, ETags, preconditions, access,
/// and rejections that must leave the file byte-for-byte and timestamp-for-timestamp alone.
@Suite struct PatchTests {
    static let size = 1000
    static let original = pseudoRandomBytes(count: size, seed: 0xFA7C_0001)
    static let target = "/files/doc.bin"
    static let tokens = ["s3cret-token", "second-token"]

    static func server(configure: (inout Settings) -> Void = { _ in }, files: [String: [UInt8]] = [:]) throws -> TestServer {
        try TestServer(
            configure: { settings in
                settings.writable = true
                configure(&settings)
            }, files: ["doc.bin": original, "empty.bin": [], "dir/inner.bin": Array("inner".utf8)].merging(files) { $1 })
    }

    // MARK: The three forms, end to end

    struct FormCase: Sendable, CustomTestStringConvertible {
        let name: String
        let headers: [(String, String)]
        let body: [UInt8]
        let expected: [UInt8]
        var testDescription: String { name }
    }

    static let formCases: [FormCase] = {
        let a = pseudoRandomBytes(count: 50, seed: 11)
        let b = pseudoRandomBytes(count: 7, seed: 12)
        let c = pseudoRandomBytes(count: 300, seed: 13)
        let d = pseudoRandomBytes(count: 20, seed: 14)
        let boundary = "THIS_STRING_SEPARATES"
        let parts = [
            PatchWrite(start: 900, bytes: c.prefix(100).map { $0 }), PatchWrite(start: 0, bytes: b),
            PatchWrite(start: 500, bytes: a), PatchWrite(start: 1000, bytes: d)
        ]
        var multipartExpected = original
        for part in parts { multipartExpected = applied(multipartExpected, part.bytes, at: part.start) }
        return [
            FormCase(
                name: "Content-Range bytes a-b/*", headers: [("Content-Range", "bytes 100-149/*")], body: a,
                expected: applied(original, a, at: 100)),
            FormCase(
                name: "Content-Range bytes a-b/len", headers: [("Content-Range", "bytes 100-149/1000")], body: a,
                expected: applied(original, a, at: 100)),
            FormCase(
                name: "Content-Range with a Content-Type for the data",
                headers: [
                    ("Content-Range", "bytes 993-999/*"), ("Content-Type", "application/octet-stream")
                ], body: b, expected: applied(original, b, at: 993)),
            FormCase(
                name: "Content-Range covering the whole file", headers: [("Content-Range", "bytes 0-999/1000")],
                body: pseudoRandomBytes(count: 1000, seed: 15), expected: pseudoRandomBytes(count: 1000, seed: 15)),
            FormCase(
                name: "message/byterange", headers: [("Content-Type", "message/byterange")],
                body: messageByterange(PatchWrite(start: 3, bytes: b)), expected: applied(original, b, at: 3)),
            FormCase(
                name: "message/byterange with /len, Content-Type and Content-Length",
                headers: [("Content-Type", "message/byterange")],
                body: messageByterange(
                    PatchWrite(start: 700, bytes: c, complete: "1000"),
                    extraHeaders: ["Content-Type: text/plain", "Content-Length: 300"]),
                expected: applied(original, c, at: 700)),
            FormCase(
                name: "multipart/byteranges, four parts out of order, one appending",
                headers: [("Content-Type", "multipart/byteranges; boundary=\(boundary)")],
                body: multipartByteranges(parts, boundary: boundary), expected: multipartExpected),
            FormCase(
                name: "multipart/byteranges with quoted boundary, preamble, epilogue and part Content-Type",
                headers: [("Content-Type", "multipart/byteranges; boundary=\"a b:c\"")],
                body: multipartByteranges(
                    [PatchWrite(start: 10, bytes: b), PatchWrite(start: 17, bytes: a)],
                    boundary: "a b:c", partHeaders: ["Content-Type: application/octet-stream"],
                    preamble: "ignored preamble", epilogue: "ignored epilogue"),
                expected: applied(applied(original, b, at: 10), a, at: 17)),
            FormCase(
                name: "multipart/byteranges, a single part", headers: [("Content-Type", "multipart/byteranges; boundary=x")],
                body: multipartByteranges([PatchWrite(start: 999, bytes: b)], boundary: "x"),
                expected: applied(original, b, at: 999))
        ]
    }()

    @Test("each form lands exactly where it says", arguments: formCases)
    func formEndToEnd(_ form: FormCase) throws {
        let server = try Self.server()
        let before = try server.request("GET", Self.target)
        let response = try server.request("PATCH", Self.target, headers: form.headers, body: form.body)
        #expect(response.status == 204, "\(response.text)")
        #expect(response.body.isEmpty)
        #expect(try server.read("doc.bin") == form.expected)
        let etag = try #require(response.header("ETag"))
        #expect(etag != before.header("ETag"))
        #expect(response.header("Last-Modified") != nil)
        let after = try server.request("GET", Self.target)
        #expect(after.status == 200)
        #expect(after.body == form.expected)
        #expect(after.header("ETag") == etag)
    }

    @Test func binaryBytesOfEveryValuePassThrough() throws {
        let server = try Self.server()
        let everyByte = (0..<1024).map { UInt8(truncatingIfNeeded: $0) }
        #expect(try server.patch(Self.target, PatchWrite(start: 0, bytes: Array(everyByte[..<1000]))).status == 204)
        #expect(
            try server.patchMultipart(
                Self.target, [PatchWrite(start: 1000, bytes: Array(everyByte[1000...]))],
                boundary: "b"
            ).status == 204)
        #expect(try server.read("doc.bin") == everyByte)
    }

    @Test func keepAliveCarriesSeveralPatches() throws {
        let server = try Self.server()
        let connection = try HTTPConnection(port: server.port)
        var expected = Self.original
        for round in 0..<5 {
            let bytes = fill(UInt8(round + 1), 100)
            let response = try connection.send(
                "PATCH", Self.target, headers: [("Content-Range", "bytes \(round * 100)-\(round * 100 + 99)/*")],
                body: bytes)
            #expect(response.status == 204)
            expected = applied(expected, bytes, at: round * 100)
        }
        #expect(try connection.send("GET", Self.target).body == expected)
        #expect(try server.read("doc.bin") == expected)
    }

    // MARK: The real curl

    static func temporaryFile(_ bytes: [UInt8]) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("mmapd-patch-body-\(UUID().uuidString)").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func curlRawForm() throws {
        let server = try Self.server()
        // curl adds 'Content-Type: application/x-www-form-urlencoded' to --data-binary: the
        // Content-Range header decides the form whatever the type says.
        let result = try curl([
            "-X", "PATCH", "-H", "Content-Range: bytes 0-4/*", "--data-binary", "HELLO",
            "-D", "-", "-o", "/dev/null", server.baseURL + Self.target
        ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdoutText.hasPrefix("HTTP/1.1 204"), "\(result.stdoutText)")
        #expect(result.stdoutText.contains("ETag: \""))
        #expect(try server.read("doc.bin") == applied(Self.original, Array("HELLO".utf8), at: 0))
    }

    @Test func curlMultipartAndMessageByterangeFromFiles() throws {
        let server = try Self.server()
        let writes = [PatchWrite(start: 20, bytes: fill(0x41, 10)), PatchWrite(start: 1000, bytes: fill(0x42, 24))]
        let multipart = try Self.temporaryFile(multipartByteranges(writes, boundary: "curl-boundary"))
        defer { unlink(multipart) }
        let first = try curl([
            "-X", "PATCH", "-H", "Content-Type: multipart/byteranges; boundary=curl-boundary",
            "--data-binary", "@" + multipart, "-w", "%{http_code}", "-o", "/dev/null", server.baseURL + Self.target
        ])
        #expect(first.stdoutText == "204", "\(first.stderr)")
        var expected = applied(applied(Self.original, writes[0].bytes, at: 20), writes[1].bytes, at: 1000)
        #expect(try server.read("doc.bin") == expected)

        let message = try Self.temporaryFile(messageByterange(PatchWrite(start: 1024, bytes: fill(0x43, 8))))
        defer { unlink(message) }
        let second = try curl([
            "-X", "PATCH", "-H", "Content-Type: message/byterange", "--data-binary", "@" + message,
            "-w", "%{http_code}", "-o", "/dev/null", server.baseURL + Self.target
        ])
        #expect(second.stdoutText == "204", "\(second.stderr)")
        expected += fill(0x43, 8)
        #expect(try server.read("doc.bin") == expected)
    }

    /// curl sends `Expect: 100-continue` for a large body; the PATCH waits for its write turn
    /// before the body is read, and must still get it.
    @Test func curlLargeUploadWithExpectContinue() throws {
        let server = try Self.server()
        let bytes = pseudoRandomBytes(count: 3 << 20, seed: 77)
        let body = try Self.temporaryFile(bytes)
        defer { unlink(body) }
        let result = try curl([
            "-v", "-X", "PATCH", "-H", "Content-Range: bytes 500-\(500 + bytes.count - 1)/*",
            "--data-binary", "@" + body, "-w", "%{http_code}", "-o", "/dev/null", server.baseURL + Self.target
        ])
        #expect(result.stdoutText == "204", "\(result.stderr.suffix(2000))")
        #expect(result.stderr.contains("Expect: 100-continue"), "curl did not ask for 100-continue; the case is not exercised")
        #expect(try server.read("doc.bin") == applied(Self.original, bytes, at: 500))
    }

    @Test func curlWithBearerToken() throws {
        let server = try Self.server(configure: { $0.tokens = Self.tokens })
        let refused = try curl([
            "-X", "PATCH", "-H", "Content-Range: bytes 0-2/*", "--data-binary", "abc",
            "-w", "%{http_code}", "-o", "/dev/null", server.baseURL + Self.target
        ])
        #expect(refused.stdoutText == "401")
        let accepted = try curl([
            "-X", "PATCH", "-H", "Content-Range: bytes 0-2/*", "--data-binary", "abc",
            "--oauth2-bearer", Self.tokens[0], "-w", "%{http_code}", "-o", "/dev/null",
            server.baseURL + Self.target
        ])
        #expect(accepted.stdoutText == "204", "\(accepted.stderr)")
        #expect(try server.read("doc.bin") == applied(Self.original, Array("abc".utf8), at: 0))
    }

    // MARK: Appends and growth

    struct GrowthCase: Sendable, CustomTestStringConvertible {
        let file: String
        let writes: [PatchWrite]
        let multipart: Bool
        /// nil: 416 and nothing changes.
        let accepted: Bool
        var testDescription: String {
            "\(file): \(multipart ? "multipart " : "")\(writes.map(\.contentRange).joined(separator: ", ")) → \(accepted ? 204 : 416)"
        }
    }

    static let growthCases: [GrowthCase] = [
        GrowthCase(file: "doc.bin", writes: [PatchWrite(start: 1000, bytes: fill(7, 100))], multipart: false, accepted: true),
        GrowthCase(file: "doc.bin", writes: [PatchWrite(start: 1000, bytes: fill(7, 1))], multipart: false, accepted: true),
        GrowthCase(file: "doc.bin", writes: [PatchWrite(start: 950, bytes: fill(7, 100))], multipart: false, accepted: true),
        GrowthCase(file: "doc.bin", writes: [PatchWrite(start: 999, bytes: fill(7, 70_000))], multipart: false, accepted: true),
        GrowthCase(
            file: "doc.bin", writes: [PatchWrite(start: 1000, bytes: fill(7, 10), complete: "1010")], multipart: false, accepted: true),
        GrowthCase(file: "doc.bin", writes: [PatchWrite(start: 1001, bytes: fill(7, 10))], multipart: false, accepted: false),
        GrowthCase(file: "doc.bin", writes: [PatchWrite(start: 5000, bytes: fill(7, 10))], multipart: false, accepted: false),
        GrowthCase(file: "empty.bin", writes: [PatchWrite(start: 0, bytes: Array("first bytes".utf8))], multipart: false, accepted: true),
        GrowthCase(file: "empty.bin", writes: [PatchWrite(start: 0, bytes: fill(9, 1))], multipart: false, accepted: true),
        GrowthCase(file: "empty.bin", writes: [PatchWrite(start: 1, bytes: fill(9, 1))], multipart: false, accepted: false),
        // Multipart: each part may start where the file, grown by the earlier parts, ends.
        GrowthCase(
            file: "doc.bin", writes: [PatchWrite(start: 1010, bytes: fill(1, 10)), PatchWrite(start: 1000, bytes: fill(2, 10))],
            multipart: true, accepted: true),
        GrowthCase(
            file: "doc.bin", writes: [PatchWrite(start: 0, bytes: fill(1, 10)), PatchWrite(start: 990, bytes: fill(2, 4000))],
            multipart: true, accepted: true),
        GrowthCase(
            file: "empty.bin", writes: [PatchWrite(start: 0, bytes: fill(1, 3)), PatchWrite(start: 3, bytes: fill(2, 3))],
            multipart: true, accepted: true),
        // A gap anywhere refuses the whole PATCH, including the parts that would have fit.
        GrowthCase(
            file: "doc.bin", writes: [PatchWrite(start: 0, bytes: fill(1, 10)), PatchWrite(start: 1001, bytes: fill(2, 10))],
            multipart: true, accepted: false),
        GrowthCase(
            file: "doc.bin", writes: [PatchWrite(start: 1000, bytes: fill(1, 10)), PatchWrite(start: 1011, bytes: fill(2, 10))],
            multipart: true, accepted: false),
        GrowthCase(
            file: "empty.bin", writes: [PatchWrite(start: 0, bytes: fill(1, 3)), PatchWrite(start: 4, bytes: fill(2, 3))],
            multipart: true, accepted: false)
    ]

    @Test("appends, growth, and starts beyond the end", arguments: growthCases)
    func growth(_ growth: GrowthCase) throws {
        let server = try Self.server()
        let target = "/files/" + growth.file
        let before = try FileSnapshot(server.path(growth.file))
        let response = growth.multipart ? try server.patchMultipart(target, growth.writes) : try server.patch(target, growth.writes[0])
        if growth.accepted {
            #expect(response.status == 204, "\(response.text)")
            var expected = before.bytes
            for write in growth.writes.sorted(by: { $0.start < $1.start }) { expected = applied(expected, write.bytes, at: write.start) }
            #expect(try server.read(growth.file) == expected)
            let get = try server.request("GET", target)
            #expect(get.body == expected)
            #expect(get.header("Content-Length") == "\(expected.count)")
            #expect(get.header("ETag") == response.header("ETag"))
            // The grown tail is served by a range request too (the reader's mapping was renewed).
            let tail = try server.request("GET", target, headers: [("Range", "bytes=-5")])
            #expect(tail.status == 206)
            #expect(tail.body == Array(expected.suffix(5)))
        } else {
            #expect(response.status == 416, "\(response.text)")
            #expect(response.header("Content-Type") == "application/problem+json")
            #expect(try FileSnapshot(server.path(growth.file)) == before)
        }
    }

    // MARK: ETags

    @Test func everyPatchAnswersANewETagThatTheNextGetRepeats() throws {
        let server = try Self.server()
        var seen: Set<String> = [try #require(server.request("GET", Self.target).header("ETag"))]
        var expected = Self.original
        // Back to back, the same bytes each time: several land within one clock tick, and a
        // rewrite with identical bytes still counts as a change.
        for _ in 0..<20 {
            let response = try server.patch(Self.target, PatchWrite(start: 0, bytes: Array("same".utf8)))
            #expect(response.status == 204)
            let etag = try #require(response.header("ETag"))
            #expect(!seen.contains(etag), "ETag \(etag) repeated")
            seen.insert(etag)
            expected = applied(expected, Array("same".utf8), at: 0)
            let get = try server.request("GET", Self.target)
            #expect(get.header("ETag") == etag)
            #expect(get.header("Last-Modified") == response.header("Last-Modified"))
            #expect(get.body == expected)
            #expect(try server.request("HEAD", Self.target).header("ETag") == etag)
        }
    }

    @Test func twoPatchesOnOneConnectionGiveTwoETags() throws {
        let server = try Self.server()
        let connection = try HTTPConnection(port: server.port)
        let first = try connection.send("PATCH", Self.target, headers: [("Content-Range", "bytes 0-0/*")], body: [1])
        let second = try connection.send("PATCH", Self.target, headers: [("Content-Range", "bytes 0-0/*")], body: [1])
        #expect(first.status == 204 && second.status == 204)
        #expect(first.header("ETag") != nil && first.header("ETag") != second.header("ETag"))
        #expect(try connection.send("GET", Self.target).header("ETag") == second.header("ETag"))
    }

    @Test func theETagAfterAPatchRevalidatesAndTheOldOneDoesNot() throws {
        let server = try Self.server()
        let old = try #require(server.request("GET", Self.target).header("ETag"))
        let new = try #require(server.patch(Self.target, PatchWrite(start: 0, bytes: [0])).header("ETag"))
        #expect(try server.request("GET", Self.target, headers: [("If-None-Match", new)]).status == 304)
        #expect(try server.request("GET", Self.target, headers: [("If-None-Match", old)]).status == 200)
    }

    // MARK: Preconditions

    @Test func ifMatchWithTheCurrentETagWrites() throws {
        let server = try Self.server()
        let etag = try #require(server.request("GET", Self.target).header("ETag"))
        let response = try server.patch(Self.target, PatchWrite(start: 0, bytes: [1, 2, 3]), headers: [("If-Match", etag)])
        #expect(response.status == 204)
        #expect(try server.read("doc.bin") == applied(Self.original, [1, 2, 3], at: 0))
        // The answer's ETag is the one to use next; the one used before is now stale.
        let next = try #require(response.header("ETag"))
        #expect(try server.patch(Self.target, PatchWrite(start: 3, bytes: [4]), headers: [("If-Match", next)]).status == 204)
        let stale = try server.patch(Self.target, PatchWrite(start: 4, bytes: [5]), headers: [("If-Match", etag)])
        #expect(stale.status == 412)
        #expect(try server.read("doc.bin") == applied(Self.original, [1, 2, 3, 4], at: 0))
    }

    struct PreconditionCase: Sendable, CustomTestStringConvertible {
        let name: String
        /// `{etag}` is replaced by the current ETag.
        let headers: [(String, String)]
        let status: Int
        var testDescription: String { "\(name) → \(status)" }
    }

    /// The file's mtime is set to Tue, 14 Nov 2023 22:13:20 GMT before each case.
    static let preconditionCases: [PreconditionCase] = [
        PreconditionCase(name: "If-Match current", headers: [("If-Match", "{etag}")], status: 204),
        PreconditionCase(name: "If-Match list with current", headers: [("If-Match", "\"nope\", {etag}")], status: 204),
        PreconditionCase(name: "If-Match *", headers: [("If-Match", "*")], status: 204),
        PreconditionCase(name: "If-Match stale", headers: [("If-Match", "\"stale\"")], status: 412),
        PreconditionCase(name: "If-Match weak form of current", headers: [("If-Match", "W/{etag}")], status: 412),
        PreconditionCase(
            name: "If-Unmodified-Since a second before", headers: [("If-Unmodified-Since", "Tue, 14 Nov 2023 22:13:19 GMT")],
            status: 412),
        PreconditionCase(
            name: "If-Unmodified-Since a year before", headers: [("If-Unmodified-Since", "Mon, 14 Nov 2022 22:13:20 GMT")],
            status: 412),
        PreconditionCase(
            name: "If-Unmodified-Since exactly Last-Modified",
            headers: [("If-Unmodified-Since", "Tue, 14 Nov 2023 22:13:20 GMT")], status: 204),
        PreconditionCase(
            name: "If-Unmodified-Since later", headers: [("If-Unmodified-Since", "Wed, 15 Nov 2023 22:13:20 GMT")],
            status: 204),
        PreconditionCase(
            name: "If-Match wins over a stale If-Unmodified-Since",
            headers: [("If-Match", "{etag}"), ("If-Unmodified-Since", "Mon, 14 Nov 2022 22:13:20 GMT")], status: 204),
        PreconditionCase(name: "If-None-Match current (unsafe method)", headers: [("If-None-Match", "{etag}")], status: 412),
        PreconditionCase(name: "If-None-Match *", headers: [("If-None-Match", "*")], status: 412),
        PreconditionCase(name: "If-None-Match other", headers: [("If-None-Match", "\"other\"")], status: 204)
    ]

    @Test("preconditions", arguments: preconditionCases)
    func precondition(_ condition: PreconditionCase) throws {
        let server = try Self.server()
        try setModificationTime(server.path("doc.bin"), seconds: 1_700_000_000)
        let etag = try #require(server.request("GET", Self.target).header("ETag"))
        let before = try FileSnapshot(server.path("doc.bin"))
        let headers = condition.headers.map { ($0.0, $0.1.replacingOccurrences(of: "{etag}", with: etag)) }
        let response = try server.patch(Self.target, PatchWrite(start: 10, bytes: fill(0xEE, 10)), headers: headers)
        #expect(response.status == condition.status, "\(response.text)")
        if condition.status == 204 {
            #expect(try server.read("doc.bin") == applied(Self.original, fill(0xEE, 10), at: 10))
        } else {
            #expect(try FileSnapshot(server.path("doc.bin")) == before)
            #expect(try server.request("GET", Self.target).header("ETag") == etag)
        }
    }

    @Test func preconditionsOfMultipartAndMessageForms() throws {
        let server = try Self.server()
        let stale = [("If-Match", "\"stale\"")]
        let before = try FileSnapshot(server.path("doc.bin"))
        #expect(try server.patchMultipart(Self.target, [PatchWrite(start: 0, bytes: [1])], headers: stale).status == 412)
        #expect(
            try server.request(
                "PATCH", Self.target, headers: [("Content-Type", "message/byterange")] + stale,
                body: messageByterange(PatchWrite(start: 0, bytes: [1]))
            ).status == 412)
        #expect(try FileSnapshot(server.path("doc.bin")) == before)
    }

    // MARK: Access

    @Test(arguments: ["/files/doc.bin", "/files/missing.bin", "/files/dir/"])
    func aReadOnlyServerAnswers405WithAllow(_ target: String) throws {
        let server = try TestServer(files: ["doc.bin": Self.original, "dir/x": [1]])
        let response = try server.patch(target, PatchWrite(start: 0, bytes: [1, 2, 3]))
        #expect(response.status == 405)
        let allow = try #require(response.header("Allow"))
        #expect(allow.contains("GET") && allow.contains("HEAD") && !allow.contains("PATCH"))
        #expect(try server.read("doc.bin") == Self.original)
        // OPTIONS-less discovery: a writable server lists PATCH for other methods.
        let writable = try Self.server()
        #expect(try writable.request("POST", Self.target).header("Allow")?.contains("PATCH") == true)
    }

    struct AuthorizationCase: Sendable, CustomTestStringConvertible {
        let value: String?
        let accepted: Bool
        var testDescription: String { "Authorization: \(value ?? "(none)") → \(accepted ? 204 : 401)" }
    }

    static let authorizationCases: [AuthorizationCase] = [
        AuthorizationCase(value: nil, accepted: false),
        AuthorizationCase(value: "", accepted: false),
        AuthorizationCase(value: "Bearer", accepted: false),
        AuthorizationCase(value: "Bearer ", accepted: false),
        AuthorizationCase(value: "Bearer wrong", accepted: false),
        AuthorizationCase(value: "Bearer s3cret-toke", accepted: false),
        AuthorizationCase(value: "Bearer s3cret-token2", accepted: false),
        AuthorizationCase(value: "Bearer S3CRET-TOKEN", accepted: false),
        AuthorizationCase(value: "Bearer s3cret-token,second-token", accepted: false),
        AuthorizationCase(value: "s3cret-token", accepted: false),
        AuthorizationCase(value: "Basic czNjcmV0LXRva2VuOg==", accepted: false),
        AuthorizationCase(value: "Token s3cret-token", accepted: false),
        AuthorizationCase(value: "Bearers3cret-token", accepted: false),
        AuthorizationCase(value: "Bearer s3cret-token", accepted: true),
        AuthorizationCase(value: "bearer s3cret-token", accepted: true),
        AuthorizationCase(value: "BEARER s3cret-token", accepted: true),
        AuthorizationCase(value: "Bearer second-token", accepted: true)
    ]

    @Test("bearer tokens", arguments: authorizationCases)
    func authorization(_ authorization: AuthorizationCase) throws {
        let server = try Self.server(configure: { $0.tokens = Self.tokens })
        let headers = authorization.value.map { [("Authorization", $0)] } ?? []
        let before = try FileSnapshot(server.path("doc.bin"))
        let response = try server.patch(Self.target, PatchWrite(start: 0, bytes: [9, 9]), headers: headers)
        if authorization.accepted {
            #expect(response.status == 204)
            #expect(try server.read("doc.bin") == applied(Self.original, [9, 9], at: 0))
        } else {
            #expect(response.status == 401)
            #expect(response.header("WWW-Authenticate")?.hasPrefix("Bearer") == true)
            #expect(try FileSnapshot(server.path("doc.bin")) == before)
            // Authorization comes before anything about the file: a missing file, a directory,
            // a malformed body all answer 401 too, revealing nothing.
            for (target, extra) in [
                ("/files/missing.bin", [(String, String)]()), ("/files/dir/", []), ("/files/dir", []),
                (Self.target, [("If-Match", "\"stale\"")])
            ] {
                let other = try server.patch(target, PatchWrite(start: 0, bytes: [1]), headers: headers + extra)
                #expect(other.status == 401, "\(target)")
                #expect(other.header("WWW-Authenticate")?.hasPrefix("Bearer") == true)
            }
            let malformed = try server.request(
                "PATCH", "/files/missing.bin", headers: headers + [("Content-Type", "text/plain")], body: [1])
            #expect(malformed.status == 401)
            #expect(try FileSnapshot(server.path("doc.bin")) == before)
        }
    }

    @Test func aValidTokenOnAMissingFileIs404() throws {
        let server = try Self.server(configure: { $0.tokens = Self.tokens })
        let response = try server.patch(
            "/files/missing.bin", PatchWrite(start: 0, bytes: [1]),
            headers: [("Authorization", "Bearer second-token")])
        #expect(response.status == 404)
        #expect(!FileManager.default.fileExists(atPath: server.path("missing.bin")))
    }

    @Test func contentEncodingIdentityIsAccepted() throws {
        let server = try Self.server()
        let response = try server.patch(Self.target, PatchWrite(start: 0, bytes: [7, 7]), headers: [("Content-Encoding", "identity")])
        #expect(response.status == 204)
        #expect(try server.read("doc.bin") == applied(Self.original, [7, 7], at: 0))
    }

    @Test func percentEncodedNamesAndSubdirectories() throws {
        let server = try Self.server(files: ["sub dir/naïve file.bin": fill(0, 10)])
        let response = try server.patch("/files/sub%20dir/na%C3%AFve%20file.bin", PatchWrite(start: 8, bytes: [1, 2, 3]))
        #expect(response.status == 204)
        #expect(try server.read("sub dir/naïve file.bin") == fill(0, 8) + [1, 2, 3])
        #expect(try server.patch(Self.target + "?query=ignored", PatchWrite(start: 0, bytes: [4])).status == 204)
    }

    // MARK: Expect: 100-continue and early answers

    /// A client that waits for `100 Continue` gets it once its PATCH may proceed, and gets the
    /// final answer instead when the PATCH is refused on its headers.
    @Test func expectContinue() throws {
        let server = try Self.server(configure: { $0.tokens = Self.tokens })
        let body = fill(0x31, 200_000)
        let head =
            "PATCH \(Self.target) HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Range: bytes 0-\(body.count - 1)/*\r\n"
            + "Content-Length: \(body.count)\r\n"
        let accepted = try HTTPConnection(port: server.port, timeoutSeconds: 20)
        try accepted.sendRaw(Array((head + "Authorization: Bearer \(Self.tokens[0])\r\n\r\n").utf8))
        let interim = try accepted.readResponse()
        #expect(interim.status == 100)
        try accepted.sendRaw(body)
        #expect(try accepted.readResponse().status == 204)
        #expect(try server.read("doc.bin") == body)

        let refused = try HTTPConnection(port: server.port, timeoutSeconds: 20)
        try refused.sendRaw(Array((head + "\r\n").utf8))
        let answer = try refused.readResponse()
        #expect(answer.status == 401, "a refused PATCH must not be invited to send its body")
        #expect(try server.read("doc.bin") == body)
    }

    /// A refusal that comes after the turn was granted but before the body was read (stale
    /// If-Match, missing file, start beyond the end) is sent at once, without waiting for a large
    /// body, and reaches a client that is still sending it (on its own thread here).
    @Test(arguments: [
        ("If-Match: \"stale\"\r\n", "/files/doc.bin", 0, 412), ("", "/files/missing.bin", 0, 404),
        ("", "/files/doc.bin", 5000, 416)
    ])
    func anEarlyRefusalReachesAClientStillSending(_ header: String, _ target: String, _ start: Int, _ status: Int) throws {
        let server = try Self.server()
        let length = 4 << 20
        let connection = try HTTPConnection(port: server.port, timeoutSeconds: 20)
        try connection.sendRaw(
            Array(
                ("PATCH \(target) HTTP/1.1\r\nHost: x\r\n\(header)Content-Range: bytes \(start)-\(start + length - 1)/*\r\n"
                    + "Content-Length: \(length)\r\n\r\n").utf8))
        let sender = Unchecked(connection)
        let body = fill(0x32, length)
        Thread {
            // Fails with EPIPE or ECONNRESET once the server has answered and closed: expected.
            // Not waited for: it ends when the server closes, at the latest when it stops.
            try? sender.value.sendRaw(body)
        }.start()
        let answer = try connection.readResponse()
        #expect(answer.status == status, "\(answer.text)")
        #expect(try server.read("doc.bin") == Self.original)
    }

    // MARK: Changes made behind the server's back

    /// The writable file is kept open between PATCHes; a file replaced by rename, truncated or
    /// grown by someone else in between is patched as it is now, never at a stale length or inode.
    @Test func externalChangesBetweenPatches() throws {
        let server = try Self.server()
        #expect(try server.patch(Self.target, PatchWrite(start: 0, bytes: [1])).status == 204)

        // Replaced by rename: the new file is the one written, the old inode is left alone.
        let replacement = pseudoRandomBytes(count: 500, seed: 99)
        try server.write("doc.tmp", replacement)
        let oldInode = try fileStatus(server.path("doc.bin")).st_ino
        let keep = open(server.path("doc.bin"), O_RDONLY)
        defer { close(keep) }
        rename(server.path("doc.tmp"), server.path("doc.bin"))
        #expect(try fileStatus(server.path("doc.bin")).st_ino != oldInode)
        #expect(try server.patch(Self.target, PatchWrite(start: 10, bytes: [2, 2])).status == 204)
        #expect(try server.read("doc.bin") == applied(replacement, [2, 2], at: 10))
        var old = [UInt8](repeating: 0, count: Self.size)
        _ = old.withUnsafeMutableBytes { pread(keep, $0.baseAddress, Self.size, 0) }
        #expect(old == applied(Self.original, [1], at: 0), "the replaced file was written to")

        // Truncated: a write inside the new size works, the old end is now beyond it.
        truncate(server.path("doc.bin"), 100)
        #expect(try server.patch(Self.target, PatchWrite(start: 400, bytes: [3])).status == 416)
        #expect(try server.patch(Self.target, PatchWrite(start: 100, bytes: [3, 3])).status == 204)
        var expected = applied(Array(applied(replacement, [2, 2], at: 10).prefix(100)), [3, 3], at: 100)
        #expect(try server.read("doc.bin") == expected)

        // Grown by someone else: the new bytes are kept, and appends go after them.
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: server.path("doc.bin")))
        handle.seekToEndOfFile()
        handle.write(Data([9, 9, 9]))
        try handle.close()
        expected += [9, 9, 9]
        #expect(try server.patch(Self.target, PatchWrite(start: expected.count, bytes: [4])).status == 204)
        expected += [4]
        #expect(try server.read("doc.bin") == expected)
        #expect(try server.request("GET", Self.target).body == expected)
    }

    @Test func limitsAreInclusive() throws {
        let server = try Self.server(configure: {
            $0.maxBodyBytes = 4096
            $0.maxBufferedBodyBytes = 2048
        })
        #expect(try server.patch(Self.target, PatchWrite(start: 0, bytes: fill(1, 4096))).status == 204)
        var body = multipartByteranges([PatchWrite(start: 0, bytes: fill(2, 100))], boundary: "B")
        let padding = 2048 - body.count
        body = Array("x".utf8) + fill(0x2D, padding - 3) + Array("\r\n".utf8) + body  // a preamble fills it to exactly 2048
        #expect(body.count == 2048)
        let multipart = try server.request(
            "PATCH", Self.target, headers: [("Content-Type", "multipart/byteranges; boundary=B")], body: body)
        #expect(multipart.status == 204, "\(multipart.text)")
        #expect(try server.read("doc.bin") == applied(fill(1, 4096), fill(2, 100), at: 0))
    }

    /// More files than the writable-file cache holds (64), each patched twice, round robin.
    @Test func manyFilesThroughTheWritableCache() throws {
        let names = (0..<80).map { "many/\($0).bin" }
        let server = try Self.server(files: Dictionary(uniqueKeysWithValues: names.map { ($0, fill(0, 16)) }))
        for round in 0..<2 {
            for (index, name) in names.enumerated() {
                let response = try server.patch("/files/" + name, PatchWrite(start: round * 8, bytes: fill(UInt8(index), 8)))
                #expect(response.status == 204, "\(name)")
            }
        }
        for (index, name) in names.enumerated() { #expect(try server.read(name) == fill(UInt8(index), 16), "\(name)") }
    }

    // MARK: Rejections change nothing

    struct Rejection: Sendable, CustomTestStringConvertible {
        let name: String
        let target: String
        let headers: [(String, String)]
        let body: [UInt8]
        let status: Int
        var testDescription: String { "\(name) → \(status)" }

        init(_ name: String, _ status: Int, target: String = PatchTests.target, headers: [(String, String)], body: [UInt8] = fill(0x5A, 5))
        {
            self.name = name
            self.status = status
            self.target = target
            self.headers = headers
            self.body = body
        }

        static func contentRange(_ value: String, _ status: Int = 400) -> Rejection {
            Rejection("Content-Range: \(value)", status, headers: [("Content-Range", value)])
        }

        static func multipart(_ name: String, _ status: Int, _ body: [UInt8], boundary: String = "B") -> Rejection {
            Rejection("multipart: \(name)", status, headers: [("Content-Type", "multipart/byteranges; boundary=\(boundary)")], body: body)
        }

        static func message(_ name: String, _ status: Int, _ body: String) -> Rejection {
            Rejection("message/byterange: \(name)", status, headers: [("Content-Type", "message/byterange")], body: Array(body.utf8))
        }

        static func chunkedRaw(_ name: String, _ status: Int, range: String, _ bytes: [UInt8]) -> Rejection {
            Rejection(
                "chunked raw body: \(name)", status, headers: [("Content-Range", range), ("Transfer-Encoding", "chunked")],
                body: chunked(bytes))
        }
    }

    /// Limits of the rejection server: raw bodies up to 4096 bytes, buffered ones up to 2048.
    static let maxBody = 4096
    static let maxBuffered = 2048

    static let rejections: [Rejection] = {
        let five = fill(0x5A, 5)
        let part = { (start: Int, count: Int) in PatchWrite(start: start, bytes: fill(0x5A, count)) }
        var cases: [Rejection] = [
            // Malformed Content-Range headers.
            .contentRange("bytes 5-3/*"),
            .contentRange("bytes=0-4/*"),
            .contentRange("bytes 0-4"),
            .contentRange("bytes 0-4/"),
            .contentRange("items 0-4/*"),
            .contentRange("bytes */*"),
            .contentRange("bytes */99999999999999999999999"),
            .contentRange("bytes */9223372036854775808"),
            Rejection("a resize with a body", 400, headers: [("Content-Range", "bytes */10")], body: fill(1, 3)),
            Rejection(
                "a resize with a chunked body", 400, headers: [("Content-Range", "bytes */10"), ("Transfer-Encoding", "chunked")],
                body: chunked(fill(1, 3))),
            .contentRange("bytes -4/*"),
            .contentRange("bytes 0-/*"),
            .contentRange("bytes 0-4/3"),
            .contentRange("bytes 0x0-4/*"),
            .contentRange("bytes 0-99999999999999999999999/*"),
            .contentRange("bytes 9223372036854775807-9223372036854775811/*"),
            // A complete length that is not the file's length after the write.
            .contentRange("bytes 0-4/999"),
            .contentRange("bytes 0-4/1001"),
            .contentRange("bytes 1000-1004/1000"),
            // The body is not exactly the range.
            Rejection("Content-Length 6 for a 5-byte range", 400, headers: [("Content-Range", "bytes 0-4/*")], body: fill(1, 6)),
            Rejection("Content-Length 4 for a 5-byte range", 400, headers: [("Content-Range", "bytes 0-4/*")], body: fill(1, 4)),
            Rejection("Content-Length 0 for a 5-byte range", 400, headers: [("Content-Range", "bytes 0-4/*")], body: []),
            .chunkedRaw("one byte short", 400, range: "bytes 0-9/*", fill(1, 9)),
            .chunkedRaw("one byte long", 400, range: "bytes 0-9/*", fill(1, 11)),
            .chunkedRaw("empty", 400, range: "bytes 0-9/*", []),
            .chunkedRaw("short and appending", 400, range: "bytes 1000-1099/*", fill(1, 99)),
            // Both a Content-Range and an envelope type.
            Rejection(
                "Content-Range with multipart type", 400,
                headers: [("Content-Range", "bytes 0-4/*"), ("Content-Type", "multipart/byteranges; boundary=B")]),
            Rejection(
                "Content-Range with message/byterange", 400,
                headers: [("Content-Range", "bytes 0-4/*"), ("Content-Type", "message/byterange")]),
            // The request's own content coding: the bytes would be written still encoded.
            Rejection(
                "raw form with Content-Encoding: gzip", 415, headers: [("Content-Range", "bytes 0-4/*"), ("Content-Encoding", "gzip")]),
            Rejection(
                "multipart with Content-Encoding: gzip", 415,
                headers: [("Content-Type", "multipart/byteranges; boundary=B"), ("Content-Encoding", "gzip")],
                body: multipartByteranges([part(0, 5)], boundary: "B")),
            Rejection(
                "message/byterange with Content-Encoding: br", 415,
                headers: [("Content-Type", "message/byterange"), ("Content-Encoding", "br")],
                body: messageByterange(part(0, 5))),
            // Content-Range is a singleton: two of them leave the target ambiguous (as two in one
            // multipart part do).
            Rejection("two Content-Range headers", 400, headers: [("Content-Range", "bytes 0-4/*"), ("Content-Range", "bytes 10-14/*")]),
            // Types that are no PATCH form.
            Rejection("text/plain without Content-Range", 415, headers: [("Content-Type", "text/plain")]),
            Rejection("application/json", 415, headers: [("Content-Type", "application/json")], body: Array("{}".utf8)),
            Rejection("multipart/form-data", 415, headers: [("Content-Type", "multipart/form-data; boundary=B")]),
            Rejection("application/octet-stream without Content-Range", 415, headers: [("Content-Type", "application/octet-stream")]),
            Rejection("no Content-Type, no Content-Range", 415, headers: []),
            Rejection("unparseable Content-Type", 415, headers: [("Content-Type", "//")]),
            // Multipart bodies.
            Rejection(
                "multipart: no boundary parameter", 400, headers: [("Content-Type", "multipart/byteranges")],
                body: multipartByteranges([part(0, 5)], boundary: "B")),
            .multipart(
                "boundary of 71 characters", 400, multipartByteranges([part(0, 5)], boundary: String(repeating: "b", count: 71)),
                boundary: String(repeating: "b", count: 71)),
            .multipart("a part without Content-Range", 400, Array("--B\r\nContent-Type: text/plain\r\n\r\nZZZZZ\r\n--B--\r\n".utf8)),
            .multipart(
                "a part with a malformed Content-Range", 400,
                Array("--B\r\nContent-Range: bytes 4-0/*\r\n\r\nZZZZZ\r\n--B--\r\n".utf8)),
            .multipart("a part shorter than its range", 400, Array("--B\r\nContent-Range: bytes 0-5/*\r\n\r\nZZZZZ\r\n--B--\r\n".utf8)),
            .multipart("a part longer than its range", 400, Array("--B\r\nContent-Range: bytes 0-3/*\r\n\r\nZZZZZ\r\n--B--\r\n".utf8)),
            .multipart(
                "a part's Content-Length disagrees", 400,
                Array("--B\r\nContent-Range: bytes 0-4/*\r\nContent-Length: 4\r\n\r\nZZZZZ\r\n--B--\r\n".utf8)),
            .multipart(
                "a gzip part", 415,
                Array("--B\r\nContent-Range: bytes 0-4/*\r\nContent-Encoding: gzip\r\n\r\nZZZZZ\r\n--B--\r\n".utf8)),
            .multipart("header lines ending in bare LF", 400, Array("--B\nContent-Range: bytes 0-4/*\n\nZZZZZ\n--B--\n".utf8)),
            .multipart("overlapping parts", 400, multipartByteranges([part(0, 10), part(9, 10)], boundary: "B")),
            .multipart("the same range twice", 400, multipartByteranges([part(100, 10), part(100, 10)], boundary: "B")),
            .multipart(
                "overlap among valid parts", 400,
                multipartByteranges(
                    [part(0, 5), part(500, 10), part(20, 5), part(505, 1)],
                    boundary: "B")),
            .multipart(
                "different complete lengths", 400,
                multipartByteranges(
                    [
                        PatchWrite(start: 0, bytes: five, complete: "1000"),
                        PatchWrite(start: 10, bytes: five, complete: "1001")
                    ], boundary: "B")),
            .multipart("no closing delimiter", 400, multipartByteranges([part(0, 5), part(10, 5)], boundary: "B", close: false)),
            .multipart("closing delimiter cut short", 400, multipartByteranges([part(0, 5)], boundary: "B").dropLast(4).map { $0 }),
            .multipart("no parts", 400, Array("--B--\r\n".utf8)),
            .multipart("empty body", 400, []),
            .multipart("a different boundary in the body", 400, multipartByteranges([part(0, 5)], boundary: "C")),
            .multipart(
                "a valid part then a bad one", 400,
                multipartByteranges([part(0, 5)], boundary: "B", close: false)
                    + Array("\r\n--B\r\nContent-Range: bytes 10-14/*\r\n\r\nZZ\r\n--B--\r\n".utf8)),
            .multipart("a valid part then a gap past the end", 416, multipartByteranges([part(0, 5), part(1001, 5)], boundary: "B")),
            // message/byterange bodies.
            .message("no Content-Range", 400, "Content-Type: text/plain\r\n\r\nZZZZZ"),
            .message("data longer than the range", 400, "Content-Range: bytes 0-4/*\r\n\r\nZZZZZZ"),
            .message("data shorter than the range", 400, "Content-Range: bytes 0-4/*\r\n\r\nZZZZ"),
            .message("no empty line", 400, "Content-Range: bytes 0-4/*\r\n"),
            .message("bare LF", 400, "Content-Range: bytes 0-4/*\n\nZZZZZ"),
            .message("two Content-Ranges", 400, "Content-Range: bytes 0-4/*\r\nContent-Range: bytes 5-9/*\r\n\r\nZZZZZ"),
            .message("folded header", 400, "Content-Range: bytes 0-4/*\r\n X: y\r\n\r\nZZZZZ"),
            .message("gzip", 415, "Content-Range: bytes 0-4/*\r\nContent-Encoding: gzip\r\n\r\nZZZZZ"),
            .message("start beyond the end", 416, "Content-Range: bytes 1001-1005/*\r\n\r\nZZZZZ"),
            // Too large (the limits are configured small).
            Rejection("raw body over maxBodyBytes", 413, headers: [("Content-Range", "bytes 0-\(maxBody)/*")], body: fill(1, maxBody + 1)),
            Rejection(
                "chunked raw range over maxBodyBytes", 413,
                headers: [("Content-Range", "bytes 0-\(maxBody)/*"), ("Transfer-Encoding", "chunked")],
                body: chunked(fill(1, maxBody + 1), chunkSize: 1000)),
            Rejection(
                "a resize growing by more than maxBodyBytes", 413, headers: [("Content-Range", "bytes */\(1000 + maxBody + 1)")], body: []),
            Rejection(
                "a resize with a stale If-Match", 412, headers: [("Content-Range", "bytes */10"), ("If-Match", "\"stale\"")], body: []),
            // A chunked raw body is held in memory to be checked against its range before
            // anything is written, so the in-memory limit applies to it.
            Rejection(
                "chunked raw body over maxBufferedBodyBytes", 413,
                headers: [("Content-Range", "bytes 0-\(maxBuffered)/*"), ("Transfer-Encoding", "chunked")],
                body: chunked(fill(1, maxBuffered + 1), chunkSize: 1000)),
            .multipart("over maxBufferedBodyBytes", 413, multipartByteranges([part(0, maxBuffered)], boundary: "B")),
            Rejection(
                "chunked multipart over maxBufferedBodyBytes", 413,
                headers: [("Content-Type", "multipart/byteranges; boundary=B"), ("Transfer-Encoding", "chunked")],
                body: chunked(multipartByteranges([part(0, maxBuffered)], boundary: "B"), chunkSize: 500)),
            .message(
                "over maxBufferedBodyBytes", 413,
                "Content-Range: bytes 0-\(maxBuffered)/*\r\n\r\n" + String(repeating: "Z", count: maxBuffered + 1)),
            // Not a writable file.
            Rejection("missing file", 404, target: "/files/missing.bin", headers: [("Content-Range", "bytes 0-4/*")]),
            Rejection("missing file, appending at 0", 404, target: "/files/new/missing.bin", headers: [("Content-Range", "bytes 0-4/*")]),
            Rejection("directory with slash", 404, target: "/files/dir/", headers: [("Content-Range", "bytes 0-4/*")]),
            Rejection("directory without slash", 404, target: "/files/dir", headers: [("Content-Range", "bytes 0-4/*")]),
            Rejection("the root", 404, target: "/files/", headers: [("Content-Range", "bytes 0-4/*")]),
            Rejection("outside the root", 404, target: "/files/%2e%2e/etc/passwd", headers: [("Content-Range", "bytes 0-4/*")]),
            Rejection(
                "multipart to a missing file", 404, target: "/files/missing.bin",
                headers: [("Content-Type", "multipart/byteranges; boundary=B")], body: multipartByteranges([part(0, 5)], boundary: "B")),
            // Range and preconditions.
            .contentRange("bytes 1001-1005/*", 416),
            .contentRange("bytes 4000-4004/*", 416),
            Rejection("stale If-Match", 412, headers: [("Content-Range", "bytes 0-4/*"), ("If-Match", "\"stale\"")]),
            Rejection(
                "If-Unmodified-Since long ago", 412,
                headers: [("Content-Range", "bytes 0-4/*"), ("If-Unmodified-Since", "Sat, 01 Jan 2000 00:00:00 GMT")])
        ]
        cases.append(
            Rejection(
                "chunked multipart, bad part", 400,
                headers: [("Content-Type", "multipart/byteranges; boundary=B"), ("Transfer-Encoding", "chunked")],
                body: chunked(multipartByteranges([part(0, 5), part(3, 5)], boundary: "B"))))
        return cases
    }()

    /// Every file under the server's root, with its bytes and timestamps.
    static func snapshotRoot(_ server: TestServer) throws -> [String: FileSnapshot] {
        var snapshots: [String: FileSnapshot] = [:]
        let enumerator = FileManager.default.enumerator(atPath: server.root.path)
        while let relative = enumerator?.nextObject() as? String {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: server.path(relative), isDirectory: &isDirectory), !isDirectory.boolValue {
                snapshots[relative] = try FileSnapshot(server.path(relative))
            }
        }
        return snapshots
    }

    @Test("a rejected PATCH changes nothing", arguments: rejections)
    func rejection(_ rejection: Rejection) throws {
        let server = try Self.server(configure: {
            $0.maxBodyBytes = Self.maxBody
            $0.maxBufferedBodyBytes = Self.maxBuffered
        })
        let before = try Self.snapshotRoot(server)
        let etag = try server.request("GET", Self.target).header("ETag")
        let response = try server.request("PATCH", rejection.target, headers: rejection.headers, body: rejection.body)
        #expect(response.status == rejection.status, "\(response.text)")
        #expect(response.header("Content-Type") == "application/problem+json")
        #expect(response.json["status"] as? Int == rejection.status)
        #expect((response.json["detail"] as? String)?.isEmpty == false)
        let after = try Self.snapshotRoot(server)
        #expect(after == before)
        for (name, snapshot) in after where snapshot != before[name] {
            Issue.record("\(name) changed: \(before[name].map(\.description) ?? "absent") → \(snapshot)")
        }
        #expect(try server.request("GET", Self.target).header("ETag") == etag)
        // The rejection gave the file's write turn back: the next PATCH is served.
        let next = try server.patch(Self.target, PatchWrite(start: 0, bytes: [1, 2, 3]))
        #expect(next.status == 204)
        #expect(try server.read("doc.bin") == applied(Self.original, [1, 2, 3], at: 0))
    }

    /// chmod 0444 does not stop root, which these tests usually run as; an immutable file
    /// (`chattr +i`, EPERM for everyone) does. Not as root, chmod 0444 is used.
    @Test(.enabled("needs chattr +i (root on ext4/xfs/btrfs), or not being root") { !Privileges.isRoot || Privileges.canMakeImmutable })
    func anUnwritableFileIs403() throws {
        let server = try Self.server()
        let path = server.path("doc.bin")
        if Privileges.isRoot {
            let set = try run("/usr/bin/chattr", ["+i", path])
            try #require(set.status == 0, "chattr +i: \(set.stderr)")
        } else {
            chmod(path, 0o444)
        }
        func restore() {
            if Privileges.isRoot { _ = try? run("/usr/bin/chattr", ["-i", path]) } else { chmod(path, 0o644) }
        }
        defer {
            restore()
            withExtendedLifetime(server) {}
        }
        let before = try FileSnapshot(path)
        let raw = try server.patch(Self.target, PatchWrite(start: 0, bytes: [1, 2, 3]))
        #expect(raw.status == 403, "\(raw.text)")
        #expect(raw.header("Content-Type") == "application/problem+json")
        let growing = try server.patch(Self.target, PatchWrite(start: 1000, bytes: [1, 2, 3]))
        #expect(growing.status == 403)
        let multipart = try server.patchMultipart(Self.target, [PatchWrite(start: 0, bytes: [1])])
        #expect(multipart.status == 403)
        #expect(try FileSnapshot(path) == before)
        #expect(try server.request("GET", Self.target).body == Self.original)
        restore()
        #expect(try server.patch(Self.target, PatchWrite(start: 0, bytes: [1, 2, 3])).status == 204)
        #expect(try server.read("doc.bin") == applied(Self.original, [1, 2, 3], at: 0))
    }

    @Test(.enabled("needs mount(8): root with CAP_SYS_ADMIN") { Privileges.canMount })
    func aFileOnAReadOnlyMountIs403() throws {
        let server = try Self.server(files: ["ro/locked.bin": Self.original])
        let (mount, reason) = ScratchMount.readOnlyBind(server.path("ro"))
        guard let mount else {
            Issue.record("skipped: cannot make a read-only bind mount: \(reason)")
            return
        }
        defer {
            mount.unmount(remove: false)
            withExtendedLifetime(server) {}
        }
        let before = try FileSnapshot(server.path("ro/locked.bin"))
        let response = try server.patch("/files/ro/locked.bin", PatchWrite(start: 0, bytes: [1, 2, 3]))
        #expect(response.status == 403, "\(response.text)")
        #expect(try FileSnapshot(server.path("ro/locked.bin")) == before)
        // A GET still works, and a writable file elsewhere is unaffected.
        #expect(try server.request("GET", "/files/ro/locked.bin").body == Self.original)
        #expect(try server.patch(Self.target, PatchWrite(start: 0, bytes: [1])).status == 204)
    }

    @Test func aSymlinkOutOfTheRootCannotBePatched() throws {
        let server = try Self.server()
        let outside = FileManager.default.temporaryDirectory.appendingPathComponent("mmapd-outside-\(UUID().uuidString)").path
        try Data(Self.original).write(to: URL(fileURLWithPath: outside))
        defer { unlink(outside) }
        symlink(outside, server.path("escape.bin"))
        let response = try server.patch("/files/escape.bin", PatchWrite(start: 0, bytes: [1, 2, 3]))
        #expect(response.status == 404)
        #expect([UInt8](try Data(contentsOf: URL(fileURLWithPath: outside))) == Self.original)
    }
}
