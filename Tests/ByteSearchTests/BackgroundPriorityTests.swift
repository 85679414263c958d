import Glibc
import Testing

@testable import ByteSearch

@Suite struct BackgroundPriorityTests {
    private static func niceness() -> Int32 {
        getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
    }

    /// Inside: nice 19. After: the previous value, where the process may restore it (root, or an
    /// RLIMIT_NICE that allows it); an unprivileged thread stays at 19.
    @Test func runsAtNice19AndRestores() {
        let before = Self.niceness()
        let inside = BackgroundPriority.run(true) { Self.niceness() }
        #expect(inside == 19)
        if getuid() == 0 { #expect(Self.niceness() == before) }
        #expect(BackgroundPriority.run(false) { Self.niceness() } == Self.niceness())
    }

    /// A nested call stays at 19 and leaves restoring to the outer one: after the inner call the
    /// thread is still at 19, after the outer one back where it was (as root).
    @Test func aNestedCallStaysInTheBackground() {
        let before = Self.niceness()
        let (inner, between) = BackgroundPriority.run(true) {
            (BackgroundPriority.run(true) { Self.niceness() }, Self.niceness())
        }
        #expect(inner == 19)
        #expect(between == 19)
        if getuid() == 0 { #expect(Self.niceness() == before) }
        // The mark is gone with the outer call: a later call lowers again.
        #expect(BackgroundPriority.run(true) { Self.niceness() } == 19)
    }

    /// The same answer in either class.
    @Test func aBackgroundSearchFindsTheSame() throws {
        let data = Array(String(repeating: "abc needle xyz\n", count: 20_000).utf8)
        let request = SearchRequest(pattern: Array("needle".utf8), isRegex: false, reverse: false, limit: 5, window: 0..<data.count)
        let tiny = Configurations.tiny(chunk: 4096, block: 1024, threads: 2)
        var background = tiny
        background.backgroundPriority = true
        let plain = try Searcher(configuration: tiny).search(request, in: data)
        let idle = try Searcher(configuration: background).search(request, in: data)
        #expect(idle == plain)
        #expect(idle.count == 20_000)
    }

    /// A literal scan is bound by memory bandwidth, so it takes the (smaller) memory-bound share of
    /// threads; a pattern scan, bound by the processor, takes the full one.
    @Test func literalScansTakeTheMemoryBoundConcurrency() throws {
        let configuration = SearchConfiguration(concurrency: 3, memoryBoundConcurrency: 1)
        let searcher = Searcher(configuration: configuration)
        let data = [UInt8](repeating: UInt8(ascii: "a"), count: 64)
        try data.withUnsafeBytes { buffer in
            for (isRegex, threads) in [(false, 1), (true, 3)] {
                let request = SearchRequest(pattern: Array("a".utf8), isRegex: isRegex, reverse: false, limit: 5, window: 0..<data.count)
                let (program, _) = try searcher.prepare(request, buffer)
                #expect(ScanEngine.threads(for: program, configuration) == threads, "regex: \(isRegex)")
            }
        }
    }
}
