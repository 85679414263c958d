import HTTPSemantics
import Testing

@Suite("QueryParameters")
struct QueryParametersTests {
    @Test(
        "values are form-decoded bytes",
        arguments: [
            ("q=x", "q", Array("x".utf8)),
            ("q=a+b", "q", Array("a b".utf8)),
            ("q=a%2Bb", "q", Array("a+b".utf8)),
            ("q=%00%FF", "q", [0x00, 0xFF]),
            ("q=%C3%A9", "q", [0xC3, 0xA9]),
            ("q=a=b=c", "q", Array("a=b=c".utf8)),
            ("q=", "q", []),
            ("q", "q", []),
            ("a=1&q=two&b=3", "q", Array("two".utf8)),
            ("%71=decoded-name", "q", Array("decoded-name".utf8)),
            ("my+key=v", "my key", Array("v".utf8)),
            ("q=%26%3D", "q", Array("&=".utf8)),
            ("q=a;b", "q", Array("a;b".utf8))
        ] as [(String, String, [UInt8])])
    func bytes(raw: String, name: String, expected: [UInt8]) throws {
        #expect(try QueryParameters(parsing: raw).bytes(name) == expected)
    }

    @Test("a repeated name: the last occurrence wins")
    func lastWins() throws {
        let query = try QueryParameters(parsing: "limit=1&limit=2&q=a&limit=3")
        #expect(try query.int64("limit") == 3)
        #expect(query.string("q") == "a")
    }

    @Test("a repeated name wins even when the earlier value was invalid")
    func lastWinsOverInvalid() throws {
        #expect(try QueryParameters(parsing: "limit=x&limit=7").int64("limit") == 7)
        #expect(throws: ProblemDetails.self) { try QueryParameters(parsing: "limit=7&limit=x").int64("limit") }
    }

    @Test("empty pieces are skipped", arguments: ["&&q=a&&", "&q=a", "q=a&"])
    func emptyPieces(raw: String) throws {
        let query = try QueryParameters(parsing: raw)
        #expect(query.string("q") == "a")
        #expect(query.bytes("") == nil)
    }

    @Test("absent names give nil", arguments: [nil, "", "a=1", "Q=1", "qq=1"] as [String?])
    func absent(raw: String?) throws {
        let query = try QueryParameters(parsing: raw)
        #expect(query.bytes("q") == nil)
        #expect(query.string("q") == nil)
        #expect(try query.int64("q") == nil)
        #expect(try query.bool("q") == nil)
    }

    @Test(
        "a malformed escape anywhere makes the query a 400",
        arguments: [
            "q=%", "q=%zz", "q=a%2", "%=1", "q%=1", "ok=1&q=%GG", "q=%%"
        ])
    func malformedEscape(raw: String) throws {
        let problem = try #require(problem { () throws(ProblemDetails) in try QueryParameters(parsing: raw) })
        #expect(problem.status == 400)
        #expect(problem.detail.contains("percent-escape"))
    }

    @Test("string() replaces bytes that are not UTF-8")
    func stringReplacesInvalidUTF8() throws {
        #expect(try QueryParameters(parsing: "q=a%FFb").string("q") == "a\u{FFFD}b")
    }

    @Test(
        "int64 accepts decimal integers",
        arguments: [
            ("0", 0), ("42", 42), ("-10", -10), ("007", 7), ("-0", 0),
            ("9223372036854775807", Int64.max), ("-9223372036854775808", Int64.min), ("%2D10", -10), ("%31%32", 12)
        ] as [(String, Int64)])
    func int64Valid(value: String, expected: Int64) throws {
        #expect(try QueryParameters(parsing: "n=\(value)").int64("n") == expected)
    }

    @Test(
        "int64 refuses everything else with a 400 naming the parameter",
        arguments: [
            "", "-", "+5", "%2B5", "+", " 5", "5 ", "5+", "1e3", "0x10", "1.5", "1,000", "--1", "abc",
            "9223372036854775808", "-9223372036854775809", "99999999999999999999", "%EF%BC%95", "%00", "1%00"
        ])
    func int64Invalid(value: String) throws {
        let query = try QueryParameters(parsing: "start=\(value)")
        let problem = try #require(problem { () throws(ProblemDetails) in try query.int64("start") })
        #expect(problem.status == 400)
        #expect(problem.detail.contains("'start'"))
        #expect(problem.detail.contains("integer"))
    }

    @Test(
        "bool accepts true/false in any case and 1/0",
        arguments: [
            ("true", true), ("false", false), ("1", true), ("0", false), ("TRUE", true), ("True", true),
            ("FALSE", false), ("False", false), ("tRuE", true)
        ])
    func boolValid(value: String, expected: Bool) throws {
        #expect(try QueryParameters(parsing: "regex=\(value)").bool("regex") == expected)
    }

    @Test(
        "bool refuses everything else with a 400 naming the parameter",
        arguments: [
            "", "yes", "no", "on", "off", "2", "-1", "t", "f", "01", "truee", "+true", "%20true", "true%00"
        ])
    func boolInvalid(value: String) throws {
        let query = try QueryParameters(parsing: "regex=\(value)")
        let problem = try #require(problem { () throws(ProblemDetails) in try query.bool("regex") })
        #expect(problem.status == 400)
        #expect(problem.detail.contains("'regex'"))
    }

    @Test("a bare flag without '=' is an empty value, not true")
    func bareFlag() throws {
        let query = try QueryParameters(parsing: "q=a&regex")
        #expect(query.bytes("regex") == [])
        #expect(throws: ProblemDetails.self) { try query.bool("regex") }
    }

    @Test("a huge bad value is cut in the detail")
    func longValueIsTruncated() throws {
        let query = try QueryParameters(parsing: "limit=" + String(repeating: "x", count: 10_000))
        let problem = try #require(problem { () throws(ProblemDetails) in try query.int64("limit") })
        #expect(problem.detail.utf8.count < 300)
    }
}
