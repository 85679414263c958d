import HTTPSemantics
import Testing

@Suite("LineSelection")
struct LineSelectionTests {
    private func parse(_ value: String) throws(ProblemDetails) -> LineSelection {
        try LineSelection(parsing: Array(value.utf8))
    }

    @Test(
        "every accepted form",
        arguments: [
            ("1", .range(first: 1, last: 1)), ("7", .range(first: 7, last: 7)), ("007", .range(first: 7, last: 7)),
            ("1-1", .range(first: 1, last: 1)), ("3-9", .range(first: 3, last: 9)), ("10-", .range(first: 10, last: nil)),
            ("1-", .range(first: 1, last: nil)), ("-1", .last(count: 1)), ("-100", .last(count: 100)), ("-0005", .last(count: 5)),
            ("9223372036854775807", .range(first: Int.max, last: Int.max)), ("2-9223372036854775807", .range(first: 2, last: Int.max)),
            ("-9223372036854775807", .last(count: Int.max))
        ] as [(String, LineSelection)])
    func accepted(value: String, expected: LineSelection) throws {
        #expect(try parse(value) == expected)
    }

    @Test(
        "every refused form is a 400 that quotes the value",
        arguments: [
            "", "-", "--", "0", "00", "0-", "0-5", "5-0", "-0", "3-2", "10-9", "a", "1a", "a-2", "1-b", "+1", "1+", "1-2-3",
            "1--2", "--1", "1,2", " 1", "1 ", "1- 2", "1.5", "1e3", "0x10", "٣", "9223372036854775808", "1-9223372036854775808",
            "-99999999999999999999", "1-\u{0}", "\u{0}"
        ])
    func refused(value: String) {
        let error = problem { () throws(ProblemDetails) in try parse(value) }
        #expect(error?.status == 400, "\(value) was accepted")
    }

    @Test("canonical tokens and view tags: spellings of one selection share a tag, others differ")
    func tags() throws {
        let file = EntityTag(strong: "abc")
        #expect(try parse("7").canonical == "7-7")
        #expect(try parse("007-7").entityTag(of: file) == parse("7").entityTag(of: file))
        #expect(try parse("10-").canonical == "10-")
        #expect(try parse("-5").canonical == "-5")
        let tags = try ["1", "1-2", "1-", "-1", "-2", "2-"].map { try parse($0).entityTag(of: file) }
        #expect(Set(tags).count == tags.count)
        #expect(!tags.contains(file))
        #expect(try parse("1").entityTag(of: file) != parse("1").entityTag(of: EntityTag(strong: "abd")))
        #expect(try !parse("1").entityTag(of: file).isWeak)
    }

    @Test(
        "served headers",
        arguments: [
            (ServedLines(lines: 2...3, bytes: 4..<10, fileSize: 20), ["Mmapd-Lines: 2-3", "Mmapd-Byte-Span: 4-9/20"]),
            (ServedLines(lines: 1...1, bytes: 0..<1, fileSize: 1), ["Mmapd-Lines: 1-1", "Mmapd-Byte-Span: 0-0/1"]),
            (ServedLines(lines: nil, bytes: 5..<20, fileSize: 20), ["Mmapd-Byte-Span: 5-19/20"]),
            (ServedLines(lines: nil, bytes: 20..<20, fileSize: 20), ["Mmapd-Byte-Span: */20"]),
            (ServedLines(lines: 3...3, bytes: 0..<0, fileSize: 0), ["Mmapd-Byte-Span: */0"])
        ] as [(ServedLines, [String])])
    func headers(served: ServedLines, expected: [String]) {
        #expect(served.headers.map { "\($0.name): \($0.value)" } == expected)
    }
}

@Suite("FileViewParameters")
struct FileViewParametersTests {
    private func parse(_ raw: String?) throws(ProblemDetails) -> FileViewParameters? {
        try FileViewParameters.parse(QueryParameters(parsing: raw))
    }

    @Test(
        "no view: the file itself", arguments: [nil, "", "x=1", "follow=false", "offset=5", "line_numbers=false", "lines_x=1"] as [String?])
    func none(raw: String?) throws {
        #expect(try parse(raw) == nil)
    }

    @Test(
        "views",
        arguments: [
            ("lines=2-3", FileViewParameters(lines: .range(first: 2, last: 3))),
            ("lines=-4&line_numbers=false", FileViewParameters(lines: .last(count: 4), isNumbered: false)),
            ("lines=5&offset=9", FileViewParameters(lines: .range(first: 5, last: 5))),
            ("follow=true", FileViewParameters(follow: true)),
            ("follow=1&offset=0", FileViewParameters(follow: true, offset: 0)),
            ("follow=True&offset=123", FileViewParameters(follow: true, offset: 123)),
            ("follow=true&lines=-10", FileViewParameters(lines: .last(count: 10), follow: true)),
            ("lines=1&lines=-2", FileViewParameters(lines: .last(count: 2)))
        ] as [(String, FileViewParameters)])
    func views(raw: String, expected: FileViewParameters) throws {
        #expect(try parse(raw) == expected)
    }

    @Test(
        "refused combinations and values",
        arguments: [
            "lines=0", "lines=", "follow=maybe", "follow=", "follow=true&offset=-1", "follow=true&offset=x",
            "follow=true&lines=1-2", "follow=true&lines=3-", "follow=true&lines=-2&offset=0", "lines=1&line_numbers=2",
            "follow=true&offset=99999999999999999999", "lines=%ZZ"
        ])
    func refused(raw: String) {
        #expect(problem { () throws(ProblemDetails) in try parse(raw) }?.status == 400, "\(raw)")
    }

    @Test("the cheap pre-test never misses a view")
    func mayApply() {
        #expect(!FileViewParameters.mayApply(to: nil))
        #expect(!FileViewParameters.mayApply(to: ""))
        #expect(!FileViewParameters.mayApply(to: "x=1"))
        #expect(!FileViewParameters.mayApply(to: "q=abc&x=2"))
        for raw in ["lines=1", "follow=true", "%6Cines=1", "%66ollow=1", "x=1&lines=-2"] {
            #expect(FileViewParameters.mayApply(to: raw), "\(raw)")
            #expect((try? FileViewParameters.parse(QueryParameters(parsing: raw))) != nil, "\(raw)")
        }
    }
}
