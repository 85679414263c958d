import ByteSearch
import Dispatch
import Testing

/// The budget holds inside one regex call, and a cancelled search stops: the engine side of
/// issue 16 item 1 (the live tests measure the server's CPU).
@Suite struct CancellationTests {
    static let aaa = [UInt8](repeating: UInt8(ascii: "a"), count: 1 << 20)

    /// `(?=a*b)` does O(n) work at every start position within one pcre2_jit_match call; a
    /// 100 ms budget must still end the search within a second or so (minutes before).
    @Test(arguments: [false, true])
    func aDeadlineStopsOneLongRegexCall(parallel: Bool) throws {
        let configuration =
            parallel
            ? SearchConfiguration(concurrency: 2, parallelThreshold: 1 << 18, chunkSize: 1 << 18) : SearchConfiguration()
        let searcher = Searcher(configuration: configuration)
        let request = SearchRequest(pattern: Array("(?=a*b)".utf8), isRegex: true, limit: 0, window: 0..<Self.aaa.count)
        let started = ContinuousClock.now
        let outcome: SearchOutcome? = try? Self.aaa.withUnsafeBytes { bytes in
            try searcher.search(request, in: bytes, budget: SearchBudget(timeout: .milliseconds(100)))
        }
        #expect(ContinuousClock.now - started < .seconds(3))
        if let outcome { #expect(outcome.count == nil && outcome.truncated) }
    }

    /// Abandoning from another thread (the client left) stops a search with no deadline.
    @Test func abandoningStopsASearchWithoutADeadline() {
        let searcher = Searcher()
        let cancellation = SearchCancellation()
        let request = SearchRequest(pattern: Array("(.*)\\1b".utf8), isRegex: true, limit: 0, window: 0..<Self.aaa.count)
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(200)) { cancellation.abandon() }
        #expect(throws: SearchError.cancelled) {
            try Self.aaa.withUnsafeBytes { bytes in
                try searcher.search(request, in: bytes, budget: SearchBudget(cancellation: cancellation))
            }
        }
    }

    /// A search whose client left before it started does not start.
    @Test func anAbandonedSearchDoesNotRun() {
        let cancellation = SearchCancellation()
        cancellation.abandon()
        let request = SearchRequest(pattern: Array("a".utf8), limit: 0, window: 0..<Self.aaa.count)
        #expect(throws: SearchError.cancelled) {
            try Self.aaa.withUnsafeBytes { bytes in
                try Searcher().search(request, in: bytes, budget: SearchBudget(cancellation: cancellation))
            }
        }
    }

    /// `(*NO_JIT)` compiles but cannot run interruptibly: refused as an invalid pattern.
    @Test(arguments: ["(*NO_JIT)a", "(*NO_JIT)(?=a*b)"])
    func patternsThatAvoidTheJITAreRefused(pattern: String) {
        let request = SearchRequest(pattern: Array(pattern.utf8), isRegex: true, window: 0..<0)
        #expect {
            try Searcher().validate(request)
        } throws: { error in
            if case .invalidPattern = error as? SearchError { return true }
            return false
        }
    }
}
