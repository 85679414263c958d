import ByteSearch
import Foundation
import Testing

/// Parallel chunks must give exactly the sequential answer, whatever crosses their boundaries.
@Suite struct ChunkTests {
    static let chunkSizes = [1, 2, 3, 4, 5, 8, 13]

    @Test(arguments: chunkSizes)
    func literalMatchesAcrossBoundaries(chunk: Int) throws {
        let sequential = Searcher()
        let chunked = Searcher(configuration: Configurations.tiny(chunk: chunk, block: 2, threads: 2))
        let data = Array("abababaabaaabaaaab\nababab".utf8)
        for needle in ["aba", "abab", "aa", "aaa", "ab\na", "b\n", "baaaab"] {
            for reverse in [false, true] {
                let request = SearchRequest(pattern: Array(needle.utf8), reverse: reverse, window: 0..<data.count)
                #expect(try chunked.all(request, in: data).answer == sequential.all(request, in: data).answer, "\(needle) \(reverse)")
            }
        }
    }

    @Test(arguments: chunkSizes)
    func regexMatchesAcrossBoundariesFoundOnce(chunk: Int) throws {
        let sequential = Searcher()
        let chunked = Searcher(configuration: Configurations.tiny(chunk: chunk, block: 1, threads: 2))
        let data = Array("xx abc\ndef yy abc\ndef\n\nabc\ndefabc\ndef".utf8)
        for pattern in ["abc\\ndef", "(?s)c.d", "(?m)^def", "(?<=c\\n)d", "\\n+", "x*", "\\b", "(?m)^", "(?m)$", "[a-f\\n]+", "(?s).*"] {
            let request = SearchRequest(pattern: Array(pattern.utf8), isRegex: true, window: 0..<data.count)
            let expected = try sequential.all(request, in: data)
            #expect(try chunked.all(request, in: data).answer == expected.answer, "\(pattern)")
            var reverse = request
            reverse.reverse = true
            #expect(try chunked.all(reverse, in: data).matches == expected.matches.reversed(), "\(pattern) reverse")
        }
        // Exactly once, although it starts in one chunk and ends in another.
        let spanning = try chunked.all(
            SearchRequest(pattern: Array("abc\\ndef".utf8), isRegex: true, window: 0..<data.count), in: data)
        #expect(spanning.matches.map(\.offset) == [3, 14, 23, 30])
    }

    /// A match much longer than a chunk swallows whole chunks; the merge must rescan and resync.
    @Test(arguments: [1, 3, 7])
    func longMatchesSwallowChunks(chunk: Int) throws {
        let sequential = Searcher()
        let chunked = Searcher(configuration: Configurations.tiny(chunk: chunk, block: 1, threads: 2))
        let data = Array("a<bbbbbbbbbbbbbbbbbbbbbbbbbbb>a<bb>aaa<b".utf8)
        for pattern in ["<[^>]*>", "<.*?>|a", "a|<b*", "(?s)<.*", "b*"] {
            let request = SearchRequest(pattern: Array(pattern.utf8), isRegex: true, window: 0..<data.count)
            #expect(try chunked.all(request, in: data).answer == sequential.all(request, in: data).answer, "\(pattern)")
        }
    }

    /// Large random data with many chunks and the restart marks (more than 512 matches per chunk).
    @Test(arguments: [false, true])
    func manyMatchesPerChunk(regex: Bool) throws {
        var random = SeededRandom(seed: 77)
        let data = random.bytes(400_000, from: Array("aab\n".utf8))
        let sequential = Searcher()
        let chunked = Searcher(configuration: Configurations.tiny(chunk: 50_000, block: 7_000, threads: 2))
        let pattern = Array((regex ? "a+b" : "ab").utf8)
        for reverse in [false, true] {
            for limit in [0, 1, 700, 5000] {
                let request = SearchRequest(pattern: pattern, isRegex: regex, reverse: reverse, limit: limit, window: 0..<data.count)
                #expect(
                    try chunked.search(request, in: data).answer == sequential.search(request, in: data).answer,
                    "limit \(limit) reverse \(reverse)")
            }
        }
    }

    /// The three examples of Python's `mmap` documentation, on a generated text file, against
    /// Python itself: count a word, all five-letter words, `find(b" the ", 10000)`.
    @Test(arguments: [SearchConfiguration(), Configurations.tiny(chunk: 4096, block: 1000, threads: 2)])
    func pythonMmapDocumentationExamples(configuration: SearchConfiguration) throws {
        var random = SeededRandom(seed: 2024)
        let words = ["the", "The", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "there", "other", "mmap", "bytes", "words"]
        var text: [UInt8] = []
        while text.count < 300_000 {
            let line = (0..<Int.random(in: 1...14, using: &random)).map { _ in words.randomElement(using: &random)! }
            text += Array((line.joined(separator: " ") + (Bool.random(using: &random) ? ".\n" : "\n")).utf8)
        }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("bytesearch-doc-\(UUID().uuidString).txt")
        try Data(text).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let script = """
            import mmap, re, sys, json
            with open(sys.argv[1], 'rb') as f:
                mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
                count = len(re.findall(rb'the', mm))
                five = [m.start() for m in re.finditer(rb'\\b[a-zA-Z]{5}\\b', mm)]
                found = mm.find(b' the ', 10000)
                print(json.dumps([count, five, found]))
            """
        struct Answer: Decodable {
            let count: Int
            let five: [Int]
            let found: Int
            init(from decoder: Decoder) throws {
                var container = try decoder.unkeyedContainer()
                count = try container.decode(Int.self)
                five = try container.decode([Int].self)
                found = try container.decode(Int.self)
            }
        }
        let answer = try JSONDecoder().decode(Answer.self, from: try runPython(script, arguments: [url.path]))
        let mapped = try MappedTempFile(contents: text)
        let searcher = Searcher(configuration: configuration)
        let all = 0..<text.count
        let count = try searcher.search(SearchRequest(pattern: Array("the".utf8), limit: 0, window: all), in: mapped.buffer)
        #expect(count.count == answer.count)
        let five = try searcher.search(
            SearchRequest(pattern: Array("\\b[a-zA-Z]{5}\\b".utf8), isRegex: true, limit: Int.max, window: all), in: mapped.buffer)
        #expect(five.matches.map(\.offset) == answer.five)
        let window = SearchWindow.resolve(start: 10000, end: nil, size: text.count)
        let the = try searcher.search(SearchRequest(pattern: Array(" the ".utf8), limit: 1, window: window), in: mapped.buffer)
        #expect(the.matches.first?.offset == answer.found)
        #expect(the.matches.first?.line == Reference.line(text, answer.found))
    }
}
