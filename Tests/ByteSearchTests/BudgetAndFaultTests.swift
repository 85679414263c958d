import ByteSearch
import Glibc
import Testing

@Suite struct FaultTests {
    static func contents() -> [UInt8] {
        var random = SeededRandom(seed: 11)
        return random.bytes(4 << 20, from: Array("abcdefgh \n".utf8))
    }

    /// The file shrinks under the mapping: every kind of search reports `fileChanged`, and the
    /// process lives on.
    @Test(
        arguments: [
            SearchRequest(pattern: Array("zzz".utf8), window: 0..<(4 << 20)),
            SearchRequest(pattern: Array("zzz".utf8), reverse: true, window: 0..<(4 << 20)),
            SearchRequest(pattern: Array("ZzZ".utf8), caseInsensitive: true, window: 0..<(4 << 20)),
            SearchRequest(pattern: Array("z+q".utf8), isRegex: true, window: 0..<(4 << 20)),
            SearchRequest(pattern: Array("z+q".utf8), isRegex: true, reverse: true, window: 0..<(4 << 20))
        ], [false, true])
    func truncatedFileThrowsFileChanged(request: SearchRequest, parallel: Bool) throws {
        let file = try MappedTempFile(contents: Self.contents())
        file.truncate(to: 4096)
        let configuration =
            parallel
            ? SearchConfiguration(concurrency: 2, parallelThreshold: 1 << 20, chunkSize: 1 << 20)
            : SearchConfiguration()
        let searcher = Searcher(configuration: configuration)
        #expect(throws: SearchError.fileChanged) { try searcher.search(request, in: file.buffer) }
        // Streaming and line extraction too.
        #expect(throws: SearchError.fileChanged) {
            try searcher.stream(request, in: file.buffer) { _ in true }
        }
        #expect(throws: SearchError.fileChanged) {
            try searcher.lineText(for: SearchMatch(offset: 3 << 20, length: 1, line: 1), in: file.buffer)
        }
        // The part still backed by the file stays searchable.
        var head = request
        head.window = 0..<4096
        _ = try searcher.search(head, in: file.buffer)
    }

    /// A hit before the truncated part is still found when the search never reads that far
    /// (limit reached) — and the count, which needs the rest, reports the change.
    @Test func faultDuringCountAfterMatches() throws {
        var contents = Self.contents()
        contents.replaceSubrange(100..<103, with: Array("zzz".utf8))
        let file = try MappedTempFile(contents: contents)
        file.truncate(to: 8192)
        let searcher = Searcher()
        #expect(throws: SearchError.fileChanged) {
            try searcher.search(SearchRequest(pattern: Array("zzz".utf8), limit: 1, window: 0..<file.size), in: file.buffer)
        }
    }
}

@Suite struct BudgetTests {
    /// `(a+)+$` against 100,000 `a` then `b`: exponential backtracking, stopped by the match limit.
    @Test(arguments: [false, true])
    func catastrophicPatternIsStopped(reverse: Bool) throws {
        let data = [UInt8](repeating: UInt8(ascii: "a"), count: 100_000) + [UInt8(ascii: "b")]
        let searcher = Searcher()
        #expect(throws: SearchError.budgetExceeded) {
            try searcher.search(
                SearchRequest(pattern: Array("(a+)+$".utf8), isRegex: true, reverse: reverse, window: 0..<data.count),
                in: data, budget: SearchBudget(timeout: .seconds(30)))
        }
    }

    @Test func expiredDeadlineBeforeAnyProgressThrows() throws {
        let data = [UInt8](repeating: UInt8(ascii: "a"), count: 10_000)
        let searcher = Searcher(configuration: SearchConfiguration(blockSize: 100))
        #expect(throws: SearchError.budgetExceeded) {
            try searcher.search(
                SearchRequest(pattern: Array("b".utf8), window: 0..<data.count), in: data,
                budget: SearchBudget(deadline: .now - .seconds(1)))
        }
    }

    /// A byte budget cuts the scan: a partial page with `count == nil`, and following `next` with
    /// fresh budgets gives back every match exactly once.
    @Test(arguments: [false, true], [false, true])
    func byteBudgetGivesPartialPagesThatChain(regex: Bool, reverse: Bool) throws {
        var random = SeededRandom(seed: 8)
        let data = random.bytes(20_000, from: Array("ab\n".utf8))
        // One thread: a deterministic cut. Chunks: reverse pattern searches keep the chunks after a cut.
        let searcher = Searcher(configuration: Configurations.tiny(chunk: 500, block: 64, threads: 1))
        let pattern = Array((regex ? "ab+" : "abb").utf8)
        let full = try searcher.all(SearchRequest(pattern: pattern, isRegex: regex, reverse: reverse, window: 0..<data.count), in: data)
        var collected: [SearchMatch] = []
        var window = 0..<data.count
        var partial = 0
        for _ in 0..<10_000 {
            let page = try searcher.search(
                SearchRequest(pattern: pattern, isRegex: regex, reverse: reverse, limit: 50, window: window),
                in: data, budget: SearchBudget(maxBytes: 1000))
            if page.count == nil {
                partial += 1
                #expect(page.truncated)
            }
            collected += page.matches
            guard page.truncated, let next = page.next else { break }
            window = reverse ? window.lowerBound..<next : next..<window.upperBound
        }
        #expect(partial > 0)
        // (Reverse pattern pages restart at a line start: `ab+` cannot cross one, so they chain exactly.)
        #expect(collected == full.matches)
    }

    /// Parallel chunks under a byte budget: the answer is a correct prefix.
    @Test func parallelByteBudgetKeepsAnExactPrefix() throws {
        var random = SeededRandom(seed: 9)
        let data = random.bytes(200_000, from: Array("ab\n".utf8))
        let searcher = Searcher(configuration: Configurations.tiny(chunk: 10_000, block: 1000, threads: 2))
        let request = SearchRequest(pattern: Array("ab".utf8), limit: 100_000, window: 0..<data.count)
        let full = try searcher.search(request, in: data)
        let page = try searcher.search(request, in: data, budget: SearchBudget(maxBytes: 50_000))
        #expect(page.count == nil && page.truncated)
        #expect(Array(full.matches.prefix(page.matches.count)) == page.matches)
        let next = try #require(page.next)
        #expect(next >= (page.matches.last.map { $0.offset + $0.length } ?? 0))
    }
}
