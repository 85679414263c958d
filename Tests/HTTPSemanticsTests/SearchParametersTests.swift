import HTTPSemantics
import Testing

@Suite("SearchParameters")
struct SearchParametersTests {
    private func parse(_ raw: String, maximumLimit: Int = 1000) throws -> SearchParameters {
        try SearchParameters(QueryParameters(parsing: raw), maximumLimit: maximumLimit)
    }

    @Test("only q given: every default")
    func defaults() throws {
        let parameters = try parse("q=needle")
        #expect(parameters == SearchParameters(pattern: Array("needle".utf8)))
        #expect(parameters.isRegex == false)
        #expect(parameters.isCaseInsensitive == false)
        #expect(parameters.start == nil)
        #expect(parameters.end == nil)
        #expect(parameters.limit == SearchParameters.defaultLimit)
        #expect(SearchParameters.defaultLimit == 100)
        #expect(parameters.isReverse == false)
    }

    @Test("every parameter given")
    func everything() throws {
        let parameters = try parse("q=a.c&regex=true&icase=1&start=-10&end=50&limit=5&reverse=TRUE&unknown=zzz")
        #expect(
            parameters
                == SearchParameters(
                    pattern: Array("a.c".utf8), isRegex: true, isCaseInsensitive: true,
                    start: -10, end: 50, limit: 5, isReverse: true
                ))
    }

    @Test(
        "the pattern is bytes, form-decoded once",
        arguments: [
            ("q=%00%FF", [0x00, 0xFF]), ("q=a+b", Array("a b".utf8)), ("q=%2B", Array("+".utf8)),
            ("q=%25", Array("%".utf8)), ("q=%2525", Array("%25".utf8)), ("q=%C3%A9", [0xC3, 0xA9]),
            ("q=%5Cd%2B", Array("\\d+".utf8)), ("q=first&q=second", Array("second".utf8))
        ] as [(String, [UInt8])])
    func pattern(raw: String, expected: [UInt8]) throws {
        #expect(try parse(raw).pattern == expected)
    }

    @Test("limit bounds are inclusive", arguments: [("q=a&limit=0", 0), ("q=a&limit=1000", 1000), ("q=a&limit=1", 1)])
    func limitBounds(raw: String, limit: Int) throws {
        #expect(try parse(raw).limit == limit)
    }

    @Test("a configured maximum below 100 lowers the default instead of failing every request")
    func smallMaximum() throws {
        #expect(try parse("q=a", maximumLimit: 10).limit == 10)
        #expect(try parse("q=a&limit=10", maximumLimit: 10).limit == 10)
        #expect(throws: ProblemDetails.self) { try parse("q=a&limit=11", maximumLimit: 10) }
    }

    @Test(
        "invalid queries are 400 naming the parameter",
        arguments: [
            ("", "'q'"), ("regex=true", "'q'"), ("q=", "'q'"), ("q", "'q'"), ("Q=a", "'q'"),
            ("q=a&regex=yes", "'regex'"), ("q=a&regex=", "'regex'"), ("q=a&icase=2", "'icase'"),
            ("q=a&start=x", "'start'"), ("q=a&start=", "'start'"), ("q=a&end=1.5", "'end'"),
            ("q=a&end=99999999999999999999", "'end'"), ("q=a&limit=-1", "'limit'"), ("q=a&limit=1001", "'limit'"),
            ("q=a&limit=abc", "'limit'"), ("q=a&limit=99999999999999999999", "'limit'"),
            ("q=a&reverse=maybe", "'reverse'"), ("q=%zz", "percent-escape")
        ])
    func invalid(raw: String, mentions: String) throws {
        let problem = try #require(
            problem { () throws(ProblemDetails) in
                try SearchParameters(QueryParameters(parsing: raw), maximumLimit: 1000)
            })
        #expect(problem.status == 400)
        #expect(problem.detail.contains(mentions), "\(problem.detail)")
    }

    @Test("a limit above the maximum names the maximum")
    func limitDetailNamesMaximum() throws {
        let problem = try #require(
            problem { () throws(ProblemDetails) in
                try SearchParameters(QueryParameters(parsing: "q=a&limit=5000"), maximumLimit: 1000)
            })
        #expect(problem.detail.contains("1000"))
    }

    @Test("follow: no limit by default, the maximum does not apply, start and limit kept")
    func follow() throws {
        let plain = try parse("q=x&follow=true", maximumLimit: 10)
        #expect(plain.isFollow && plain.limit == Int.max && plain.start == nil)
        let resumed = try parse("q=x&follow=1&start=42&limit=5000", maximumLimit: 10)
        #expect(resumed.start == 42 && resumed.limit == 5000)
        #expect(try parse("q=%5Ea&regex=true&follow=true").isRegex)
        #expect(try parse("q=end%0A&follow=true").pattern == Array("end\n".utf8))
        #expect(try parse("q=a%0Ab&regex=true&follow=true").isFollow)
        #expect(try parse("q=x&follow=false").isFollow == false)
    }

    @Test(
        "follow refuses what a growing file cannot answer",
        arguments: [
            ("q=x&follow=true&end=5", "'end'"), ("q=x&follow=true&reverse=true", "'reverse'"),
            ("q=x&follow=true&before=2", "'before'"), ("q=x&follow=true&after=1", "'after'"),
            ("q=x&follow=true&start=-1", "'start'"), ("q=x&follow=true&limit=0", "'limit'"),
            ("q=a%0Ab&follow=true", "newline"), ("q=x&follow=sometimes", "follow")
        ])
    func followRefusals(raw: String, named: String) throws {
        let problem = try #require(
            problem { () throws(ProblemDetails) in
                try SearchParameters(QueryParameters(parsing: raw), maximumLimit: 1000)
            })
        #expect(problem.status == 400)
        #expect(problem.detail.contains(named), "\(problem.detail)")
    }
}
