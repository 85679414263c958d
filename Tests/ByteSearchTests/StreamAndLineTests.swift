import ByteSearch
import Testing

@Suite struct StreamTests {
    static let requests: [(pattern: String, regex: Bool, reverse: Bool)] = [
        ("ab", false, false), ("ab", false, true), ("a+", true, false), ("a+", true, true),
        ("x*", true, false), ("x*", true, true), ("(?m)^", true, true),
        // Empty matches right after a match ending at the same offset: reverse pages carry the pair.
        ("b*", true, true), ("(?:ab)*", true, true)
    ]

    /// Streaming delivers, in order and in bounded batches, exactly what `search` returns.
    @Test(arguments: Array(requests.indices), [Configurations.sequential, Configurations.tiny(chunk: 300, block: 50, threads: 2)])
    func streamsWhatSearchReturns(index: Int, configuration: SearchConfiguration) throws {
        let (pattern, regex, reverse) = Self.requests[index]
        var random = SeededRandom(seed: 4)
        let data = random.bytes(5000, from: Array("ab\n".utf8))
        let searcher = Searcher(configuration: configuration)
        for limit in [0, 1, 7, 600, Int.max] {
            let request = SearchRequest(
                pattern: Array(pattern.utf8), isRegex: regex, reverse: reverse, limit: limit, window: 3..<(data.count - 2))
            let expected = try searcher.search(request, in: data)
            var streamed: [SearchMatch] = []
            var batches = 0
            let summary = try data.withUnsafeBytes { buffer in
                try searcher.stream(request, in: buffer, batchSize: 64) { batch in
                    #expect(!batch.isEmpty && batch.count <= 64)
                    batches += 1
                    streamed += batch
                    return true
                }
            }
            #expect(streamed == expected.matches, "\(pattern) limit \(limit)")
            #expect(summary.delivered == streamed.count)
            #expect(summary.count == expected.count)
            #expect(summary.truncated == expected.truncated)
            #expect(summary.next == expected.next)
            #expect(batches == (streamed.count + 63) / 64)
        }
    }

    /// Reverse pattern streams regenerate slices from restart marks (chunks of > 512 matches).
    @Test func reversePatternStreamOverManyMatches() throws {
        var random = SeededRandom(seed: 21)
        let data = random.bytes(120_000, from: Array("aab\n".utf8))
        let searcher = Searcher(configuration: Configurations.tiny(chunk: 20_000, block: 4_000, threads: 2))
        let request = SearchRequest(pattern: Array("a+b?".utf8), isRegex: true, reverse: true, limit: Int.max, window: 0..<data.count)
        let expected = try searcher.search(request, in: data)
        #expect(expected.matches.count > 10_000)
        var streamed: [SearchMatch] = []
        let summary = try data.withUnsafeBytes { buffer in
            try searcher.stream(request, in: buffer, batchSize: 1000) { batch in
                streamed += batch
                return true
            }
        }
        #expect(streamed == expected.matches)
        #expect(summary.count == expected.count && !summary.truncated)
    }

    @Test func consumerCanStop() throws {
        let data = [UInt8](repeating: UInt8(ascii: "a"), count: 10_000)
        let searcher = Searcher()
        var seen = 0
        let summary = try data.withUnsafeBytes { buffer in
            try searcher.stream(SearchRequest(pattern: Array("a".utf8), limit: Int.max, window: 0..<data.count), in: buffer, batchSize: 100)
            {
                seen += $0.count
                return seen < 300
            }
        }
        #expect(seen == 300 && summary.delivered == 300 && summary.count == nil && summary.truncated)
        #expect(summary.next == 300)
    }
}

@Suite struct LineTests {
    @Test func lineNumbersAreOneBasedAndIncremental() throws {
        let data = Array("one\ntwo\n\nthree two\ntwo".utf8)
        let outcome = try Searcher().all(SearchRequest(pattern: Array("two".utf8), window: 0..<data.count), in: data)
        #expect(outcome.matches.map(\.line) == [2, 4, 5])
        let reverse = try Searcher().all(SearchRequest(pattern: Array("two".utf8), reverse: true, window: 0..<data.count), in: data)
        #expect(reverse.matches.map(\.line) == [5, 4, 2])
    }

    @Test func newlineCountingIsExactAtEveryAlignment() throws {
        var random = SeededRandom(seed: 12)
        let data = random.bytes(3000, from: [0x0A, 0x0B, 0x09, 0x8A, 0x0A, 0xFF, 0x00])
        let searcher = Searcher()
        for offset in stride(from: 0, to: data.count, by: 37) {
            let byte = data[offset]
            let outcome = try searcher.search(
                SearchRequest(pattern: [byte], limit: 1, window: offset..<data.count), in: data)
            #expect(outcome.matches.first?.line == Reference.line(data, offset))
        }
    }

    @Test func shortLineComesBackWhole() throws {
        let data = Array("first\nthe second line\nthird".utf8)
        try data.withUnsafeBytes { buffer in
            let text = try Searcher.lineText(at: 10, length: 6, in: buffer)
            #expect(text.bytes == Array("the second line".utf8) && text.offset == 6 && !text.isCut)
            let last = try Searcher.lineText(at: 24, length: 1, in: buffer)
            #expect(last.bytes == Array("third".utf8) && !last.isCut)
            let end = try Searcher.lineText(at: data.count, length: 0, in: buffer)
            #expect(end.bytes == Array("third".utf8))
            let first = try Searcher.lineText(at: 0, length: 1, in: buffer)
            #expect(first.bytes == Array("first".utf8))
        }
    }

    @Test(arguments: [0, 1, 500, 3000, 5000, 9_990])
    func longLineIsCutAroundTheMatch(offset: Int) throws {
        var data = [UInt8](repeating: UInt8(ascii: "x"), count: 10_000)
        data.replaceSubrange(offset..<(offset + 5), with: Array("MATCH".utf8))
        data = Array("short\n".utf8) + data + Array("\nafter".utf8)
        let at = offset + 6
        try data.withUnsafeBytes { buffer in
            let text = try Searcher.lineText(at: at, length: 5, in: buffer)
            #expect(text.isCut)
            #expect(text.bytes.count <= LineText.windowLimit)
            #expect(text.bytes.count >= LineText.windowLimit - 8 || text.bytes.count == 10_000)
            #expect(!text.bytes.contains(0x0A))
            let local = at - text.offset
            #expect(Array(text.bytes[local..<(local + 5)]) == Array("MATCH".utf8))
        }
    }

    @Test func cutDoesNotSplitUTF8() throws {
        let line = [UInt8](String(repeating: "é", count: 3000).utf8)  // 6000 bytes
        var data = line
        data.replaceSubrange(3000..<3002, with: Array("ab".utf8))
        try data.withUnsafeBytes { buffer in
            let text = try Searcher.lineText(at: 3000, length: 2, in: buffer)
            #expect(text.isCut)
            #expect(String(validating: text.bytes, as: UTF8.self) != nil)
        }
    }

    @Test func multiLineMatchGivesTheLineItStartsOn() throws {
        let data = Array("one\ntwo\nthree".utf8)
        let outcome = try Searcher().all(SearchRequest(pattern: Array("o\\nt".utf8), isRegex: true, window: 0..<data.count), in: data)
        #expect(outcome.matches.map(\.offset) == [6])
        #expect(outcome.matches.map(\.line) == [2])
        let text = try data.withUnsafeBytes { buffer in try Searcher.lineText(at: 6, length: 3, in: buffer) }
        #expect(text.bytes == Array("two".utf8))
    }

    @Test func lineOfAMatchOnALineBetweenNewlines() throws {
        let data = Array("a\n\nb".utf8)
        try data.withUnsafeBytes { buffer in
            let text = try Searcher.lineText(at: 2, length: 0, in: buffer)
            #expect(text.bytes.isEmpty && text.offset == 2 && !text.isCut)
        }
    }
}
