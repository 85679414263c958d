import HTTPSemantics
import Testing

@Suite("Conditional requests (RFC 9110 §13)")
struct ConditionalRequestTests {
    /// Last-Modified of the current representation: Sun, 06 Nov 1994 08:49:37 GMT.
    static let modified: Int64 = 784_111_777
    static let atModified = "Sun, 06 Nov 1994 08:49:37 GMT"
    static let secondBefore = "Sun, 06 Nov 1994 08:49:36 GMT"
    static let secondAfter = "Sun, 06 Nov 1994 08:49:38 GMT"
    static let atModifiedRFC850 = "Sunday, 06-Nov-94 08:49:37 GMT"
    static let secondBeforeRFC850 = "Sunday, 06-Nov-94 08:49:36 GMT"
    static let atModifiedAsctime = "Sun Nov  6 08:49:37 1994"
    static let secondBeforeAsctime = "Sun Nov  6 08:49:36 1994"

    static let strongCurrent = Validators(etag: EntityTag(strong: "v1"), lastModified: modified)
    static let weakCurrent = Validators(etag: EntityTag(weak: "v1"), lastModified: modified)

    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let headers: ConditionalHeaders
        /// Expected outcome for GET/HEAD and for PATCH.
        let safe: ConditionalOutcome
        let unsafe: ConditionalOutcome

        init(_ name: String, _ headers: ConditionalHeaders, safe: ConditionalOutcome, unsafe: ConditionalOutcome) {
            self.name = name
            self.headers = headers
            self.safe = safe
            self.unsafe = unsafe
        }

        var testDescription: String { name }
    }

    static let ifMatchCases: [Case] = [
        Case("matching tag", .init(ifMatch: #""v1""#), safe: .proceed, unsafe: .proceed),
        Case("other tag", .init(ifMatch: #""v2""#), safe: .preconditionFailed, unsafe: .preconditionFailed),
        Case("match later in the list", .init(ifMatch: #""v0", "v2", "v1""#), safe: .proceed, unsafe: .proceed),
        Case("star", .init(ifMatch: "*"), safe: .proceed, unsafe: .proceed),
        Case(
            "weak form of the current tag", .init(ifMatch: #"W/"v1""#),
            safe: .preconditionFailed, unsafe: .preconditionFailed),
        Case(
            "opaque tags are case-sensitive", .init(ifMatch: #""V1""#),
            safe: .preconditionFailed, unsafe: .preconditionFailed),
        Case("empty list", .init(ifMatch: ""), safe: .preconditionFailed, unsafe: .preconditionFailed),
        Case(
            "unquoted tag is malformed and fails", .init(ifMatch: "v1"),
            safe: .preconditionFailed, unsafe: .preconditionFailed),
        Case(
            "star mixed with tags is malformed and fails", .init(ifMatch: #"*, "v1""#),
            safe: .preconditionFailed, unsafe: .preconditionFailed),
        Case(
            "match ignores a failing If-Unmodified-Since",
            .init(ifMatch: #""v1""#, ifUnmodifiedSince: secondBefore), safe: .proceed, unsafe: .proceed),
        Case(
            "mismatch fails despite a passing If-Unmodified-Since",
            .init(ifMatch: #""v2""#, ifUnmodifiedSince: secondAfter),
            safe: .preconditionFailed, unsafe: .preconditionFailed)
    ]

    static let ifUnmodifiedSinceCases: [Case] = [
        Case("date equal to Last-Modified", .init(ifUnmodifiedSince: atModified), safe: .proceed, unsafe: .proceed),
        Case("date after Last-Modified", .init(ifUnmodifiedSince: secondAfter), safe: .proceed, unsafe: .proceed),
        Case(
            "date one second before Last-Modified", .init(ifUnmodifiedSince: secondBefore),
            safe: .preconditionFailed, unsafe: .preconditionFailed),
        Case(
            "RFC 850 date before", .init(ifUnmodifiedSince: secondBeforeRFC850),
            safe: .preconditionFailed, unsafe: .preconditionFailed),
        Case(
            "asctime date before", .init(ifUnmodifiedSince: secondBeforeAsctime),
            safe: .preconditionFailed, unsafe: .preconditionFailed),
        Case("asctime date equal", .init(ifUnmodifiedSince: atModifiedAsctime), safe: .proceed, unsafe: .proceed),
        Case(
            "much older date", .init(ifUnmodifiedSince: "Thu, 01 Jan 1970 00:00:00 GMT"),
            safe: .preconditionFailed, unsafe: .preconditionFailed),
        Case("garbage date is ignored", .init(ifUnmodifiedSince: "yesterday"), safe: .proceed, unsafe: .proceed),
        Case("empty date is ignored", .init(ifUnmodifiedSince: ""), safe: .proceed, unsafe: .proceed),
        Case(
            "a list of dates is ignored", .init(ifUnmodifiedSince: secondBefore + ", " + secondBefore),
            safe: .proceed, unsafe: .proceed)
    ]

    static let ifNoneMatchCases: [Case] = [
        Case("matching tag", .init(ifNoneMatch: #""v1""#), safe: .notModified, unsafe: .preconditionFailed),
        Case(
            "weak form matches by weak comparison", .init(ifNoneMatch: #"W/"v1""#),
            safe: .notModified, unsafe: .preconditionFailed),
        Case("other tag", .init(ifNoneMatch: #""v2""#), safe: .proceed, unsafe: .proceed),
        Case(
            "match later in the list", .init(ifNoneMatch: #""baz", W/"v1""#),
            safe: .notModified, unsafe: .preconditionFailed),
        Case("no match in a list", .init(ifNoneMatch: #""a", W/"b", "c""#), safe: .proceed, unsafe: .proceed),
        Case("star", .init(ifNoneMatch: "*"), safe: .notModified, unsafe: .preconditionFailed),
        Case("opaque tags are case-sensitive", .init(ifNoneMatch: #""V1""#), safe: .proceed, unsafe: .proceed),
        Case("empty list matches nothing", .init(ifNoneMatch: ""), safe: .proceed, unsafe: .proceed),
        Case("only commas matches nothing", .init(ifNoneMatch: ","), safe: .proceed, unsafe: .proceed),
        Case(
            "unquoted tag is malformed and matches nothing", .init(ifNoneMatch: "v1"),
            safe: .proceed, unsafe: .proceed)
    ]

    static let ifModifiedSinceCases: [Case] = [
        Case(
            "date equal to Last-Modified", .init(ifModifiedSince: atModified),
            safe: .notModified, unsafe: .proceed),
        Case("date after Last-Modified", .init(ifModifiedSince: secondAfter), safe: .notModified, unsafe: .proceed),
        Case(
            "far-future date", .init(ifModifiedSince: "Fri, 31 Dec 9999 23:59:59 GMT"),
            safe: .notModified, unsafe: .proceed),
        Case("date one second before", .init(ifModifiedSince: secondBefore), safe: .proceed, unsafe: .proceed),
        Case("RFC 850 date equal", .init(ifModifiedSince: atModifiedRFC850), safe: .notModified, unsafe: .proceed),
        Case("RFC 850 date before", .init(ifModifiedSince: secondBeforeRFC850), safe: .proceed, unsafe: .proceed),
        Case("asctime date equal", .init(ifModifiedSince: atModifiedAsctime), safe: .notModified, unsafe: .proceed),
        Case("asctime date before", .init(ifModifiedSince: secondBeforeAsctime), safe: .proceed, unsafe: .proceed),
        Case("garbage date is ignored", .init(ifModifiedSince: "wrong"), safe: .proceed, unsafe: .proceed),
        Case(
            "lowercase zone is not a date", .init(ifModifiedSince: "Sun, 06 Nov 1994 08:49:37 gmt"),
            safe: .proceed, unsafe: .proceed),
        Case(
            "ignored when If-None-Match does not match",
            .init(ifNoneMatch: #""v2""#, ifModifiedSince: atModified), safe: .proceed, unsafe: .proceed),
        Case(
            "ignored when If-None-Match is malformed",
            .init(ifNoneMatch: "v1", ifModifiedSince: atModified), safe: .proceed, unsafe: .proceed),
        Case(
            "If-None-Match decides even when the date says modified",
            .init(ifNoneMatch: #""v1""#, ifModifiedSince: secondBefore),
            safe: .notModified, unsafe: .preconditionFailed)
    ]

    static let orderCases: [Case] = [
        Case("no preconditions", .init(), safe: .proceed, unsafe: .proceed),
        Case("If-Range alone is not evaluated here", .init(ifRange: #""other""#), safe: .proceed, unsafe: .proceed),
        Case(
            "If-Match failure wins over If-None-Match match",
            .init(ifMatch: #""v2""#, ifNoneMatch: #""v1""#),
            safe: .preconditionFailed, unsafe: .preconditionFailed),
        Case(
            "If-Unmodified-Since failure wins over If-None-Match match",
            .init(ifNoneMatch: #""v1""#, ifUnmodifiedSince: secondBefore),
            safe: .preconditionFailed, unsafe: .preconditionFailed),
        Case(
            "If-Unmodified-Since failure wins over If-Modified-Since",
            .init(ifModifiedSince: atModified, ifUnmodifiedSince: secondBefore),
            safe: .preconditionFailed, unsafe: .preconditionFailed),
        Case(
            "If-Match passes, then If-None-Match matches",
            .init(ifMatch: #""v1""#, ifNoneMatch: #""v1""#), safe: .notModified, unsafe: .preconditionFailed),
        Case("both stars", .init(ifMatch: "*", ifNoneMatch: "*"), safe: .notModified, unsafe: .preconditionFailed),
        Case(
            "If-Match passes, If-None-Match does not match",
            .init(ifMatch: #""v1""#, ifNoneMatch: #""v0""#), safe: .proceed, unsafe: .proceed),
        Case(
            "If-Unmodified-Since passes, then If-Modified-Since says not modified",
            .init(ifModifiedSince: atModified, ifUnmodifiedSince: atModified), safe: .notModified, unsafe: .proceed),
        Case(
            "all four pass",
            .init(
                ifMatch: #""v1""#, ifNoneMatch: #""v0""#, ifModifiedSince: secondBefore,
                ifUnmodifiedSince: secondAfter),
            safe: .proceed, unsafe: .proceed)
    ]

    @Test("If-Match (strong comparison)", arguments: ifMatchCases)
    func ifMatch(_ testCase: Case) { check(testCase, current: Self.strongCurrent) }

    @Test("If-Unmodified-Since", arguments: ifUnmodifiedSinceCases)
    func ifUnmodifiedSince(_ testCase: Case) { check(testCase, current: Self.strongCurrent) }

    @Test("If-None-Match (weak comparison)", arguments: ifNoneMatchCases)
    func ifNoneMatch(_ testCase: Case) { check(testCase, current: Self.strongCurrent) }

    @Test("If-Modified-Since", arguments: ifModifiedSinceCases)
    func ifModifiedSince(_ testCase: Case) { check(testCase, current: Self.strongCurrent) }

    @Test("evaluation order of §13.2.2", arguments: orderCases)
    func order(_ testCase: Case) { check(testCase, current: Self.strongCurrent) }

    static let weakCurrentCases: [Case] = [
        Case(
            "If-Match with the same weak tag fails", .init(ifMatch: #"W/"v1""#),
            safe: .preconditionFailed, unsafe: .preconditionFailed),
        Case(
            "If-Match with the strong form fails", .init(ifMatch: #""v1""#),
            safe: .preconditionFailed, unsafe: .preconditionFailed),
        Case("If-Match star passes", .init(ifMatch: "*"), safe: .proceed, unsafe: .proceed),
        Case(
            "If-None-Match with the weak tag matches", .init(ifNoneMatch: #"W/"v1""#),
            safe: .notModified, unsafe: .preconditionFailed),
        Case(
            "If-None-Match with the strong form matches", .init(ifNoneMatch: #""v1""#),
            safe: .notModified, unsafe: .preconditionFailed)
    ]

    @Test("a weak current ETag", arguments: weakCurrentCases)
    func weakCurrentTag(_ testCase: Case) { check(testCase, current: Self.weakCurrent) }

    private func check(_ testCase: Case, current: Validators) {
        #expect(ConditionalRequest.evaluate(testCase.headers, isSafe: true, current: current) == testCase.safe)
        #expect(ConditionalRequest.evaluate(testCase.headers, isSafe: false, current: current) == testCase.unsafe)
    }

    @Test("dates compare at one-second granularity", arguments: [Int64(-1), 0, 1])
    func secondGranularity(offset: Int64) {
        let date = HTTPDate.format(Self.modified + offset)
        let modifiedSince = ConditionalRequest.evaluate(.init(ifModifiedSince: date), isSafe: true, current: Self.strongCurrent)
        let unmodifiedSince = ConditionalRequest.evaluate(.init(ifUnmodifiedSince: date), isSafe: false, current: Self.strongCurrent)
        #expect(modifiedSince == (offset >= 0 ? .notModified : .proceed))
        #expect(unmodifiedSince == (offset >= 0 ? .proceed : .preconditionFailed))
    }

    @Test("now resolves an RFC 850 year in a date precondition")
    func rfc850WithNow() {
        // Without a clock "69" is 2069 (after Last-Modified); seen from 1994 it is 1969 (before).
        let headers = ConditionalHeaders(ifUnmodifiedSince: "Wednesday, 01-Jan-69 00:00:00 GMT")
        #expect(ConditionalRequest.evaluate(headers, isSafe: false, current: Self.strongCurrent) == .proceed)
        #expect(
            ConditionalRequest.evaluate(headers, isSafe: false, current: Self.strongCurrent, now: Self.modified)
                == .preconditionFailed)
    }

    struct IfRangeCase: Sendable, CustomTestStringConvertible {
        let ifRange: String?
        let now: Int64?
        let expected: Bool
        var testDescription: String { "\(ifRange ?? "absent"), now \(now.map(String.init) ?? "unknown")" }
    }

    static let ifRangeCases: [IfRangeCase] = [
        IfRangeCase(ifRange: nil, now: nil, expected: true),
        IfRangeCase(ifRange: #""v1""#, now: nil, expected: true),
        IfRangeCase(ifRange: #"  "v1"  "#, now: nil, expected: true),
        IfRangeCase(ifRange: #""v2""#, now: nil, expected: false),
        IfRangeCase(ifRange: #""V1""#, now: nil, expected: false),
        IfRangeCase(ifRange: #"W/"v1""#, now: nil, expected: false),
        IfRangeCase(ifRange: #""v1", "v2""#, now: nil, expected: false),
        IfRangeCase(ifRange: "*", now: nil, expected: false),
        IfRangeCase(ifRange: "v1", now: nil, expected: false),
        IfRangeCase(ifRange: #""v1"#, now: nil, expected: false),
        IfRangeCase(ifRange: "", now: nil, expected: false),
        IfRangeCase(ifRange: "wrong", now: nil, expected: false),
        IfRangeCase(ifRange: atModified, now: nil, expected: true),
        IfRangeCase(ifRange: atModifiedRFC850, now: nil, expected: true),
        IfRangeCase(ifRange: atModifiedAsctime, now: nil, expected: true),
        IfRangeCase(ifRange: secondBefore, now: nil, expected: false),
        IfRangeCase(ifRange: secondAfter, now: nil, expected: false),
        IfRangeCase(ifRange: "Sun, 06 Nov 1994 08:49:37 gmt", now: nil, expected: false),
        // With a clock: the date is strong only once the file is at least a second old.
        IfRangeCase(ifRange: atModified, now: modified + 1, expected: true),
        IfRangeCase(ifRange: atModified, now: modified + 86_400, expected: true),
        IfRangeCase(ifRange: atModified, now: modified, expected: false),
        IfRangeCase(ifRange: atModified, now: modified - 5, expected: false),
        IfRangeCase(ifRange: secondAfter, now: modified + 10, expected: false),
        // The clock does not matter for entity tags.
        IfRangeCase(ifRange: #""v1""#, now: modified, expected: true)
    ]

    @Test("If-Range: strong ETag or exact date", arguments: ifRangeCases)
    func ifRange(_ testCase: IfRangeCase) {
        #expect(
            ConditionalRequest.rangeApplies(ifRange: testCase.ifRange, current: Self.strongCurrent, now: testCase.now)
                == testCase.expected)
    }

    @Test("If-Range never matches a weak current ETag", arguments: [#"W/"v1""#, #""v1""#])
    func ifRangeWeakCurrent(value: String) {
        #expect(!ConditionalRequest.rangeApplies(ifRange: value, current: Self.weakCurrent))
    }

    @Test("If-Range with only the two-argument call")
    func ifRangeDefaultNow() {
        #expect(ConditionalRequest.rangeApplies(ifRange: nil, current: Self.strongCurrent))
        #expect(ConditionalRequest.rangeApplies(ifRange: Self.atModified, current: Self.strongCurrent))
    }
}
