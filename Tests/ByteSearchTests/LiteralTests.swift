import ByteSearch
import Testing

@Suite struct LiteralTests {
    static let alphabets: [[UInt8]] = [Array("ab\n".utf8), Array("aAbB\n".utf8), Array("abc".utf8), Array(0...255)]

    /// Random data, needles and windows against the naive reference, in every configuration.
    @Test(arguments: Array(Configurations.all.enumerated()), [false, true])
    func matchesReference(configuration: (offset: Int, element: SearchConfiguration), reverse: Bool) throws {
        let searcher = Searcher(configuration: configuration.element)
        var random = SeededRandom(seed: UInt64(configuration.offset * 2 + (reverse ? 1 : 0)))
        for round in 0..<150 {
            let alphabet = Self.alphabets[round % Self.alphabets.count]
            let data = random.bytes(Int.random(in: 0...120, using: &random), from: alphabet)
            let needle = random.bytes(Int.random(in: 1...4, using: &random), from: alphabet)
            let icase = round % 3 == 0
            let window = SearchWindow.resolve(
                start: random.bound(size: data.count), end: random.bound(size: data.count), size: data.count)
            let request = SearchRequest(pattern: needle, caseInsensitive: icase, reverse: reverse, window: window)
            let outcome = try searcher.all(request, in: data)
            let expected =
                reverse
                ? Reference.rfindAll(data, needle, window, icase: icase)
                : Reference.findAll(data, needle, window, icase: icase)
            #expect(outcome.matches.map(\.offset) == expected, "data \(data) needle \(needle) window \(window) icase \(icase)")
            #expect(outcome.count == expected.count)
            #expect(outcome.truncated == false && outcome.next == nil)
            #expect(outcome.matches.allSatisfy { $0.length == needle.count })
            #expect(outcome.matches.map(\.line) == Reference.lines(data, expected))
        }
    }

    /// `aa` in `aaa`: forward finds 0, reverse (repeated rfind) finds 1.
    @Test(arguments: Configurations.all)
    func selfOverlappingNeedles(configuration: SearchConfiguration) throws {
        let searcher = Searcher(configuration: configuration)
        let data = Array("aaa".utf8)
        let forward = try searcher.all(SearchRequest(pattern: Array("aa".utf8), window: 0..<3), in: data)
        let reverse = try searcher.all(SearchRequest(pattern: Array("aa".utf8), reverse: true, window: 0..<3), in: data)
        #expect(forward.matches.map(\.offset) == [0])
        #expect(reverse.matches.map(\.offset) == [1])
        let long = [UInt8](repeating: UInt8(ascii: "a"), count: 1001)
        for needle in ["aa", "aaa", "aaaaaaa"] {
            let n = needle.utf8.count
            let f = try searcher.all(SearchRequest(pattern: Array(needle.utf8), window: 0..<long.count), in: long)
            let r = try searcher.all(SearchRequest(pattern: Array(needle.utf8), reverse: true, window: 0..<long.count), in: long)
            #expect(f.matches.map(\.offset) == Array(stride(from: 0, through: long.count - n, by: n)))
            #expect(r.matches.map(\.offset) == Array(stride(from: long.count - n, through: 0, by: -n)))
        }
    }

    /// Following `next` page by page gives back exactly the full list, in both directions.
    @Test(arguments: [1, 2, 5], [false, true])
    func pagesChainThroughNext(limit: Int, reverse: Bool) throws {
        let searcher = Searcher(configuration: Configurations.tiny(chunk: 5, block: 3, threads: 2))
        var random = SeededRandom(seed: 99)
        for _ in 0..<40 {
            let data = random.bytes(200, from: Array("ab\n".utf8))
            let needle = random.bytes(Int.random(in: 1...3, using: &random), from: Array("ab".utf8))
            let full = try searcher.all(SearchRequest(pattern: needle, reverse: reverse, window: 0..<data.count), in: data)
            var collected: [SearchMatch] = []
            var window = 0..<data.count
            while true {
                let page = try searcher.search(
                    SearchRequest(pattern: needle, reverse: reverse, limit: limit, window: window), in: data)
                #expect(page.count == full.matches.count - collected.count)
                collected += page.matches
                guard page.truncated, let next = page.next else { break }
                window = reverse ? window.lowerBound..<next : next..<window.upperBound
            }
            #expect(collected == full.matches)
        }
    }

    /// Long needles, rare and frequent bytes, dense candidates (the adaptive fallback), big data.
    @Test(arguments: [false, true], [false, true])
    func kernelPaths(reverse: Bool, icase: Bool) throws {
        var random = SeededRandom(seed: 5)
        let searcher = Searcher(configuration: Configurations.tiny(chunk: 40_000, block: 10_000, threads: 2))
        // Dense candidates: almost all 'e', so the prefilter gives up and the fallback runs.
        var data = random.bytes(200_000, from: Array("eeeeeeeeeeeeeeeE f\n".utf8))
        for needle in ["eeeeeeef", "e", "ee", "EEE e", "f", "Ee\nE", String(repeating: "e", count: 70) + "f"] {
            try compare(searcher, data, Array(needle.utf8), reverse, icase)
        }
        data = random.bytes(300_000, from: Array(0...255))
        for length in [1, 2, 3, 8, 33, 300] {
            let start = Int.random(in: 0..<(data.count - length), using: &random)
            try compare(searcher, data, Array(data[start..<(start + length)]), reverse, icase)
        }
    }

    private func compare(_ searcher: Searcher, _ data: [UInt8], _ needle: [UInt8], _ reverse: Bool, _ icase: Bool) throws {
        let window = 0..<data.count
        let outcome = try searcher.all(
            SearchRequest(pattern: needle, caseInsensitive: icase, reverse: reverse, window: window), in: data)
        let expected =
            reverse
            ? Reference.rfindAll(data, needle, window, icase: icase)
            : Reference.findAll(data, needle, window, icase: icase)
        #expect(outcome.matches.map(\.offset) == expected, "needle \(needle)")
        #expect(outcome.count == expected.count)
    }

    @Test func emptyAndTooLongPatterns() throws {
        let searcher = Searcher(configuration: SearchConfiguration(maxPatternLength: 8))
        #expect(throws: SearchError.invalidPattern(message: "empty pattern", offset: 0)) {
            try searcher.search(SearchRequest(pattern: [], window: 0..<3), in: Array("abc".utf8))
        }
        #expect(throws: SearchError.patternTooLong(limit: 8)) {
            try searcher.search(SearchRequest(pattern: Array("123456789".utf8), window: 0..<3), in: Array("abc".utf8))
        }
    }

    @Test func emptyBufferAndLimits() throws {
        let searcher = Searcher()
        let empty = try searcher.search(SearchRequest(pattern: Array("a".utf8), window: 0..<0), in: [])
        #expect(empty.matches.isEmpty && empty.count == 0 && !empty.truncated && empty.next == nil)
        let data = Array("xaxaxa".utf8)
        let countOnly = try searcher.search(SearchRequest(pattern: Array("a".utf8), limit: 0, window: 0..<6), in: data)
        #expect(countOnly.matches.isEmpty && countOnly.count == 3 && countOnly.truncated && countOnly.next == 1)
        let two = try searcher.search(SearchRequest(pattern: Array("a".utf8), limit: 2, window: 0..<6), in: data)
        #expect(two.matches.map(\.offset) == [1, 3] && two.count == 3 && two.next == 5)
        let back = try searcher.search(SearchRequest(pattern: Array("a".utf8), reverse: true, limit: 2, window: 0..<6), in: data)
        #expect(back.matches.map(\.offset) == [5, 3] && back.count == 3 && back.next == 2)
    }
}

/// The tree search's shortcut: a case-sensitive literal absent from the window is proven absent
/// with one memmem; anything it cannot prove is left to the search.
@Suite struct CannotMatchTests {
    static let text = Array("one needle here, and a second needle there".utf8)

    @Test(arguments: [
        // (pattern, regex, icase, window, proven absent)
        ("needle", false, false, 0..<42, false),
        ("needle", false, false, 0..<9, true),  // the first occurrence ends at 10
        ("needle", false, false, 11..<30, true),
        ("needle", false, false, 4..<10, false),
        ("needle", false, false, 40..<42, true),  // shorter than the needle
        ("haystack", false, false, 0..<42, true),
        ("NEEDLE", false, true, 0..<42, false),  // case-insensitive: not proven here
        ("NEEDLE", false, true, 0..<9, false),
        ("zz+", true, false, 0..<42, false)  // a regex: never
    ])
    func provesAbsenceOnlyOfPlainLiterals(pattern: String, regex: Bool, icase: Bool, window: Range<Int>, absent: Bool) throws {
        let request = SearchRequest(pattern: Array(pattern.utf8), isRegex: regex, caseInsensitive: icase, window: window)
        let searcher = Searcher()
        let proven = Self.text.withUnsafeBytes { searcher.cannotMatch(request, in: $0) }
        #expect(proven == absent)
        if proven {
            // What the search says too.
            #expect(try Self.text.withUnsafeBytes { try searcher.search(request, in: $0) }.count == 0)
        }
    }

    /// Pages gone under the window: nothing is proven (the search then reports the change).
    @Test func aCutMappingProvesNothing() throws {
        let file = try MappedTempFile(contents: [UInt8](repeating: UInt8(ascii: "a"), count: 1 << 20))
        file.truncate(to: 4096)
        let request = SearchRequest(pattern: Array("zzz".utf8), window: 0..<(1 << 20))
        #expect(!Searcher().cannotMatch(request, in: file.buffer))
    }
}
