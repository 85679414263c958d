import Testing

@testable import ByteSearch

/// Python's `mmap.find(sub, start, end)` slice rules, case by case (moved here from the HTTP
/// parameter tests: the window is the search kernel's rule, the HTTP layer only forwards numbers).
@Suite struct PythonSliceWindowTests {
    static let windows: [(Int, Int64?, Int64?, Range<Int>)] = [
        (100, nil, nil, 0..<100),
        (100, 10, nil, 10..<100),
        (100, nil, 10, 0..<10),
        (100, 10, 20, 10..<20),
        (100, -10, nil, 90..<100),
        (100, nil, -10, 0..<90),
        (100, -20, -10, 80..<90),
        (100, -100, nil, 0..<100),
        (100, -101, nil, 0..<100),
        (100, -1000, nil, 0..<100),
        (100, 100, nil, 100..<100),
        (100, 1000, nil, 100..<100),
        (100, nil, 1000, 0..<100),
        (100, nil, -1000, 0..<0),
        (100, 50, 10, 50..<50),
        (100, -5, -10, 95..<95),
        (100, 0, 0, 0..<0),
        (100, 100, 100, 100..<100),
        (100, Int64.min, Int64.max, 0..<100),
        (100, Int64.max, Int64.min, 100..<100),
        (0, nil, nil, 0..<0),
        (0, -1, 5, 0..<0),
        (0, 3, -3, 0..<0),
        (1, -1, nil, 0..<1)
    ]

    @Test(arguments: windows)
    func resolves(size: Int, start: Int64?, end: Int64?, expected: Range<Int>) {
        #expect(SearchWindow.resolve(start: start, end: end, size: size) == expected)
    }
}
