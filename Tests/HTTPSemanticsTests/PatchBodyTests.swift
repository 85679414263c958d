import HTTPSemantics
import Testing

@Suite("PatchBody")
struct PatchBodyTests {
    // MARK: Choosing the form from the headers

    @Test(
        "a Content-Range header selects the raw form",
        arguments: [
            ("bytes 0-4/*", nil, 0, 5, nil),
            ("bytes 2-6/25", "text/plain", 2, 5, 25),
            ("bytes 0-0/1", "application/octet-stream", 0, 1, 1),
            ("bytes 100-199/*", "garbage type", 100, 100, nil),
            ("bytes 9223372036854775805-9223372036854775806/*", nil, 9_223_372_036_854_775_805, 2, nil)
        ] as [(String, String?, UInt64, UInt64, UInt64?)])
    func rawForm(contentRange: String, contentType: String?, start: UInt64, length: UInt64, completeLength: UInt64?) throws {
        let form = try PatchForm(contentType: contentType, contentRange: contentRange)
        #expect(form == .contentRange(start: start, length: length, completeLength: completeLength))
    }

    @Test(
        "bytes */N is a resize to N",
        arguments: [
            ("bytes */100", UInt64(100)), ("bytes */0", 0), ("BYTES */7", 7), (" bytes */9223372036854775807 ", UInt64(Int64.max))
        ])
    func resizeForm(contentRange: String, length: UInt64) throws {
        #expect(try PatchForm(contentType: "text/plain", contentRange: contentRange) == .resize(length: length))
        #expect(try PatchBody.parts(of: [], form: .resize(length: length)).isEmpty)
        let problem = try #require(problem { () throws(ProblemDetails) in try PatchBody.parts(of: [1], form: .resize(length: length)) })
        #expect(problem.status == 400 && problem.detail.contains("no body"))
    }

    @Test(
        "a Content-Range header that cannot be written is 400",
        arguments: [
            "bytes */*", "bytes */9223372036854775808", "bytes */-1", "bytes */", "bytes 5-4/*", "bytes 0-4/4", "bytes 0-4/3", "bytes=0-4",
            "items 0-4/*", "bytes 0-/*",
            "bytes -5/*", "", "bytes 0-4", "bytes a-b/*", "bytes 0-18446744073709551615/*",
            "bytes 9223372036854775807-9223372036854775807/*", "bytes 0-9223372036854775807/*"
        ])
    func rawFormInvalid(contentRange: String) throws {
        let problem = try #require(
            problem { () throws(ProblemDetails) in
                try PatchForm(contentType: nil, contentRange: contentRange)
            })
        #expect(problem.status == 400)
        #expect(problem.detail.contains("Content-Range"))
    }

    @Test(
        "a Content-Range header with an envelope type is ambiguous: 400",
        arguments: [
            "message/byterange", "multipart/byteranges; boundary=abc", "Multipart/ByteRanges; boundary=x"
        ])
    func rawFormWithEnvelope(contentType: String) throws {
        let problem = try #require(
            problem { () throws(ProblemDetails) in
                try PatchForm(contentType: contentType, contentRange: "bytes 0-4/*")
            })
        #expect(problem.status == 400)
    }

    @Test(
        "the envelope types are recognised",
        arguments: [
            ("message/byterange", PatchForm.messageByterange),
            ("Message/ByteRange", .messageByterange),
            ("message/byterange; charset=utf-8", .messageByterange),
            ("multipart/byteranges; boundary=THIS_STRING_SEPARATES", .multipartByteranges(boundary: "THIS_STRING_SEPARATES")),
            ("multipart/byteranges; boundary=\"a b:c\"", .multipartByteranges(boundary: "a b:c")),
            ("MULTIPART/BYTERANGES; BOUNDARY=CaSe", .multipartByteranges(boundary: "CaSe")),
            (
                "multipart/byteranges; boundary=\(String(repeating: "x", count: 70))",
                .multipartByteranges(boundary: String(repeating: "x", count: 70))
            ),
            ("multipart/byteranges; boundary=\"'()+_,-./:=?\"", .multipartByteranges(boundary: "'()+_,-./:=?"))
        ])
    func envelopeForms(contentType: String, expected: PatchForm) throws {
        #expect(try PatchForm(contentType: contentType, contentRange: nil) == expected)
    }

    @Test(
        "without Content-Range, any other type is 415",
        arguments: [
            nil, "", "text/plain", "application/json", "application/octet-stream", "multipart/form-data; boundary=x",
            "message/http", "garbage", "multipart/byteranges/x"
        ] as [String?])
    func unsupportedTypes(contentType: String?) throws {
        let problem = try #require(
            problem { () throws(ProblemDetails) in
                try PatchForm(contentType: contentType, contentRange: nil)
            })
        #expect(problem.status == 415)
    }

    @Test(
        "multipart/byteranges needs a valid boundary",
        arguments: [
            "multipart/byteranges", "multipart/byteranges; charset=utf-8", "multipart/byteranges; boundary=\"\"",
            "multipart/byteranges; boundary=\(String(repeating: "x", count: 71))", "multipart/byteranges; boundary=\"abc \"",
            "multipart/byteranges; boundary=\"a@b\"", "multipart/byteranges; boundary=\"a\\\"b\"", "multipart/byteranges; boundary=a!b",
            "multipart/byteranges; boundary=\"é\""
        ])
    func invalidBoundary(contentType: String) throws {
        let problem = try #require(
            problem { () throws(ProblemDetails) in
                try PatchForm(contentType: contentType, contentRange: nil)
            })
        #expect(problem.status == 400)
        #expect(problem.detail.contains("boundary"))
    }

    // MARK: Raw form

    @Test("the raw body must be exactly the range's length", arguments: [(5, true), (4, false), (6, false), (0, false)])
    func rawBody(length: Int, accepted: Bool) throws {
        let form = PatchForm.contentRange(start: 10, length: 5, completeLength: nil)
        let body = [UInt8](repeating: 0x61, count: length)
        let result = Result { () throws(ProblemDetails) in try PatchBody.parts(of: body, form: form) }
        if accepted {
            #expect(try result.get() == [PatchPart(start: 10, data: 0..<5, completeLength: nil)])
        } else {
            let problem = try #require(problem { () throws(ProblemDetails) in try result.get() })
            #expect(problem.status == 400)
            #expect(problem.detail.contains("carries \(length) bytes"))
            #expect(problem.detail.contains("bytes 10-14"))
        }
    }

    // MARK: message/byterange

    @Test("the draft's message/byterange example")
    func messageByterangeExample() throws {
        let payload = [UInt8](repeating: 0x2A, count: 200)
        let body = bytes("Content-Range: bytes 100-299/600\r\nContent-Type: text/plain\r\n\r\n") + payload
        let parts = try PatchBody.parts(of: body, form: .messageByterange)
        #expect(parts.count == 1)
        let part = try #require(parts.first)
        #expect(part.start == 100)
        #expect(part.end == 300)
        #expect(part.completeLength == 600)
        #expect(Array(body[part.data]) == payload)
    }

    static let validMessages: [(String, UInt64, String)] = [
        ("Content-Range: bytes 0-4/*\r\n\r\nhello", 0, "hello"),
        ("content-range: bytes 0-0/*\r\n\r\nx", 0, "x"),
        ("CONTENT-RANGE: bytes 7-7/8\r\n\r\nx", 7, "x"),
        ("Content-Range:bytes 0-0/*\r\n\r\nx", 0, "x"),
        ("Content-Range: \t bytes 3-5/* \t\r\n\r\nabc", 3, "abc"),
        ("Content-Range: bytes 0-4/*\r\nContent-Length: 5\r\n\r\nhello", 0, "hello"),
        ("X-Anything: goes\r\nContent-Range: bytes 0-4/*\r\nContent-Type: application/weird\r\n\r\nhello", 0, "hello"),
        ("Content-Range: bytes 0-4/*\r\nContent-Encoding: identity\r\n\r\nhello", 0, "hello"),
        ("Content-Range: bytes 0-4/*\r\nContent-Transfer-Encoding: binary\r\n\r\nhello", 0, "hello"),
        ("Content-Range: bytes 0-3/*\r\nX-Empty:\r\n\r\n\r\n\r\n", 0, "\r\n\r\n"),
        ("Content-Range: bytes 0-5/*\r\n\r\n--x\r\n\r", 0, "--x\r\n\r"),
        ("Content-Range: bytes 0-4/*\r\nX-Obs-Text: caf\u{E9}\r\n\r\n\u{E9}t\u{E9}", 0, "\u{E9}t\u{E9}")
    ]

    @Test("valid message/byterange bodies", arguments: validMessages)
    func validMessage(body: String, start: UInt64, data: String) throws {
        let bodyBytes = bytes(body)
        let parts = try PatchBody.parts(of: bodyBytes, form: .messageByterange)
        #expect(parts.count == 1)
        #expect(parts.first?.start == start)
        #expect(parts.first.map { Array(bodyBytes[$0.data]) } == bytes(data))
    }

    /// (body, status, a phrase the detail must contain)
    static let invalidMessages: [(String, Int, String)] = [
        ("", 400, "empty line"),
        ("\r\nhello", 400, "no Content-Range"),
        ("Content-Type: text/plain\r\n\r\nhello", 400, "no Content-Range"),
        ("Content-Range: bytes 0-4/*\r\nhello", 400, "empty line"),
        ("Content-Range: bytes 0-4/*\r\n", 400, "empty line"),
        ("Content-Range: bytes 0-4/*", 400, "empty line"),
        ("Content-Range: bytes 0-4/*\n\nhello", 400, "bare LF"),
        ("Content-Range: bytes 0-4/*\r\n\nhello", 400, "bare LF"),
        ("\nContent-Range: bytes 0-4/*\r\n\r\nhello", 400, "bare LF"),
        ("Content-Range: bytes 0-4/*\r\n\r\nhell", 400, "carries 4 bytes"),
        ("Content-Range: bytes 0-4/*\r\n\r\nhello!", 400, "carries 6 bytes"),
        ("Content-Range: bytes 0-4/*\r\n\r\n", 400, "carries 0 bytes"),
        ("Content-Range: bytes 0-4/*\r\nContent-Length: 4\r\n\r\nhello", 400, "Content-Length 4"),
        ("Content-Range: bytes 0-4/*\r\nContent-Length: abc\r\n\r\nhello", 400, "not a decimal"),
        ("Content-Range: bytes 0-4/*\r\nContent-Length: -5\r\n\r\nhello", 400, "not a decimal"),
        ("Content-Range: bytes 0-4/*\r\nContent-Length:\r\n\r\nhello", 400, "not a decimal"),
        ("Content-Range: bytes 0-4/*\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello", 400, "more than one Content-Length"),
        ("Content-Range: bytes 0-4/*\r\nContent-Range: bytes 0-4/*\r\n\r\nhello", 400, "more than one Content-Range"),
        (" Content-Range: bytes 0-4/*\r\n\r\nhello", 400, "whitespace"),
        ("Content-Range: bytes 0-4/*\r\nX-Folded: a\r\n b\r\n\r\nhello", 400, "whitespace"),
        ("Content-Range : bytes 0-4/*\r\n\r\nhello", 400, "'Name: value'"),
        ("NoColonHere\r\n\r\nhello", 400, "'Name: value'"),
        (": value\r\n\r\nhello", 400, "'Name: value'"),
        ("Bad Name: x\r\nContent-Range: bytes 0-4/*\r\n\r\nhello", 400, "'Name: value'"),
        ("Content-Range: bytes 0-4/*\r\nX: a\u{1}b\r\n\r\nhello", 400, "control character"),
        ("Content-Range: bytes 0-4/*\r\nX: a\rb\r\n\r\nhello", 400, "control character"),
        ("Content-Range: bytes */5\r\n\r\nhello", 400, "names no range"),
        ("Content-Range: bytes 4-0/*\r\n\r\nhello", 400, "Content-Range"),
        ("Content-Range: bytes=0-4\r\n\r\nhello", 400, "malformed"),
        ("Content-Range: bytes 0-4/3\r\n\r\nhello", 400, "Content-Range"),
        ("Content-Range: bytes 0-4/*\r\nContent-Encoding: gzip\r\n\r\nhello", 415, "Content-Encoding"),
        ("Content-Range: bytes 0-4/*\r\nContent-Transfer-Encoding: base64\r\n\r\naGVsbG8=", 415, "Content-Transfer-Encoding")
    ]

    @Test("invalid message/byterange bodies", arguments: invalidMessages)
    func invalidMessage(body: String, status: Int, phrase: String) throws {
        let problem = try #require(
            problem { () throws(ProblemDetails) in
                try PatchBody.parts(of: bytes(body), form: .messageByterange)
            })
        #expect(problem.status == status)
        #expect(problem.detail.contains(phrase), "\(problem.detail)")
        #expect(problem.detail.contains("message/byterange"), "\(problem.detail)")
    }

    // MARK: multipart/byteranges

    /// The draft's example, byte for byte.
    static let draftExample =
        "--THIS_STRING_SEPARATES\r\nContent-Range: bytes 2-6/25\r\nContent-Type: text/plain\r\n\r\n23456\r\n"
        + "--THIS_STRING_SEPARATES\r\nContent-Range: bytes 17-21/25\r\nContent-Type: text/plain\r\n\r\n78901\r\n"
        + "--THIS_STRING_SEPARATES--"

    @Test("the draft's multipart/byteranges example")
    func multipartExample() throws {
        let body = bytes(Self.draftExample)
        let parts = try PatchBody.parts(of: body, form: .multipartByteranges(boundary: "THIS_STRING_SEPARATES"))
        #expect(parts.map(\.start) == [2, 17])
        #expect(parts.map(\.end) == [7, 22])
        #expect(parts.map(\.completeLength) == [25, 25])
        #expect(parts.map { String(decoding: body[$0.data], as: UTF8.self) } == ["23456", "78901"])
    }

    @Test("the [UInt8] and raw-buffer entry points agree, and ranges index the body")
    func rawBufferEntryPoint() throws {
        let body = bytes(Self.draftExample)
        let form = PatchForm.multipartByteranges(boundary: "THIS_STRING_SEPARATES")
        let fromArray = try PatchBody.parts(of: body, form: form)
        let fromBuffer = try body.withUnsafeBytes { buffer in
            Result { () throws(ProblemDetails) in try PatchBody.parts(of: buffer, form: form) }
        }.get()
        #expect(fromArray == fromBuffer)
        #expect(fromArray.map(\.data) == [82..<87, 173..<178])
    }

    /// Valid multipart bodies with boundary "B": (body, expected (start, data) per part)
    static let validMultiparts: [(String, [(UInt64, String)])] = [
        // a preamble, ignored, and an epilogue, ignored
        ("preamble text\r\nmore\r\n--B\r\nContent-Range: bytes 0-2/*\r\n\r\nabc\r\n--B--\r\nepilogue --B\r\n--B--", [(0, "abc")]),
        // the CRLF ending the preamble belongs to the first delimiter
        ("\r\n--B\r\nContent-Range: bytes 0-2/*\r\n\r\nabc\r\n--B--", [(0, "abc")]),
        // transport padding after boundaries
        (
            "--B \t \r\nContent-Range: bytes 0-2/*\r\n\r\nabc\r\n--B\t\r\nContent-Range: bytes 3-3/*\r\n\r\nd\r\n--B-- \t",
            [(0, "abc"), (3, "d")]
        ),
        // closing delimiter followed by CRLF, or by padding and CRLF
        ("--B\r\nContent-Range: bytes 0-2/*\r\n\r\nabc\r\n--B--\r\n", [(0, "abc")]),
        ("--B\r\nContent-Range: bytes 0-2/*\r\n\r\nabc\r\n--B--  \r\n", [(0, "abc")]),
        // data holding CR, LF, dashes and the boundary not preceded by CRLF
        ("--B\r\nContent-Range: bytes 0-9/*\r\n\r\n\r\n-\r\nx--B\n\r\n--B--", [(0, "\r\n-\r\nx--B\n")]),
        ("--B\r\nContent-Range: bytes 0-5/*\r\n\r\n\r\n\r\n\r\n\r\n--B--", [(0, "\r\n\r\n\r\n")]),
        // parts out of order, adjacent, with and without complete lengths
        (
            "--B\r\nContent-Range: bytes 10-12/*\r\n\r\nxyz\r\n--B\r\nContent-Range: bytes 0-1/20\r\n\r\nab\r\n--B\r\nContent-Range: bytes 2-9/20\r\n\r\n01234567\r\n--B--",
            [(10, "xyz"), (0, "ab"), (2, "01234567")]
        ),
        // Content-Length agreeing with Content-Range, and an unknown header
        ("--B\r\nX-Note: hi\r\nContent-Length: 3\r\ncontent-range: bytes 5-7/*\r\n\r\nabc\r\n--B--", [(5, "abc")]),
        // a part without headers other than Content-Range, at the largest writable offset
        ("--B\r\nContent-Range: bytes 9223372036854775806-9223372036854775806/*\r\n\r\nz\r\n--B--", [(9_223_372_036_854_775_806, "z")])
    ]

    @Test("valid multipart bodies", arguments: validMultiparts)
    func validMultipart(body: String, expected: [(UInt64, String)]) throws {
        let bodyBytes = bytes(body)
        let parts = try PatchBody.parts(of: bodyBytes, form: .multipartByteranges(boundary: "B"))
        #expect(parts.map(\.start) == expected.map(\.0))
        #expect(parts.map { Array(bodyBytes[$0.data]) } == expected.map { bytes($0.1) })
    }

    @Test("a quoted boundary with spaces frames the body")
    func boundaryWithSpaces() throws {
        let form = try PatchForm(contentType: "multipart/byteranges; boundary=\"a b\"", contentRange: nil)
        let body = bytes("--a b\r\nContent-Range: bytes 0-0/*\r\n\r\nx\r\n--a b--")
        #expect(try PatchBody.parts(of: body, form: form).map(\.start) == [0])
    }

    @Test("binary payloads of every byte value pass through untouched")
    func binaryPayload() throws {
        let payload = (0...255).map(UInt8.init) + (0...255).reversed().map(UInt8.init)
        let body = bytes("--B\r\nContent-Range: bytes 1000-1511/*\r\n\r\n") + payload + bytes("\r\n--B--")
        let parts = try PatchBody.parts(of: body, form: .multipartByteranges(boundary: "B"))
        #expect(parts.count == 1)
        #expect(parts.first.map { Array(body[$0.data]) } == payload)
    }

    @Test("a message/byterange document wrapped in multipart framing means the same")
    func messageEqualsSinglePart() throws {
        for (document, _, _) in Self.validMessages {
            let message = bytes(document)
            let wrapped = bytes("--sep\r\n") + message + bytes("\r\n--sep--\r\n")
            let single = try PatchBody.parts(of: message, form: .messageByterange)
            let multi = try PatchBody.parts(of: wrapped, form: .multipartByteranges(boundary: "sep"))
            #expect(single.map(\.start) == multi.map(\.start))
            #expect(single.map { Array(message[$0.data]) } == multi.map { Array(wrapped[$0.data]) })
        }
    }

    /// Invalid multipart bodies with boundary "B": (body, status, a phrase the detail must contain)
    static let invalidMultiparts: [(String, Int, String)] = [
        // framing
        ("", 400, "no boundary line"),
        ("Content-Range: bytes 0-2/*\r\n\r\nabc", 400, "no boundary line"),
        ("--C\r\nContent-Range: bytes 0-2/*\r\n\r\nabc\r\n--C--", 400, "no boundary line"),
        ("--B--", 400, "no parts"),
        ("preamble\r\n--B--\r\n", 400, "no parts"),
        ("--B\nContent-Range: bytes 0-2/*\n\nabc\n--B--", 400, "CRLF"),
        ("--Bx\r\nContent-Range: bytes 0-2/*\r\n\r\nabc\r\n--B--", 400, "CRLF"),
        ("--B junk\r\nContent-Range: bytes 0-2/*\r\n\r\nabc\r\n--B--", 400, "CRLF"),
        ("--B\r\nContent-Range: bytes 0-2/*\r\n\r\nabc\r\n--B--junk", 400, "closing delimiter"),
        ("--B\r\nContent-Range: bytes 0-2/*\r\n\r\nabc\r\n--B-- x\r\n", 400, "closing delimiter"),
        // truncated bodies
        ("--B\r\nContent-Range: bytes 0-2/*\r\n\r\nabc\r\n--B", 400, "closing delimiter '--B--' is missing"),
        ("--B\r\nContent-Range: bytes 0-2/*\r\n\r\nabc\r\n--B-", 400, "closing delimiter '--B--' is missing"),
        ("--B\r\nContent-Range: bytes 0-2/*\r\n\r\nabc\r\n--B\r", 400, "closing delimiter '--B--' is missing"),
        ("--B\r\nContent-Range: bytes 0-2/*\r\n\r\nabc\r\n", 400, "Part 1 is not followed by a boundary delimiter"),
        ("--B\r\nContent-Range: bytes 0-2/*\r\n\r\nabc", 400, "Part 1 is not followed by a boundary delimiter"),
        ("--B\r\nContent-Range: bytes 0-2/*\r\n\r\nab", 400, "truncated"),
        ("--B\r\nContent-Range: bytes 0-2/*\r\n\r\nabc\r\n--B\r\nContent-Range: bytes 3-5/*\r\n\r\nde", 400, "Part 2 is not followed"),
        ("--B\r\n", 400, "Part 1 is not followed"),
        ("--B", 400, "closing delimiter '--B--' is missing"),
        // part headers
        ("--B\r\n\r\nabc\r\n--B--", 400, "Part 1 has no Content-Range"),
        ("--B\r\nContent-Type: text/plain\r\n\r\nabc\r\n--B--", 400, "Part 1 has no Content-Range"),
        (
            "--B\r\nContent-Range: bytes 0-2/*\r\n\r\nabc\r\n--B\r\nContent-Type: text/plain\r\n\r\ndef\r\n--B--", 400,
            "Part 2 has no Content-Range"
        ),
        ("--B\r\nContent-Range: bytes 0-2/*\r\n\r\nabc\r\n--B\r\n\r\n--B--", 400, "Part 2 has no Content-Range"),
        ("--B\r\nContent-Range: bytes 0-2/*\nX: y\r\n\r\nabc\r\n--B--", 400, "bare LF"),
        ("--B\r\nContent-Range: bytes 0-2/*\r\n--B--", 400, "in part 1 does not end with an empty line"),
        ("--B\r\nContent-Range: bytes */25\r\n\r\nabc\r\n--B--", 400, "names no range"),
        ("--B\r\nContent-Range: bytes 0-2\r\n\r\nabc\r\n--B--", 400, "in part 1 is malformed"),
        (
            "--B\r\nContent-Range: bytes 0-2/*\r\nContent-Range: bytes 0-2/*\r\n\r\nabc\r\n--B--", 400,
            "more than one Content-Range header in part 1"
        ),
        ("--B\r\nContent-Range: bytes 0-2/*\r\n Folded: x\r\n\r\nabc\r\n--B--", 400, "whitespace"),
        ("--B\r\nContent-Range: bytes 0-2/*\r\nContent-Encoding: gzip\r\n\r\nabc\r\n--B--", 415, "in part 1"),
        // part lengths
        (
            "--B\r\nContent-Range: bytes 0-4/*\r\n\r\nabc\r\n--B--", 400,
            "Part 1 carries 3 bytes, but its Content-Range 'bytes 0-4' covers 5 bytes"
        ),
        ("--B\r\nContent-Range: bytes 0-1/*\r\n\r\nabc\r\n--B--", 400, "Part 1 carries 3 bytes"),
        (
            "--B\r\nContent-Range: bytes 0-2/*\r\n\r\nabc\r\n--B\r\nContent-Range: bytes 3-9/*\r\n\r\nde\r\n--B--", 400,
            "Part 2 carries 2 bytes"
        ),
        ("--B\r\nContent-Range: bytes 0-2/*\r\n\r\n\r\n--B--", 400, "Part 1 carries 0 bytes"),
        ("--B\r\nContent-Range: bytes 0-2/*\r\n\r\n--B--", 400, "Part 1 carries 0 bytes"),
        ("--B\r\nContent-Range: bytes 0-2/*\r\nContent-Length: 2\r\n\r\nabc\r\n--B--", 400, "Part 1 has Content-Length 2"),
        // the boundary inside the data cuts the part short
        ("--B\r\nContent-Range: bytes 0-6/*\r\n\r\nab\r\n--Bcd\r\n--B--", 400, "Part 1 carries 2 bytes"),
        // overlaps
        (
            "--B\r\nContent-Range: bytes 0-4/*\r\n\r\nabcde\r\n--B\r\nContent-Range: bytes 3-7/*\r\n\r\nfghij\r\n--B--", 400,
            "Parts 1 and 2 overlap (bytes 0-4 and bytes 3-7)"
        ),
        (
            "--B\r\nContent-Range: bytes 0-4/*\r\n\r\nabcde\r\n--B\r\nContent-Range: bytes 0-4/*\r\n\r\nabcde\r\n--B--", 400,
            "Parts 1 and 2 overlap"
        ),
        (
            "--B\r\nContent-Range: bytes 0-9/*\r\n\r\n0123456789\r\n--B\r\nContent-Range: bytes 2-3/*\r\n\r\nab\r\n--B--", 400,
            "Parts 1 and 2 overlap"
        ),
        (
            "--B\r\nContent-Range: bytes 10-14/*\r\n\r\nabcde\r\n--B\r\nContent-Range: bytes 0-4/*\r\n\r\nabcde\r\n--B\r\nContent-Range: bytes 4-8/*\r\n\r\nabcde\r\n--B--",
            400, "Parts 2 and 3 overlap"
        ),
        (
            "--B\r\nContent-Range: bytes 5-9/*\r\n\r\nabcde\r\n--B\r\nContent-Range: bytes 20-20/*\r\n\r\nx\r\n--B\r\nContent-Range: bytes 0-5/*\r\n\r\nabcdef\r\n--B--",
            400, "Parts 1 and 3 overlap"
        ),
        // complete lengths that disagree
        (
            "--B\r\nContent-Range: bytes 0-0/600\r\n\r\na\r\n--B\r\nContent-Range: bytes 1-1/*\r\n\r\nb\r\n--B\r\nContent-Range: bytes 2-2/700\r\n\r\nc\r\n--B--",
            400, "Parts 1 and 3 announce different complete lengths (600 and 700)"
        )
    ]

    @Test("invalid multipart bodies", arguments: invalidMultiparts)
    func invalidMultipart(body: String, status: Int, phrase: String) throws {
        let problem = try #require(
            problem { () throws(ProblemDetails) in
                try PatchBody.parts(of: bytes(body), form: .multipartByteranges(boundary: "B"))
            })
        #expect(problem.status == status)
        #expect(problem.detail.contains(phrase), "\(problem.detail)")
    }

    @Test("a large part is framed by its delimiter, not by scanning its content")
    func largePart() throws {
        let payload = [UInt8](repeating: 0x0D, count: 1 << 20)
        let body = bytes("--B\r\nContent-Range: bytes 0-\((1 << 20) - 1)/*\r\n\r\n") + payload + bytes("\r\n--B--\r\n")
        let parts = try PatchBody.parts(of: body, form: .multipartByteranges(boundary: "B"))
        #expect(parts.first?.data.count == 1 << 20)
    }

    @Test("details quote at most a short prefix of a huge header value")
    func longHeaderValueIsCut() throws {
        let body = bytes("Content-Range: bytes \(String(repeating: "9", count: 5000))\r\n\r\nx")
        let problem = try #require(
            problem { () throws(ProblemDetails) in
                try PatchBody.parts(of: body, form: .messageByterange)
            })
        #expect(problem.detail.utf8.count < 300)
    }

    @Test("PatchPart.end is one past the last byte written")
    func partEnd() {
        #expect(PatchPart(start: 10, data: 3..<8, completeLength: nil).end == 15)
    }
}

private func bytes(_ text: String) -> [UInt8] {
    Array(text.utf8)
}
