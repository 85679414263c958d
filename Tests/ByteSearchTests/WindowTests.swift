import ByteSearch
import Foundation
import Testing

@Suite struct WindowTests {
    @Test(
        arguments: [
            // (start, end, size, expected lower, expected upper)
            (nil, nil, 10, 0, 10),
            (3, nil, 10, 3, 10),
            (nil, 4, 10, 0, 4),
            (-3, nil, 10, 7, 10),
            (nil, -3, 10, 0, 7),
            (-30, 30, 10, 0, 10),
            (12, 20, 10, 10, 10),
            (6, 2, 10, 6, 6),
            (-1, -5, 10, 9, 9),
            (0, 0, 0, 0, 0),
            (-1, 1, 0, 0, 0)
        ] as [(Int64?, Int64?, Int, Int, Int)])
    func resolvesLikePython(start: Int64?, end: Int64?, size: Int, lower: Int, upper: Int) {
        #expect(SearchWindow.resolve(start: start, end: end, size: size) == lower..<upper)
    }

    @Test func extremeValuesDoNotOverflow() {
        #expect(SearchWindow.resolve(start: .min, end: .max, size: 5) == 0..<5)
        #expect(SearchWindow.resolve(start: .max, end: .min, size: 5) == 5..<5)
        #expect(SearchWindow.resolveOrNil(start: .max, end: .min, size: 5) == nil)
        #expect(SearchWindow.resolveOrNil(start: 2, end: 2, size: 5) == 2..<2)
    }

    /// Random bounds against CPython's own `mmap.find`: where it finds the needle (or -1) must be
    /// what a one-match search in the resolved window finds.
    @Test func agreesWithPythonMmapFind() throws {
        var random = SeededRandom(seed: 7)
        let data = random.bytes(40, from: Array("ab".utf8))
        var cases: [[Int64?]] = []
        for _ in 0..<300 { cases.append([random.bound(size: data.count), random.bound(size: data.count)]) }
        let script = """
            import sys, json, mmap
            data = bytes.fromhex(sys.argv[1])
            m = mmap.mmap(-1, len(data)); m.write(data)
            out = []
            for s, e in json.loads(sys.argv[2]):
                s = 0 if s is None else s
                e = len(data) if e is None else e
                out.append([m.find(b'ab', s, e), m.rfind(b'ab', s, e), m.find(b'', s, e)])
            print(json.dumps(out))
            """
        let encoded = String(decoding: try JSONEncoder().encode(cases), as: UTF8.self)
        let answers = try JSONDecoder().decode(
            [[Int]].self, from: try runPython(script, arguments: [PythonRegex.hex(data), encoded]))
        let searcher = Searcher()
        for (bounds, answer) in zip(cases, answers) {
            let window = SearchWindow.resolve(start: bounds[0], end: bounds[1], size: data.count)
            let forward = try searcher.search(SearchRequest(pattern: Array("ab".utf8), limit: 1, window: window), in: data)
            let reverse = try searcher.search(
                SearchRequest(pattern: Array("ab".utf8), reverse: true, limit: 1, window: window), in: data)
            #expect((forward.matches.first?.offset ?? -1) == answer[0], "find \(bounds)")
            #expect((reverse.matches.first?.offset ?? -1) == answer[1], "rfind \(bounds)")
            // Empty needle: Python finds it at `start` unless the window is inverted.
            let resolved = SearchWindow.resolveOrNil(start: bounds[0], end: bounds[1], size: data.count)
            #expect((resolved?.lowerBound ?? -1) == answer[2], "find empty \(bounds)")
        }
    }
}
