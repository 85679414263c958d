import Foundation
import Glibc
import Testing

@testable import Mmapd

/// `GET /search/<path>` through a live server, checked against CPython itself: `mmap.find`,
/// `mmap.rfind`, `bytes.count` and `re.finditer` over bytes (see ``PythonReference``).
@Suite struct SearchTests {
    // MARK: Differential tests

    /// Small alphabets make overlapping matches likely; one has bytes that are not UTF-8, one CRLF.
    static let alphabets: [[UInt8]] = [
        Array("ab".utf8), Array("ab\n".utf8), Array("aAbB\n ".utf8), Array("abc\n".utf8),
        [0x61, 0x62, 0xC3, 0xA9, 0xFF, 0x0A], Array("ab\r\n".utf8)
    ]
    static let sizes = [0, 1, 2, 7, 64, 300, 1000, 5000, 20000]

    /// PCRE2 patterns that mean the same in Python's `re` over bytes; `true` when it can match the
    /// empty string.
    static let patterns: [(String, Bool)] = [
        (#"a+"#, false), (#"ab|b"#, false), (#"[ab]{2}"#, false), (#"a*b"#, false), (#"x*"#, true), (#"b*"#, true),
        (#"(?m)^"#, true), (#"(?m)^a"#, false), (#"a$"#, false), (#"(?m)a$"#, false), (#"(?m)$"#, true),
        (#"\bab"#, false), (#"b\b"#, false), (#"\b\w+\b"#, false), (#"\Bb"#, false), (#"(?<=a)b"#, false),
        (#"a(?=b)"#, false), (#"\n"#, false), (#"A|b"#, false), (#"(a|b)\1"#, false), (#"[^a\n]+"#, false),
        (#"a.b"#, false), (#"(?s)a.b"#, false), (#"\s+"#, false), (#"[\x80-\xff]+"#, false), (#"\xff"#, false),
        (#"\r$"#, false), (#"(?m)^b+$"#, false), (#"^a"#, false), (#"^"#, true)
    ]

    static func randomData(_ rng: inout SeededRandom) -> [UInt8] {
        let size = sizes[Int(rng.next() % UInt64(sizes.count))]
        let alphabet = alphabets[Int(rng.next() % UInt64(alphabets.count))]
        return (0..<size).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }
    }

    /// A window bound: absent, or anywhere from before the start (negative) to past the end.
    static func randomBound(_ rng: inout SeededRandom, size: Int) -> Int64? {
        if rng.next() % 10 < 3 { return nil }
        return Int64(rng.next() % UInt64(2 * size + 11)) - Int64(size + 5)
    }

    static func randomLimit(_ rng: inout SeededRandom) -> Int? {
        [nil, 0, 1, 3, 10_000, 10_000][Int(rng.next() % 6)]
    }

    @Test("literal search agrees with mmap.find, mmap.rfind and bytes.count", arguments: 0..<16)
    func literalsAgreeWithPython(seed: Int) throws {
        var rng = SeededRandom(seed: UInt64(seed) &* 7919 &+ 1)
        let data = Self.randomData(&rng)
        let server = try TestServer(files: ["data.bin": data])
        var queries: [SearchQuery] = []
        for _ in 0..<40 {
            var needle: [UInt8]
            if !data.isEmpty, rng.next() % 2 == 0 {
                // A piece of the data itself: always found at least once.
                let length = 1 + Int(rng.next() % 4)
                let start = Int(rng.next() % UInt64(data.count))
                needle = Array(data[start..<min(data.count, start + length)])
            } else {
                let alphabet = Self.alphabets[Int(rng.next() % UInt64(Self.alphabets.count))]
                needle = (0..<(1 + Int(rng.next() % 3))).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }
            }
            queries.append(
                SearchQuery(
                    bytes: needle, icase: rng.next() % 4 == 0, reverse: rng.next() % 3 == 0,
                    start: Self.randomBound(&rng, size: data.count), end: Self.randomBound(&rng, size: data.count),
                    limit: Self.randomLimit(&rng)))
        }
        let expected = try PythonReference.answers(file: server.path("data.bin"), queries)
        #expect(data.isEmpty || expected.contains { $0.count > 0 }, "the queries find something")
        for (query, reference) in zip(queries, expected) {
            expectAgreement(try server.search("data.bin", query), reference, query, size: data.count)
        }
    }

    @Test("patterns agree with re.finditer over bytes", arguments: 0..<16)
    func patternsAgreeWithPython(seed: Int) throws {
        var rng = SeededRandom(seed: UInt64(seed) &* 104_729 &+ 3)
        let data = Self.randomData(&rng)
        let server = try TestServer(files: ["data.bin": data])
        var queries: [SearchQuery] = []
        var empties: [Bool] = []
        for _ in 0..<40 {
            let (pattern, canMatchEmpty) = Self.patterns[Int(rng.next() % UInt64(Self.patterns.count))]
            var start = Self.randomBound(&rng, size: data.count)
            var end = Self.randomBound(&rng, size: data.count)
            let window = pythonWindow(start: start, end: end, size: data.count)
            if window.lower > window.upper { swap(&start, &end) }  // inverted windows: see invertedWindowFindsNothing
            queries.append(
                SearchQuery(
                    pattern, regex: true, icase: rng.next() % 4 == 0, reverse: rng.next() % 3 == 0,
                    start: start, end: end, limit: Self.randomLimit(&rng)))
            empties.append(canMatchEmpty)
        }
        let expected = try PythonReference.answers(file: server.path("data.bin"), queries)
        #expect(expected.contains { $0.count > 0 }, "the queries find something")
        for ((query, reference), canMatchEmpty) in zip(zip(queries, expected), empties) {
            // `next` after an empty match is adjusted in reverse (documented); the rest must agree.
            expectAgreement(
                try server.search("data.bin", query), reference, query, size: data.count,
                checkNext: !(query.reverse && canMatchEmpty))
        }
    }

    /// `mmap.find(sub, 5, 2)` is -1 even for an empty needle, and
    /// `re.compile(b"x*").finditer(data, 5, 2)` yields nothing: a window whose start lies after its
    /// end holds no match at all, not even an empty one.
    @Test(
        "a window that starts after its end finds nothing",
        arguments: [
            (#"x*"#, true, Int64(2), Int64(1)), (#"(?m)^"#, true, 3, 1), (#"(?m)$"#, true, -2, -4), (#"b*"#, true, 7, 3),
            (#"a"#, true, 4, 1), (#"a"#, false, 4, 1), (#"ab"#, false, -1, -3)
        ])
    func invertedWindowFindsNothing(pattern: String, regex: Bool, start: Int64, end: Int64) throws {
        let data = Array("abab\naab".utf8)
        let server = try TestServer(files: ["data.bin": data])
        let query = SearchQuery(pattern, regex: regex, start: start, end: end)
        let reference = try PythonReference.answers(file: server.path("data.bin"), [query])[0]
        #expect(reference.count == 0)
        expectAgreement(try server.search("data.bin", query), reference, query, size: data.count)
    }

    // MARK: The Python mmap documentation examples

    /// On a 20 MiB text file (more than one parallel chunk): count a word; every five-letter word
    /// with `\b[a-zA-Z]{5}\b`; the first `b" the "` after offset 10000.
    @Test func pythonMmapDocumentationExamples() throws {
        let server = try TestServer()
        let path = server.path("book.txt")
        try writeText(path, size: 20 << 20, seed: 42)
        let size = Int(try fileStatus(path).st_size)
        let word = SearchQuery("example", limit: 0)
        let fiveLetters = SearchQuery(#"\b[a-zA-Z]{5}\b"#, regex: true, limit: 2000)
        let fiveLettersCount = SearchQuery(#"\b[a-zA-Z]{5}\b"#, regex: true, limit: 0)
        let fiveLettersFromTheEnd = SearchQuery(#"\b[a-zA-Z]{5}\b"#, regex: true, reverse: true, limit: 500)
        let the = SearchQuery(" the ", start: 10000, limit: 1)
        let theIgnoringCase = SearchQuery(" THE ", icase: true, start: 10000, limit: 1)
        let queries = [word, fiveLetters, fiveLettersCount, fiveLettersFromTheEnd, the, theIgnoringCase]
        let expected = try PythonReference.answers(file: path, queries, maxMatches: 2000)

        // 1. Count a word (`limit=0`: the count alone).
        let counted = try server.search("book.txt", word)
        #expect(counted.status == 200)
        #expect(counted.count == expected[0].count)
        #expect(counted.matches.isEmpty)
        #expect(expected[0].count > 100, "the generator puts 'example' in the text")

        // 2. All five-letter words: the count, the first page, the last page.
        for (query, reference) in zip(queries[1...3], expected[1...3]) {
            expectAgreement(try server.search("book.txt", query), reference, query, size: size, checkNext: true)
        }
        #expect(expected[2].count > 100_000)

        // 3. `mm.find(b" the ", 10000)`.
        for (query, reference) in zip(queries[4...], expected[4...]) {
            let answer = try server.search("book.txt", query)
            expectAgreement(answer, reference, query, size: size)
            #expect(answer.matches.first.map { $0.offset >= 10000 } == true)
        }
    }

    // MARK: Matches across parallel chunk boundaries

    /// 48 MiB (three 16 MiB chunks): needles on, just before and just after every chunk boundary,
    /// some across a line break; each must be found exactly once, in order, forward and reverse,
    /// in JSON and NDJSON.
    @Test func matchesAcrossChunkBoundariesAreFoundOnce() throws {
        let size = 48 << 20
        var data = [UInt8](repeating: UInt8(ascii: "x"), count: size)
        for index in stride(from: 99, to: size, by: 100) { data[index] = 0x0A }
        var placed = 0
        for boundary in [8 << 20, 16 << 20, 24 << 20, 32 << 20, 40 << 20] {
            for (step, delta) in stride(from: -400, through: 400, by: 23).enumerated() {
                let needle = Array((step % 3 == 0 ? "need\nle" : "needle").utf8)
                let start = boundary + delta
                data.replaceSubrange(start..<(start + needle.count), with: needle)
                placed += 1
            }
            // One exactly on each side of the boundary.
            data.replaceSubrange((boundary - 6)..<boundary, with: Array("needle".utf8))
            data.replaceSubrange(boundary..<(boundary + 6), with: Array("needle".utf8))
        }
        // What is checked is where matches are found, not the time budget: under a sanitizer on
        // a loaded machine, a reverse NDJSON search of the last 8 MiB outlived the 10 s default
        // before its first match and answered a count of null.
        let server = try TestServer(configure: { $0.searchTimeoutMilliseconds = 600_000 }, files: ["chunks.txt": data])
        data = []
        let queries = [
            SearchQuery("needle", limit: 10_000), SearchQuery("needle", reverse: true, limit: 10_000),
            SearchQuery("d\nle", limit: 10_000), SearchQuery("eed", icase: true, reverse: true, limit: 10_000),
            SearchQuery(#"ne+d\n?le"#, regex: true, limit: 10_000), SearchQuery(#"ne+d\n?le"#, regex: true, reverse: true, limit: 10_000),
            SearchQuery(#"(?m)^x*n"#, regex: true, limit: 10_000), SearchQuery(#"le\nx"#, regex: true, limit: 10_000)
        ]
        let expected = try PythonReference.answers(file: server.path("chunks.txt"), queries)
        #expect(expected[4].count > placed / 2)
        for (query, reference) in zip(queries, expected) {
            expectAgreement(try server.search("chunks.txt", query), reference, query, size: size)
            let streamed = try ndjson(server, "chunks.txt", query)
            #expect(streamed.matches.map { Span($0.offset, $0.length) } == reference.matches.map(\.span), "NDJSON \(query)")
            #expect(streamed.summary["count"] as? Int == reference.count, "NDJSON \(query)")
        }
    }

    // MARK: limit and next

    static let pagingData = pseudoRandomBytes(count: 3000, seed: 11).map {
        [UInt8(ascii: "a"), UInt8(ascii: "b"), UInt8(ascii: "b"), 0x0A][Int($0 % 4)]
    }

    /// Following `next` page by page (as `start` forward, as `end` in reverse) returns exactly the
    /// list one unlimited search returns.
    @Test(
        "pages concatenate to the whole list",
        arguments: [
            SearchQuery("ab", limit: 7), SearchQuery("ab", reverse: true, limit: 7), SearchQuery("bb", limit: 1),
            SearchQuery("bb", reverse: true, limit: 13), SearchQuery("AB", icase: true, limit: 50),
            SearchQuery("b\na", start: 100, end: -100, limit: 3), SearchQuery("b\na", reverse: true, start: 100, end: -100, limit: 3),
            SearchQuery(#"a+b"#, regex: true, limit: 9), SearchQuery(#"a+b"#, regex: true, reverse: true, limit: 9),
            SearchQuery(#"[ab]{2}"#, regex: true, start: 100, end: 2000, limit: 31),
            SearchQuery(#"[ab]{2}"#, regex: true, reverse: true, start: 100, end: 2000, limit: 31),
            SearchQuery(#"\bb+\b"#, regex: true, limit: 5), SearchQuery(#"x*"#, regex: true, start: 2900, limit: 4),
            SearchQuery(#"(?m)^a"#, regex: true, limit: 10), SearchQuery(#"(?m)^a"#, regex: true, reverse: true, limit: 10)
        ])
    func pagesConcatenateToTheWholeList(query: SearchQuery) throws {
        let server = try TestServer(files: ["data.bin": Self.pagingData])
        var whole = query
        whole.limit = 10_000
        let reference = try PythonReference.answers(file: server.path("data.bin"), [whole])[0]
        let pages = try server.pages("data.bin", query)
        #expect(pages.allSatisfy { $0.status == 200 })
        #expect(pages.flatMap(\.spans) == reference.matches.map(\.span), "\(query)")
        #expect(pages.last?.truncated == false)
        #expect(pages.last?.next == nil)
        var remaining = reference.count
        for page in pages {
            // The count is exact on every page, truncated or not: the matches left in its window.
            #expect(page.count == remaining, "\(query)")
            remaining -= page.matches.count
        }
        for page in pages.dropLast() {
            #expect(page.matches.count == query.limit, "every page but the last is full")
        }
        #expect(pages.count == max(1, (reference.count + query.effectiveLimit - 1) / query.effectiveLimit))
    }

    /// The pages of a reverse pattern search that can match the empty string must also be the
    /// whole list: no match twice, none skipped, none that the whole window does not have. The
    /// edge cases put an empty match right after a match ending where it sits at a page boundary,
    /// which no `end` can separate: the pair comes on one page.
    @Test(
        "reverse pattern pages with empty matches neither repeat, skip nor invent matches",
        arguments: [
            ("bab", #"b*"#, 2), ("xxa", #"x*"#, 1), ("ab", #"b*"#, 1), ("", #"b*"#, 3), ("", #"b*"#, 1),
            ("", #"\w*"#, 2), ("", #"\n*"#, 1)
        ])
    func reversePatternPagesWithEmptyMatches(text: String, pattern: String, limit: Int) throws {
        try expectReversePagesMatchPython(text: text, pattern: pattern, limit: limit)
    }

    /// The documented exception: a reverse page's window ends where the previous page stopped, and
    /// a pattern that looks past that end (`(?=b)`), or matches there differently once the subject
    /// ends (`b*|a` finds `(2,2)` where the whole window had `(2,3)`), may see other matches
    /// near it. Paging still ends and never returns a match twice.
    @Test(
        "reverse pattern pages whose patterns see past the page end still end without repeats",
        arguments: [
            ("aab\nb", #"b*|a"#, 1), ("", #"(?=b)|b"#, 1), ("", #"a(?=b)"#, 2)
        ])
    func reversePatternPagesThatSeePastTheEnd(text: String, pattern: String, limit: Int) throws {
        let data = text.isEmpty ? Array(Self.pagingData.prefix(200)) : Array(text.utf8)
        let server = try TestServer(files: ["data.bin": data])
        let pages = try server.pages("data.bin", SearchQuery(pattern, regex: true, reverse: true, limit: limit), maxPages: 1000)
        #expect(pages.last?.truncated == false, "paging did not end")
        let spans = pages.flatMap(\.spans)
        #expect(Set(spans).count == spans.count, "a match came back twice")
        #expect(spans.map(\.offset) == spans.map(\.offset).sorted(by: >))
    }

    private func expectReversePagesMatchPython(text: String, pattern: String, limit: Int) throws {
        let data = text.isEmpty ? Array(Self.pagingData.prefix(200)) : Array(text.utf8)
        let server = try TestServer(files: ["data.bin": data])
        let query = SearchQuery(pattern, regex: true, reverse: true, limit: limit)
        var whole = query
        whole.limit = 10_000
        let reference = try PythonReference.answers(file: server.path("data.bin"), [whole])[0]
        let pages = try server.pages("data.bin", query)
        let spans = pages.flatMap(\.spans)
        #expect(spans == reference.matches.map(\.span), "\(query) on \(text.debugDescription)")
        #expect(Set(spans).count == spans.count, "a match came back twice")
    }

    /// A pattern that matches both empty and non-empty at one position (`|a` finds `(3,3)` then
    /// `(3,4)`) cannot be paged with an offset alone; the server's promise is that paging ends,
    /// never repeats a match and returns only real matches (documented in docs/SEARCH.md).
    @Test func pagingAPatternWithEmptyAndNonEmptyMatchesAtOnePositionEnds() throws {
        let data = Array("bbbaa\nab".utf8)
        let server = try TestServer(files: ["data.bin": data])
        let query = SearchQuery(#"|a"#, regex: true, limit: 2)
        var whole = query
        whole.limit = 10_000
        let reference = Set(try PythonReference.answers(file: server.path("data.bin"), [whole])[0].matches.map(\.span))
        let pages = try server.pages("data.bin", query, maxPages: 100)
        #expect(pages.last?.truncated == false, "paging did not end")
        let spans = pages.flatMap(\.spans)
        #expect(Set(spans).count == spans.count)
        #expect(Set(spans).isSubset(of: reference))
        #expect(spans.map(\.offset) == spans.map(\.offset).sorted())
    }

    /// `limit=0` counts: no matches, the exact count, `truncated` when there is anything to return.
    @Test(
        "limit=0 counts only",
        arguments: [
            SearchQuery("ab", limit: 0), SearchQuery("ab", reverse: true, limit: 0), SearchQuery("zz", limit: 0),
            SearchQuery(#"b+"#, regex: true, limit: 0), SearchQuery(#"b+"#, regex: true, reverse: true, start: -500, limit: 0),
            SearchQuery(#"x*"#, regex: true, limit: 0)
        ])
    func limitZeroCountsOnly(query: SearchQuery) throws {
        let server = try TestServer(files: ["data.bin": Self.pagingData])
        let reference = try PythonReference.answers(file: server.path("data.bin"), [query])[0]
        let answer = try server.search("data.bin", query)
        #expect(answer.status == 200)
        #expect(answer.matches.isEmpty)
        #expect(answer.count == reference.count)
        #expect(answer.truncated == (reference.count > 0))
        #expect(answer.response.json["matches"] is [Any], "matches is an empty array, not absent")
    }

    @Test func defaultLimitIsOneHundredAndCountStaysExact() throws {
        let server = try TestServer(files: ["data.bin": Self.pagingData])
        let query = SearchQuery("b")
        let reference = try PythonReference.answers(file: server.path("data.bin"), [query])[0]
        let answer = try server.search("data.bin", query)
        #expect(reference.count > 100)
        #expect(answer.matches.count == 100)
        #expect(answer.count == reference.count)
        #expect(answer.truncated == true)
        #expect(answer.next == reference.matches[100].offset)
    }

    // MARK: line and text

    @Test func shortLinesComeBackWholeAndLongLinesAreCutAroundTheMatch() throws {
        let lines: [[UInt8]] = [
            Array("a short line with NEEDLE in it".utf8),
            Array(repeating: UInt8(ascii: "a"), count: 1018) + Array("NEEDLE".utf8),  // exactly 1,024 bytes
            Array("NEEDLE".utf8) + Array(repeating: UInt8(ascii: "b"), count: 1019),  // 1,025 bytes
            Array(repeating: UInt8(ascii: "c"), count: 5000) + Array("NEEDLE".utf8) + Array(repeating: UInt8(ascii: "d"), count: 5000),
            Array("NEEDLE".utf8) + Array(repeating: UInt8(ascii: "e"), count: 10_000),
            Array(repeating: UInt8(ascii: "f"), count: 10_000) + Array("NEEDLE".utf8),
            Array(String(repeating: "é", count: 3001).utf8) + Array("NEEDLE".utf8) + Array(String(repeating: "€", count: 2001).utf8),
            Array(repeating: UInt8(ascii: "g"), count: 3) + Array("NEEDLE".utf8) + Array(String(repeating: "ü", count: 2000).utf8)
        ]
        let data = lines.joined(separator: [0x0A]) + [0x0A]
        let server = try TestServer(files: ["lines.txt": Array(data)])
        let answer = try server.search("lines.txt", SearchQuery("NEEDLE"))
        try #require(answer.matches.count == lines.count)
        for (index, (match, line)) in zip(answer.matches, lines).enumerated() {
            let whole = String(decoding: line, as: UTF8.self)
            #expect(match.line == index + 1)
            #expect(match.text.contains("NEEDLE"), "line \(index + 1)")
            #expect(match.text.unicodeScalars.count <= 4096, "line \(index + 1): \(match.text.unicodeScalars.count) characters")
            #expect(whole.contains(match.text), "line \(index + 1): the text is a piece of the line")
            #expect(!match.text.contains("\\x"), "line \(index + 1): a cut never splits a UTF-8 sequence")
            if line.count <= 1024 {
                #expect(match.text == whole, "line \(index + 1) has \(line.count) bytes: whole")
            } else {
                #expect(match.text.utf8.count >= 1024, "line \(index + 1): a cut line keeps plenty of context")
            }
        }
        // The 10,000-byte line with the match in the middle: context on both sides.
        let middle = answer.matches[3].text
        #expect(middle.hasPrefix("c") && middle.hasSuffix("d"))
    }

    @Test func bytesThatAreNotUTF8AreEscaped() throws {
        let data: [UInt8] = Array("ok ".utf8) + [0xFF] + Array("cd NEEDLE ".utf8) + [0xC3, 0x28, 0xE2, 0x82] + Array(" é\n".utf8)
        let server = try TestServer(files: ["bin.txt": data])
        let answer = try server.search("bin.txt", SearchQuery("NEEDLE"))
        #expect(answer.matches.first?.text == #"ok \xffcd NEEDLE \xc3(\xe2\x82 é"#)
        // Raw JSON: the backslash is escaped, so a JSON reader sees the four characters \xff.
        #expect(answer.response.text.contains(#"ok \\xffcd"#))
        // A pattern given as raw bytes finds raw bytes.
        let raw = try server.search("bin.txt", SearchQuery(bytes: [0xC3, 0x28]))
        #expect(raw.matches.map(\.offset) == [14])
        #expect(raw.matches.map(\.length) == [2])
    }

    @Test func lineNumbersAtTheEdges() throws {
        let server = try TestServer(files: [
            "edges.txt": Array("NEEDLE first\nmiddle\nlast NEEDLE".utf8),
            "blank.txt": Array("\n\n\nNEEDLE\n".utf8),
            "crlf.txt": Array("one\r\ntwo NEEDLE\r\nthree\r\nNEEDLE".utf8),
            "newline.txt": Array("ab\ncd".utf8)
        ])
        let edges = try server.search("edges.txt", SearchQuery("NEEDLE"))
        #expect(
            edges.matches == [
                FoundMatch(["offset": 0, "length": 6, "line": 1, "text": "NEEDLE first"]),
                FoundMatch(["offset": 25, "length": 6, "line": 3, "text": "last NEEDLE"])
            ])
        let endOfFile = try server.search("edges.txt", SearchQuery(#"$"#, regex: true))
        #expect(endOfFile.matches == [FoundMatch(["offset": 31, "length": 0, "line": 3, "text": "last NEEDLE"])])
        let blank = try server.search("blank.txt", SearchQuery("NEEDLE"))
        #expect(blank.matches.map(\.line) == [4])
        let blankLines = try server.search("blank.txt", SearchQuery(#"(?m)^$"#, regex: true))
        #expect(blankLines.matches.map(\.line) == [1, 2, 3, 5])
        #expect(blankLines.matches.map(\.text) == ["", "", "", ""])
        // CRLF: lines end at \n, so the \r stays in the text (as grep and ripgrep show it).
        let crlf = try server.search("crlf.txt", SearchQuery("NEEDLE"))
        #expect(
            crlf.matches == [
                FoundMatch(["offset": 9, "length": 6, "line": 2, "text": "two NEEDLE\r"]),
                FoundMatch(["offset": 24, "length": 6, "line": 4, "text": "NEEDLE"])
            ])
        let three = try server.search("crlf.txt", SearchQuery("three", reverse: true))
        #expect(three.matches.map(\.line) == [3])
        // A match on the newline itself belongs to the line that newline ends.
        let newline = try server.search("newline.txt", SearchQuery("\n"))
        #expect(newline.matches == [FoundMatch(["offset": 2, "length": 1, "line": 1, "text": "ab"])])
        // A match that spans lines shows the line it starts on.
        let spanning = try server.search("newline.txt", SearchQuery("b\nc"))
        #expect(spanning.matches == [FoundMatch(["offset": 1, "length": 3, "line": 1, "text": "ab"])])
    }

    /// `icase` folds ASCII letters only, like `bytes.lower()`: `É` is not `é`.
    @Test func icaseFoldsASCIILettersOnly() throws {
        let server = try TestServer(files: ["cafe.txt": Array("café CAFé CAFÉ\n".utf8)])
        for regex in [false, true] {
            let answer = try server.search("cafe.txt", SearchQuery("café", regex: regex, icase: true))
            #expect(answer.matches.map(\.offset) == [0, 6], "regex: \(regex)")
            #expect(answer.count == 2)
        }
    }

    @Test func emptyFileHasNoMatches() throws {
        let server = try TestServer(files: ["empty": []])
        for query in [SearchQuery("a"), SearchQuery(#"x*"#, regex: true), SearchQuery("a", reverse: true, start: -5, end: 5)] {
            let answer = try server.search("empty", query)
            #expect(answer.status == 200)
            #expect(answer.size == 0)
            #expect(answer.path == "empty")
            #expect(answer.count == (query.pattern == Array("x*".utf8) ? 1 : 0))
        }
    }

    // MARK: Errors

    @Test(
        "bad parameters are 400 problem+json naming the parameter",
        arguments: [
            ("", "'q'"), ("q=", "'q'"), ("regex=true", "'q'"), ("q=a&start=abc", "'start'"), ("q=a&end=1e3", "'end'"),
            ("q=a&start=%2B5", "'start'"), ("q=a&start=", "'start'"), ("q=a&end=99999999999999999999", "'end'"),
            ("q=a&limit=-1", "'limit'"), ("q=a&limit=10001", "'limit'"), ("q=a&limit=", "'limit'"), ("q=a&limit=1.5", "'limit'"),
            ("q=a&regex=yes", "'regex'"), ("q=a&icase=", "'icase'"), ("q=a&reverse=2", "'reverse'"), ("q=%ZZ", "percent-escape")
        ])
    func badParametersAre400(query: String, mentions: String) throws {
        let server = try TestServer(files: ["a.txt": Array("abc".utf8)])
        let response = try server.request("GET", "/search/a.txt?\(query)")
        expectProblem(response, status: 400)
        #expect((response.json["detail"] as? String)?.contains(mentions) == true, "\(response.text)")
    }

    @Test("booleans accept true, false, 1, 0 in any case", arguments: ["true", "True", "TRUE", "1", "false", "0", "False"])
    func booleanSpellings(value: String) throws {
        let server = try TestServer(files: ["a.txt": Array("abcABC".utf8)])
        let answer = SearchAnswer(try server.request("GET", "/search/a.txt?q=abc&icase=\(value)&regex=\(value)&reverse=\(value)"))
        #expect(answer.status == 200)
        let on = ["true", "True", "TRUE", "1"].contains(value)
        #expect(answer.count == (on ? 2 : 1))
    }

    @Test(
        "an invalid pattern is 400 with PCRE2's message and offset",
        arguments: [
            ("(x", 2, "missing closing parenthesis"), ("a)", 1, "unmatched closing parenthesis"),
            ("[a", 2, "missing terminating ]"), ("*a", 0, "quantifier does not follow a repeatable item"),
            ("a{2,1}", 5, "numbers out of order"), (#"ab\"#, 3, #"\ at end of pattern"#)
        ])
    func invalidPatternIs400WithOffset(pattern: String, offset: Int, message: String) throws {
        let server = try TestServer(files: ["a.txt": Array("abc".utf8)])
        for accept in ["application/json", "application/x-ndjson"] {
            let response = try server.request("GET", SearchQuery(pattern, regex: true).target("a.txt"), headers: [("Accept", accept)])
            expectProblem(response, status: 400)
            #expect(response.json["offset"] as? Int == offset, "\(response.text)")
            #expect((response.json["detail"] as? String)?.contains(message) == true, "\(response.text)")
        }
        // The same text as a literal is fine.
        #expect(try server.search("a.txt", SearchQuery(pattern)).status == 200)
    }

    @Test func patternLongerThanTheLimitIs400() throws {
        let server = try TestServer(configure: { $0.maxPatternBytes = 8 }, files: ["a.txt": Array("abcdefghijk".utf8)])
        for regex in [false, true] {
            let long = try server.request("GET", SearchQuery("abcdefghi", regex: regex).target("a.txt"))
            expectProblem(long, status: 400)
            #expect((long.json["detail"] as? String)?.contains("8 bytes") == true, "\(long.text)")
            let streamed = try server.request(
                "GET", SearchQuery("abcdefghi", regex: regex).target("a.txt"),
                headers: [("Accept", "application/x-ndjson")])
            expectProblem(streamed, status: 400)
            let fits = try server.search("a.txt", SearchQuery("abcdefgh", regex: regex))
            #expect(fits.status == 200)
            #expect(fits.count == 1)
        }
    }

    @Test func limitAboveTheConfiguredMaximumIs400ButNotForNDJSON() throws {
        let server = try TestServer(
            configure: { $0.maxSearchResults = 50 }, files: ["a.txt": Array(repeating: UInt8(ascii: "a"), count: 200)])
        let over = try server.request("GET", SearchQuery("a", limit: 51).target("a.txt"))
        expectProblem(over, status: 400)
        #expect((over.json["detail"] as? String)?.contains("between 0 and 50") == true, "\(over.text)")
        let most = try server.search("a.txt", SearchQuery("a", limit: 50))
        #expect(most.matches.count == 50)
        // Without a limit the default (100) is lowered to the maximum rather than refused.
        let unspecified = try server.search("a.txt", SearchQuery("a"))
        #expect(unspecified.status == 200)
        #expect(unspecified.matches.count == 50)
        let streamed = try ndjson(server, "a.txt", SearchQuery("a", limit: 150))
        #expect(streamed.matches.count == 150)
        #expect(streamed.summary["count"] as? Int == 200)
    }

    // Directories are tree searches (`/search/dir/`, `/search/`; `/search/dir` redirects):
    // Tests/python/test_tree_search.py. What is neither file nor directory inside stays 404.
    @Test(
        "what is not a searchable file is 404",
        arguments: [
            "/search/missing.txt?q=a", "/search/missing/?q=a", "/search/a.txt/?q=a", "/search/link.txt/?q=a",
            "/search/../OUTSIDE?q=a",
            "/search/%2e%2e/OUTSIDE?q=a", "/search/dir/%2E%2E/%2e%2e/OUTSIDE?q=a", "/search/link.txt?q=a",
            "/search/a.txt%00?q=a", "/search/dir/..%2F..%2FOUTSIDE?q=a"
        ])
    func notASearchableFileIs404(target: String) throws {
        let server = try TestServer(files: ["a.txt": Array("a".utf8), "dir/inner.txt": Array("a".utf8)])
        // A real file next to the root, so that a 404 means "not reachable", not "not there".
        let name = "mmapd-outside-\(UUID().uuidString).txt"
        let outside = server.root.deletingLastPathComponent().appendingPathComponent(name).path
        try Data("a".utf8).write(to: URL(fileURLWithPath: outside))
        defer { unlink(outside) }
        #expect(symlink(outside, server.path("link.txt")) == 0)
        let response = try server.request("GET", target.replacingOccurrences(of: "OUTSIDE", with: name))
        expectProblem(response, status: 404)
    }

    @Test("methods other than GET are 405 with Allow: GET, OPTIONS", arguments: ["POST", "PUT", "DELETE", "PATCH"])
    func otherMethodsAre405(method: String) throws {
        let server = try TestServer(files: ["a.txt": Array("abc".utf8)])
        let response = try server.request(method, "/search/a.txt?q=a")
        expectProblem(response, status: 405)
        #expect(response.header("Allow") == "GET, OPTIONS")
    }

    @Test func unknownParametersAreIgnoredAndTheLastRepeatWins() throws {
        let server = try TestServer(files: ["a.txt": Array("abab".utf8)])
        let answer = SearchAnswer(try server.request("GET", "/search/a.txt?q=zz&trace=1&q=ab&limit=5&limit=1&_=123"))
        #expect(answer.status == 200)
        #expect(answer.count == 2)
        #expect(answer.matches.map(\.offset) == [0])
        let plus = SearchAnswer(try server.request("GET", "/search/a.txt?q=b+a"))
        #expect(plus.count == 0, "'+' is a space in a query")
    }

    // MARK: Budgets

    /// `(a+)+$` on 100,000 `a` and a `b` backtracks exponentially: the search must end with an
    /// error answer, and the server must serve normally afterwards.
    @Test func catastrophicPatternEndsWithAnErrorAndTheServerStaysHealthy() throws {
        let data = [UInt8](repeating: UInt8(ascii: "a"), count: 100_000) + [UInt8(ascii: "b")]
        let server = try TestServer(configure: { $0.searchTimeoutMilliseconds = 500 }, files: ["a.txt": data])
        let answer = try server.request("GET", SearchQuery(#"(a+)+$"#, regex: true).target("a.txt"))
        expectProblem(answer, status: 422)
        // The NDJSON form fails before the first match: an error line instead of the summary.
        let streamed = try ndjson(server, "a.txt", SearchQuery(#"(a+)+$"#, regex: true))
        #expect(streamed.status == 200)
        #expect(streamed.matches.isEmpty)
        #expect((streamed.summary["error"] as? [String: Any])?["status"] as? Int == 422, "\(streamed.summary)")
        // Other pathological shapes end too (PCRE2 may optimise some into a quick "no match").
        for pattern in [#"(a*)*c"#, #"(a|aa)+$"#, #"(?:a+)+c"#, #"(a|a?)+$"#, #"(a+)+\z"#] {
            let other = SearchAnswer(try server.request("GET", SearchQuery(pattern, regex: true).target("a.txt")))
            #expect(other.status == 422 || (other.status == 200 && other.count == 0), "\(pattern): \(other)")
        }
        #expect(try server.request("GET", "/healthz").status == 200)
        let normal = try server.search("a.txt", SearchQuery("ab"))
        #expect(normal.matches.map(\.offset) == [99_999])
        #expect(normal.count == 1)
    }

    // MARK: NDJSON

    @Test(
        "NDJSON streams the same matches as JSON, then a summary",
        arguments: [
            SearchQuery("ab", limit: 10_000), SearchQuery("ab", limit: 5), SearchQuery("ab", reverse: true, limit: 10_000),
            SearchQuery("AB", icase: true, start: 100, end: -100, limit: 10_000), SearchQuery(#"\bb+\b"#, regex: true, limit: 10_000),
            SearchQuery(#"\bb+\b"#, regex: true, reverse: true, limit: 17), SearchQuery("ab", limit: 0), SearchQuery("zzz", limit: 10)
        ])
    func ndjsonMatchesJSON(query: SearchQuery) throws {
        let server = try TestServer(files: ["data.bin": Self.pagingData])
        let json = try server.search("data.bin", query)
        let connection = try HTTPConnection(port: server.port)
        let response = try connection.send("GET", query.target("data.bin"), headers: [("Accept", "application/x-ndjson")])
        #expect(response.status == 200)
        #expect(response.header("Content-Type") == "application/x-ndjson")
        #expect(response.header("Transfer-Encoding")?.lowercased() == "chunked")
        #expect(response.header("Content-Length") == nil)
        #expect(response.body.last == 0x0A, "every line, the last included, ends with \\n")
        let lines = response.body.split(separator: 0x0A, omittingEmptySubsequences: false).dropLast()
        let objects = lines.map { (try? JSONSerialization.jsonObject(with: Data($0))) as? [String: Any] }
        #expect(objects.allSatisfy { $0 != nil }, "one JSON object per line")
        let summary = objects.last.flatMap { $0 } ?? [:]
        #expect(Set(summary.keys) == ["count", "truncated", "next"])
        #expect(summary["count"] as? Int == json.count)
        #expect(summary["truncated"] as? Bool == json.truncated)
        #expect((summary["next"] as? Int) == json.next)
        let matches = objects.dropLast().compactMap { $0 }.map(FoundMatch.init)
        #expect(matches == json.matches)
    }

    // MARK: curl

    @Test func curlExamplesWork() throws {
        let notes = "a word, another word\nword three\nno match here\nlast word\n"
        let server = try TestServer(files: ["notes.txt": Array(notes.utf8)])
        let result = try curl(["\(server.baseURL)/search/notes.txt?q=word&limit=3"])
        #expect(result.status == 0, "\(result.stderr)")
        let answer = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout)) as? [String: Any])
        #expect(answer["path"] as? String == "notes.txt")
        #expect(answer["size"] as? Int == notes.utf8.count)
        #expect(answer["count"] as? Int == 4)
        #expect(answer["truncated"] as? Bool == true)
        #expect(answer["next"] as? Int == 51)
        let matches = (answer["matches"] as? [[String: Any]] ?? []).map(FoundMatch.init)
        #expect(
            matches == [
                FoundMatch(["offset": 2, "length": 4, "line": 1, "text": "a word, another word"]),
                FoundMatch(["offset": 16, "length": 4, "line": 1, "text": "a word, another word"]),
                FoundMatch(["offset": 21, "length": 4, "line": 2, "text": "word three"])
            ])
        // The rest, from `next`.
        let rest = try curl(["\(server.baseURL)/search/notes.txt?q=word&limit=3&start=51"])
        #expect(rest.stdoutText.contains(#""count":1,"truncated":false,"next":null"#), "\(rest.stdoutText)")
        // A regex through --data-urlencode, and NDJSON.
        let regex = try curl([
            "-G", "--data-urlencode", #"q=\b[a-z]{4}\b"#, "--data", "regex=true", "--data", "limit=0",
            "\(server.baseURL)/search/notes.txt"
        ])
        #expect(regex.stdoutText.contains(#""count":6"#), "\(regex.stdoutText)")
        let streamed = try curl(["-H", "Accept: application/x-ndjson", "\(server.baseURL)/search/notes.txt?q=word&reverse=true"])
        let lines = streamed.stdoutText.split(separator: "\n")
        #expect(lines.count == 5)
        #expect(lines.first == #"{"offset":51,"length":4,"line":4,"text":"last word"}"#)
        #expect(lines.last == #"{"count":4,"truncated":false,"next":null}"#)
    }
}

// MARK: Helpers

/// Compares a JSON answer with CPython's: the first `limit` matches (offset, length, line, and
/// the text when the line has at most 1,024 bytes), the exact count, `truncated`, and `next` (the
/// first match not returned: its offset forward, its end in reverse).
func expectAgreement(
    _ answer: SearchAnswer, _ reference: ReferenceAnswer, _ query: SearchQuery, size: Int,
    checkNext: Bool = true, sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(answer.status == 200, "\(query): \(answer)", sourceLocation: sourceLocation)
    guard answer.status == 200 else { return }
    let limit = query.effectiveLimit
    let expected = Array(reference.matches.prefix(limit))
    #expect(answer.size == size, "\(query)", sourceLocation: sourceLocation)
    #expect(answer.count == reference.count, "\(query)", sourceLocation: sourceLocation)
    #expect(answer.spans == expected.map(\.span), "\(query)", sourceLocation: sourceLocation)
    #expect(answer.matches.map(\.line) == expected.map(\.line), "\(query): lines", sourceLocation: sourceLocation)
    for (got, want) in zip(answer.matches, expected) {
        if let text = want.text, got.text != text {
            #expect(got.text == text, "\(query): text of \(want)", sourceLocation: sourceLocation)
            break
        }
    }
    let truncated = reference.count > answer.matches.count
    #expect(answer.truncated == truncated, "\(query)", sourceLocation: sourceLocation)
    guard checkNext else { return }
    if truncated, reference.matches.count > answer.matches.count {
        let first = reference.matches[answer.matches.count]
        let next = query.reverse ? first.offset + first.length : first.offset
        #expect(answer.next == next, "\(query): next", sourceLocation: sourceLocation)
    } else if !truncated {
        #expect(answer.next == nil, "\(query): next", sourceLocation: sourceLocation)
    }
}

/// An `application/problem+json` answer with `status`, a title and a detail.
func expectProblem(_ response: HTTPResponse, status: Int, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(response.status == status, "\(response.status) \(response.text)", sourceLocation: sourceLocation)
    #expect(response.header("Content-Type") == "application/problem+json", sourceLocation: sourceLocation)
    #expect(response.json["status"] as? Int == status, "\(response.text)", sourceLocation: sourceLocation)
    #expect(response.json["title"] is String, sourceLocation: sourceLocation)
    #expect(response.json["detail"] is String, sourceLocation: sourceLocation)
}

/// An NDJSON answer read whole: the match objects and the last line (summary or error).
struct StreamedAnswer {
    let status: Int
    let matches: [FoundMatch]
    let summary: [String: Any]
}

func ndjson(_ server: TestServer, _ path: String, _ query: SearchQuery) throws -> StreamedAnswer {
    let connection = try HTTPConnection(port: server.port, timeoutSeconds: 120)
    let response = try connection.send("GET", query.target(path), headers: [("Accept", "application/x-ndjson")])
    guard response.status == 200 else { return StreamedAnswer(status: response.status, matches: [], summary: response.json) }
    let objects = response.body.split(separator: 0x0A).map {
        (try? JSONSerialization.jsonObject(with: Data($0))) as? [String: Any] ?? [:]
    }
    return StreamedAnswer(status: response.status, matches: objects.dropLast().map(FoundMatch.init), summary: objects.last ?? [:])
}
