import HTTPSemantics
import Testing

@Suite("Range resolution: satisfiability, clamping, merging, limits (RFC 9110 §14.1.2)")
struct RangeResolutionTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let header: String
        let size: UInt64
        let maxRanges: Int
        let expected: RangeResolution

        init(_ header: String, size: UInt64, maxRanges: Int = 10, _ expected: RangeResolution) {
            self.header = header
            self.size = size
            self.maxRanges = maxRanges
            self.expected = expected
        }

        var testDescription: String { "\(header) on \(size) bytes, max \(maxRanges)" }
    }

    /// Resolves a header value that is known to parse.
    private static func resolve(_ header: String, size: UInt64, maxRanges: Int) -> RangeResolution? {
        guard case .specs(let specs) = RangeHeader.parse(header) else { return nil }
        return RangeResolution.resolve(specs, size: size, maxRanges: maxRanges)
    }

    private static func range(_ start: UInt64, _ length: UInt64) -> ByteRange {
        ByteRange(start: start, length: length)
    }

    static let singleRanges: [Case] = [
        Case("bytes=0-9", size: 10, .single(range(0, 10))),
        Case("bytes=0-4", size: 11, .single(range(0, 5))),
        Case("bytes=3-7", size: 11, .single(range(3, 5))),
        Case("bytes=2-", size: 11, .single(range(2, 9))),
        Case("bytes=0-", size: 10, .single(range(0, 10))),
        Case("bytes=5-", size: 10, .single(range(5, 5))),
        Case("bytes=9-9", size: 10, .single(range(9, 1))),
        Case("bytes=9-", size: 10, .single(range(9, 1))),
        Case("bytes=0-0", size: 1, .single(range(0, 1))),
        Case("bytes=0-499", size: 10_000, .single(range(0, 500))),
        Case("bytes=500-999", size: 10_000, .single(range(500, 500))),
        Case("bytes=9500-", size: 10_000, .single(range(9500, 500))),
        Case("bytes=0-8", size: 1000, .single(range(0, 9))),
        // last-pos at or past the end is clamped to size - 1.
        Case("bytes=0-10", size: 11, .single(range(0, 11))),
        Case("bytes=0-11", size: 11, .single(range(0, 11))),
        Case("bytes=0-20", size: 10, .single(range(0, 10))),
        Case("bytes=10-11", size: 11, .single(range(10, 1))),
        Case("bytes=5-1000", size: 11, .single(range(5, 6))),
        Case("bytes=990-1990", size: 1000, .single(range(990, 10))),
        Case("bytes=0-10001", size: 1000, .single(range(0, 1000))),
        Case("bytes=1000-200000", size: 40_000, .single(range(1000, 39_000))),
        // Suffixes.
        Case("bytes=-5", size: 10, .single(range(5, 5))),
        Case("bytes=-5", size: 11, .single(range(6, 5))),
        Case("bytes=-500", size: 10_000, .single(range(9500, 500))),
        Case("bytes=-10", size: 1000, .single(range(990, 10))),
        Case("bytes=-1", size: 1, .single(range(0, 1))),
        Case("bytes=-10", size: 10, .single(range(0, 10))),
        // A suffix longer than the file is the whole file.
        Case("bytes=-15", size: 10, .single(range(0, 10))),
        Case("bytes=-100", size: 3, .single(range(0, 3))),
        Case("bytes=-2", size: 1, .single(range(0, 1)))
    ]

    @Test("one satisfiable range → 206 single", arguments: singleRanges)
    func single(_ testCase: Case) {
        #expect(Self.resolve(testCase.header, size: testCase.size, maxRanges: testCase.maxRanges) == testCase.expected)
    }

    static let unsatisfiableRanges: [Case] = [
        Case("bytes=10-", size: 10, .unsatisfiable),
        Case("bytes=11-", size: 11, .unsatisfiable),
        Case("bytes=11-12", size: 11, .unsatisfiable),
        Case("bytes=12-12", size: 11, .unsatisfiable),
        Case("bytes=11-100", size: 11, .unsatisfiable),
        Case("bytes=12-100", size: 11, .unsatisfiable),
        Case("bytes=100-", size: 11, .unsatisfiable),
        Case("bytes=100-1000", size: 11, .unsatisfiable),
        Case("bytes=100000-", size: 1000, .unsatisfiable),
        Case("bytes=100000-110000", size: 40_000, .unsatisfiable),
        Case("bytes=100000-110000,200000-", size: 40_000, .unsatisfiable),
        // A zero-length suffix selects nothing.
        Case("bytes=-0", size: 10, .unsatisfiable),
        Case("bytes=-0,-0", size: 10, .unsatisfiable),
        Case("bytes=-0,10-", size: 10, .unsatisfiable),
        // Huge first positions are beyond any file.
        Case("bytes=99999999999999999999-", size: 10, .unsatisfiable),
        Case("bytes=18446744073709551615-", size: 10, .unsatisfiable),
        Case("bytes=9223372036854775807-", size: 9_223_372_036_854_775_807, .unsatisfiable),
        // maxRanges does not turn a 416 into a 200.
        Case("bytes=20-", size: 10, maxRanges: 0, .unsatisfiable)
    ]

    @Test("no satisfiable range → 416", arguments: unsatisfiableRanges)
    func unsatisfiable(_ testCase: Case) {
        #expect(Self.resolve(testCase.header, size: testCase.size, maxRanges: testCase.maxRanges) == testCase.expected)
    }

    static let mixedAndMerged: [Case] = [
        // Unsatisfiable specs among satisfiable ones are dropped.
        Case("bytes=100000-110000,1000-2000", size: 40_000, .single(range(1000, 1001))),
        Case("bytes=0-9, -10, 100000-", size: 1000, .multiple([range(0, 10), range(990, 10)])),
        Case("bytes=-0,0-0", size: 10, .single(range(0, 1))),
        Case("bytes=50-,-0,3-4", size: 10, .single(range(3, 2))),
        // Disjoint ranges stay apart, sorted by start.
        Case("bytes=1-2,5-", size: 10, .multiple([range(1, 2), range(5, 5)])),
        Case("bytes=0-0,-1", size: 10_000, .multiple([range(0, 1), range(9999, 1)])),
        Case("bytes=0-0,2-2,7-", size: 11, .multiple([range(0, 1), range(2, 1), range(7, 4)])),
        Case("bytes=0-1,5-8", size: 11, .multiple([range(0, 2), range(5, 4)])),
        Case("bytes=0-1,5-", size: 11, .multiple([range(0, 2), range(5, 6)])),
        Case("bytes=7-8,0-1,4-5", size: 11, .multiple([range(0, 2), range(4, 2), range(7, 2)])),
        Case("bytes=-1,0-0", size: 10, .multiple([range(0, 1), range(9, 1)])),
        // Overlapping ranges merge.
        Case("bytes=15-,0-5", size: 10, .single(range(0, 6))),
        Case("bytes=500-700,601-999", size: 10_000, .single(range(500, 500))),
        Case("bytes=-2,7-", size: 11, .single(range(7, 4))),
        Case("bytes=0-5,2-3", size: 10, .single(range(0, 6))),
        Case("bytes=2-3,0-5", size: 10, .single(range(0, 6))),
        Case("bytes=0-1,0-1", size: 10, .single(range(0, 2))),
        Case("bytes=0-9,-10", size: 10, .single(range(0, 10))),
        Case("bytes=0-10001,0-0", size: 1000, .single(range(0, 1000))),
        // Adjacent ranges merge (b + 1 == next a).
        Case("bytes=500-600,601-999", size: 10_000, .single(range(500, 500))),
        Case("bytes=0-1,2-3", size: 10, .single(range(0, 4))),
        Case("bytes=2-3,0-1", size: 10, .single(range(0, 4))),
        Case("bytes=0-9,10-19,-10", size: 1000, .multiple([range(0, 20), range(990, 10)])),
        Case("bytes=0-4,5-", size: 10, .single(range(0, 10))),
        // Merging leaves a one-byte gap alone.
        Case("bytes=0-1,3-4", size: 10, .multiple([range(0, 2), range(3, 2)])),
        // A chain that only merges after sorting.
        Case("bytes=6-7,0-1,4-5,2-3", size: 10, .single(range(0, 8))),
        // A range contained in another disappears.
        Case("bytes=0-99,10-19,20-29", size: 100, .single(range(0, 100))),
        // Four overlapping views of one window (the shape of httpd's byterange3 download loop).
        Case("bytes=5-8192,0-8191,5-8182,0-8191", size: 8192, .single(range(0, 8192)))
    ]

    @Test("dropping, sorting and merging", arguments: mixedAndMerged)
    func merging(_ testCase: Case) {
        #expect(Self.resolve(testCase.header, size: testCase.size, maxRanges: testCase.maxRanges) == testCase.expected)
    }

    static let amplification: [Case] = [
        // Each spec asks for (nearly) the whole file; merged, the file is sent once.
        Case("bytes=0-,1-,2-,3-,4-", size: 11, .single(range(0, 11))),
        Case(
            "bytes=" + Array(repeating: "0-", count: 1000).joined(separator: ","), size: 1 << 30,
            .single(range(0, 1 << 30))),
        Case(
            "bytes=" + (0..<1000).map { "\($0)-" }.joined(separator: ","), size: 1 << 20,
            .single(range(0, 1 << 20))),
        Case(
            "bytes=" + Array(repeating: "-1048576", count: 500).joined(separator: ","), size: 1 << 20,
            .single(range(0, 1 << 20))),
        Case(
            "bytes=" + Array(repeating: "0-0", count: 1000).joined(separator: ","), size: 10,
            .single(range(0, 1))),
        // Apache's maxranges shape: many repeats of two small ranges collapse to two parts.
        Case(
            "bytes=" + Array(repeating: "0-1,3-4", count: 200).joined(separator: ","), size: 8000, maxRanges: 2,
            .multiple([range(0, 2), range(3, 2)])),
        // Many distinct small ranges: more than maxRanges remain → the header is ignored.
        Case(
            "bytes=" + (0..<200).map { "\($0 * 2)-\($0 * 2)" }.joined(separator: ","), size: 1000, maxRanges: 100,
            .whole),
        Case(
            "bytes=" + (0..<101).map { "\($0 * 2)-\($0 * 2)" }.joined(separator: ","), size: 1000, maxRanges: 100,
            .whole),
        // Exactly maxRanges after merging is still served.
        Case(
            "bytes=" + (0..<100).map { "\($0 * 2)-\($0 * 2)" }.joined(separator: ","), size: 1000, maxRanges: 100,
            .multiple((0..<100).map { range(UInt64($0 * 2), 1) })),
        // Many specs but adjacent: they merge to one, well under any limit.
        Case(
            "bytes=" + (0..<500).map { "\($0)-\($0)" }.joined(separator: ","), size: 1000, maxRanges: 2,
            .single(range(0, 500)))
    ]

    @Test("many-range amplification is bounded", arguments: amplification)
    func amplificationIsBounded(_ testCase: Case) {
        let resolution = Self.resolve(testCase.header, size: testCase.size, maxRanges: testCase.maxRanges)
        #expect(resolution == testCase.expected)
        if case .multiple(let ranges) = resolution {
            #expect(ranges.reduce(0) { $0 + $1.length } <= testCase.size)
        }
    }

    static let limits: [Case] = [
        // nginx max_ranges 2: two parts served, a third disjoint one makes it 200.
        Case("bytes=0-9,-10", size: 1000, maxRanges: 2, .multiple([range(0, 10), range(990, 10)])),
        Case("bytes=0-9,-10,10000-", size: 1000, maxRanges: 2, .multiple([range(0, 10), range(990, 10)])),
        Case("bytes=0-9,-10,20-29", size: 1000, maxRanges: 2, .whole),
        // Counting happens after merging: 0-9 and 10-19 are one part.
        Case("bytes=0-9,-10,10-19", size: 1000, maxRanges: 2, .multiple([range(0, 20), range(990, 10)])),
        // maxRanges 1: single ranges only.
        Case("bytes=0-100", size: 8000, maxRanges: 1, .single(range(0, 101))),
        Case("bytes=0-100,200-300", size: 8000, maxRanges: 1, .whole),
        Case("bytes=0-100,101-300", size: 8000, maxRanges: 1, .single(range(0, 301))),
        // maxRanges 2 (Apache's MaxRanges tests).
        Case("bytes=0-100,200-300", size: 8000, maxRanges: 2, .multiple([range(0, 101), range(200, 101)])),
        Case("bytes=0-100,200-300,400-500", size: 8000, maxRanges: 2, .whole),
        // maxRanges 0 (or negative): range serving is off.
        Case("bytes=0-9", size: 1000, maxRanges: 0, .whole),
        Case("bytes=0-9", size: 1000, maxRanges: -1, .whole),
        Case("bytes=0-9,20-29", size: 1000, maxRanges: 0, .whole)
    ]

    @Test("maxRanges counts parts after merging", arguments: limits)
    func maxRanges(_ testCase: Case) {
        #expect(Self.resolve(testCase.header, size: testCase.size, maxRanges: testCase.maxRanges) == testCase.expected)
    }

    static let emptyFile: [Case] = [
        Case("bytes=0-", size: 0, .whole),
        Case("bytes=0-0", size: 0, .whole),
        Case("bytes=0-128", size: 0, .whole),
        Case("bytes=1-", size: 0, .whole),
        Case("bytes=5-10", size: 0, .whole),
        Case("bytes=-1", size: 0, .whole),
        Case("bytes=-0", size: 0, .whole),
        Case("bytes=-99999999999999999999", size: 0, .whole),
        Case("bytes=0-1,5-6", size: 0, .whole),
        Case("bytes=0-", size: 0, maxRanges: 0, .whole)
    ]

    @Test("an empty file is always served whole (200, length 0)", arguments: emptyFile)
    func emptyFileIsWhole(_ testCase: Case) {
        #expect(Self.resolve(testCase.header, size: testCase.size, maxRanges: testCase.maxRanges) == testCase.expected)
    }

    static let hugeNumbers: [Case] = [
        Case("bytes=0-99999999999999999999", size: 10, .single(range(0, 10))),
        Case("bytes=-99999999999999999999", size: 10, .single(range(0, 10))),
        Case("bytes=5-18446744073709551615", size: 10, .single(range(5, 5))),
        Case("bytes=99999999999999999999-,2-3", size: 10, .single(range(2, 2))),
        // Files near the largest size a POSIX file can have.
        Case("bytes=9223372036854775806-", size: 9_223_372_036_854_775_807, .single(range(9_223_372_036_854_775_806, 1))),
        Case("bytes=-1", size: 9_223_372_036_854_775_807, .single(range(9_223_372_036_854_775_806, 1))),
        Case("bytes=0-", size: 9_223_372_036_854_775_807, .single(range(0, 9_223_372_036_854_775_807))),
        Case(
            "bytes=0-0,-1", size: 9_223_372_036_854_775_807,
            .multiple([range(0, 1), range(9_223_372_036_854_775_806, 1)]))
    ]

    @Test("numbers beyond the file and beyond UInt64", arguments: hugeNumbers)
    func hugeValues(_ testCase: Case) {
        #expect(Self.resolve(testCase.header, size: testCase.size, maxRanges: testCase.maxRanges) == testCase.expected)
    }

    @Test("specs built by hand: an empty list and an inverted range are not satisfiable")
    func handBuiltSpecs() {
        #expect(RangeResolution.resolve([], size: 10, maxRanges: 10) == .unsatisfiable)
        #expect(RangeResolution.resolve([.fromTo(5, 4)], size: 10, maxRanges: 10) == .unsatisfiable)
        #expect(
            RangeResolution.resolve([.fromTo(5, 4), .fromTo(1, 1)], size: 10, maxRanges: 10)
                == .single(ByteRange(start: 1, length: 1)))
        #expect(
            RangeResolution.resolve([.fromTo(0, UInt64.max), .suffix(UInt64.max)], size: UInt64.max, maxRanges: 1)
                == .single(ByteRange(start: 0, length: UInt64.max)))
    }

    @Test("results are sorted, disjoint, non-adjacent and within the file")
    func multipleInvariants() {
        let specs: [RangeSpec] = [
            .fromTo(90, 95), .suffix(3), .fromTo(10, 20), .fromTo(15, 30), .fromTo(31, 31),
            .fromTo(50, nil), .fromTo(40, 45), .suffix(0), .fromTo(200, nil)
        ]
        guard case .multiple(let ranges) = RangeResolution.resolve(specs, size: 100, maxRanges: 10) else {
            Issue.record("expected a multipart resolution")
            return
        }
        #expect(ranges == [ByteRange(start: 10, length: 22), ByteRange(start: 40, length: 6), ByteRange(start: 50, length: 50)])
        for (previous, next) in zip(ranges, ranges.dropFirst()) {
            #expect(previous.end < next.start)
        }
        #expect(ranges.allSatisfy { $0.end <= 100 })
    }

    /// A spec given twice merges into one range, so the general path (sort, merge, limit) must
    /// answer exactly what the one-spec shortcut answers for the spec alone.
    @Test("one spec: the shortcut agrees with the general path", arguments: [0, 1, 2])
    func oneSpecShortcut(maxRanges: Int) {
        let sizes: [UInt64] = [0, 1, 2, 9, 10, 11, 4096, UInt64.max]
        let numbers: [UInt64] = [0, 1, 5, 9, 10, 11, 4095, 4096, UInt64.max - 1, UInt64.max]
        var specs: [RangeSpec] = numbers.map { .suffix($0) } + numbers.map { .fromTo($0, nil) }
        for first in numbers { for last in numbers { specs.append(.fromTo(first, last)) } }
        for size in sizes {
            for spec in specs {
                let alone = RangeResolution.resolve([spec], size: size, maxRanges: maxRanges)
                let twice = RangeResolution.resolve([spec, spec], size: size, maxRanges: maxRanges)
                #expect(alone == twice, "\(spec) on \(size) bytes, max \(maxRanges)")
            }
        }
    }
}
