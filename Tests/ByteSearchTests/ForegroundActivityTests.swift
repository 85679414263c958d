import Synchronization
import Testing

@testable import ByteSearch

/// The helpers of a memory-bound scan retire once other work shows up; the first worker must then
/// finish every chunk, so the answer is the same as without yielding.
@Suite struct ForegroundActivityTests {
    /// Counts its reads and reports a new value each time: activity on every chunk boundary.
    private final class BusyNeighbour: Sendable {
        let reads = Atomic<Int>(0)
        var activity: ForegroundActivity { ForegroundActivity { self.reads.add(1, ordering: .relaxed).newValue } }
    }

    private static let text: [UInt8] = Array(String(repeating: "abc needle xyz\n", count: 40_000).utf8)

    @Test(arguments: [false, true])
    func aYieldingLiteralScanFindsTheSame(reverse: Bool) throws {
        let neighbour = BusyNeighbour()
        var quiet = Configurations.tiny(chunk: 4096, block: 1024, threads: 4)
        quiet.foregroundActivity = nil
        var yielding = quiet
        yielding.foregroundActivity = neighbour.activity
        let request = SearchRequest(pattern: Array("needle".utf8), reverse: reverse, limit: 50, window: 0..<Self.text.count)
        let expected = try Searcher(configuration: quiet).search(request, in: Self.text)
        let answer = try Searcher(configuration: yielding).search(request, in: Self.text)
        #expect(answer == expected)
        #expect(answer.count == 40_000)
        #expect(neighbour.reads.load(ordering: .relaxed) > 1, "the helpers must look at the activity")
    }

    /// Newline counting over a span long enough to be split (8 MiB and more) yields the same way.
    @Test func yieldingNewlineCountsAreExact() throws {
        let lines = 700_000
        let bytes = Array(String(repeating: "0123456789abc\n", count: lines).utf8)  // 9.8 MB
        let neighbour = BusyNeighbour()
        var configuration = SearchConfiguration(memoryBoundConcurrency: 4, parallelThreshold: 0)
        configuration.foregroundActivity = neighbour.activity
        let counted = try bytes.withUnsafeBytes { buffer in
            try Lines.countNewlines(in: 0..<buffer.count, of: buffer.baseAddress!, configuration: configuration)
        }
        #expect(counted == lines)
        #expect(neighbour.reads.load(ordering: .relaxed) > 1)
    }
}
