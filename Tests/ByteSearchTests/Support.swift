import ByteSearch
import Foundation
import Glibc
// The seeded generator every test target shares (Tests/TestSupport), visible in every file here.
@_exported import TestSupport

extension SeededRandom {
    mutating func bytes(_ count: Int, from alphabet: [UInt8]) -> [UInt8] {
        (0..<count).map { _ in alphabet.randomElement(using: &self)! }
    }

    /// A start or end argument as a client would send it: often nil, sometimes negative or past
    /// either end.
    mutating func bound(size: Int) -> Int64? {
        switch Int.random(in: 0..<6, using: &self) {
        case 0: return nil
        case 1: return Int64(Int.random(in: -(size + 3)...(-1), using: &self))
        case 2: return Int64(size + Int.random(in: 0...3, using: &self))
        default: return Int64(Int.random(in: 0...max(0, size), using: &self))
        }
    }
}

/// Python-bytes reference semantics, written naively.
enum Reference {
    static func lowered(_ bytes: [UInt8]) -> [UInt8] {
        bytes.map { (0x41...0x5A).contains($0) ? $0 | 0x20 : $0 }
    }

    /// `data.find(needle, start, end)` for already resolved bounds (`end` may be < `start`).
    static func find(_ data: [UInt8], _ needle: [UInt8], _ start: Int, _ end: Int, icase: Bool = false) -> Int? {
        let (data, needle) = icase ? (lowered(data), lowered(needle)) : (data, needle)
        guard end - start >= needle.count else { return nil }
        var s = start
        while s + needle.count <= end {
            if Array(data[s..<(s + needle.count)]) == needle { return s }
            s += 1
        }
        return nil
    }

    /// `data.rfind(needle, start, end)`.
    static func rfind(_ data: [UInt8], _ needle: [UInt8], _ start: Int, _ end: Int, icase: Bool = false) -> Int? {
        let (data, needle) = icase ? (lowered(data), lowered(needle)) : (data, needle)
        guard end - start >= needle.count else { return nil }
        var s = end - needle.count
        while s >= start {
            if Array(data[s..<(s + needle.count)]) == needle { return s }
            s -= 1
        }
        return nil
    }

    /// Non-overlapping leftmost-first offsets (`re.finditer(re.escape(needle))`, `bytes.count`).
    static func findAll(_ data: [UInt8], _ needle: [UInt8], _ window: Range<Int>, icase: Bool = false) -> [Int] {
        let (data, needle) = icase ? (lowered(data), lowered(needle)) : (data, needle)
        var result: [Int] = []
        var s = window.lowerBound
        while s + needle.count <= window.upperBound {
            if data[s..<(s + needle.count)].elementsEqual(needle) {
                result.append(s)
                s += needle.count
            } else {
                s += 1
            }
        }
        return result
    }

    /// Repeated `rfind` with `end` = the previous match's start.
    static func rfindAll(_ data: [UInt8], _ needle: [UInt8], _ window: Range<Int>, icase: Bool = false) -> [Int] {
        let (data, needle) = icase ? (lowered(data), lowered(needle)) : (data, needle)
        var result: [Int] = []
        var s = window.upperBound - needle.count
        while s >= window.lowerBound {
            if data[s..<(s + needle.count)].elementsEqual(needle) {
                result.append(s)
                s -= needle.count
            } else {
                s -= 1
            }
        }
        return result
    }

    /// 1 + the number of newlines before `offset`.
    static func line(_ data: [UInt8], _ offset: Int) -> Int {
        1 + data[..<offset].reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
    }

    /// `line` for many offsets at once.
    static func lines(_ data: [UInt8], _ offsets: [Int]) -> [Int] {
        var before = [Int](repeating: 0, count: data.count + 1)
        for (i, byte) in data.enumerated() { before[i + 1] = before[i] + (byte == 0x0A ? 1 : 0) }
        return offsets.map { 1 + before[$0] }
    }
}

/// Runs Python's `re.finditer(pattern, data, pos, endpos)` for many cases in one `python3` call.
enum PythonRegex {
    struct Case: Encodable {
        var p: String  // pattern, hex
        var i: Bool  // IGNORECASE
        var s: Int
        var e: Int
    }

    static let script = """
        import sys, json, re
        data = open(sys.argv[1], 'rb').read()
        cases = json.load(open(sys.argv[2]))
        out = []
        for c in cases:
            rx = re.compile(bytes.fromhex(c['p']), re.I if c['i'] else 0)
            out.append([[m.start(), m.end()] for m in rx.finditer(data, c['s'], c['e'])])
        json.dump(out, sys.stdout)
        """

    static func spans(data: [UInt8], cases: [Case]) throws -> [[[Int]]] {
        let directory = FileManager.default.temporaryDirectory
        let id = UUID().uuidString
        let dataURL = directory.appendingPathComponent("bytesearch-data-\(id)")
        let casesURL = directory.appendingPathComponent("bytesearch-cases-\(id).json")
        defer {
            try? FileManager.default.removeItem(at: dataURL)
            try? FileManager.default.removeItem(at: casesURL)
        }
        try Data(data).write(to: dataURL)
        try JSONEncoder().encode(cases).write(to: casesURL)
        let output = try runPython(script, arguments: [dataURL.path, casesURL.path])
        return try JSONDecoder().decode([[[Int]]].self, from: output)
    }

    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
}

/// Runs `python3 -c script args...` and returns its standard output.
func runPython(_ script: String, arguments: [String]) throws -> Data {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", script] + arguments
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw NSError(domain: "python3", code: Int(process.terminationStatus))
    }
    return data
}

/// Configurations the differential tests run under: the default (sequential for small data) and
/// tiny chunks/blocks on one and two threads, so that chunk merges and block resumption are hit.
enum Configurations {
    static let sequential = SearchConfiguration()
    static func tiny(chunk: Int, block: Int, threads: Int) -> SearchConfiguration {
        SearchConfiguration(concurrency: threads, memoryBoundConcurrency: threads, parallelThreshold: 0, chunkSize: chunk, blockSize: block)
    }
    static let all: [SearchConfiguration] = [
        sequential,
        tiny(chunk: 1, block: 1, threads: 1),
        tiny(chunk: 3, block: 2, threads: 2),
        tiny(chunk: 7, block: 5, threads: 2),
        tiny(chunk: 16, block: 64, threads: 1)
    ]
}

extension Searcher {
    /// Every match (no limit) of a request on `data`.
    func all(_ request: SearchRequest, in data: [UInt8]) throws(SearchError) -> SearchOutcome {
        var request = request
        request.limit = Int.max
        return try search(request, in: data)
    }

    func search(_ request: SearchRequest, in data: [UInt8], budget: SearchBudget = .unlimited) throws(SearchError) -> SearchOutcome {
        do {
            return try data.withUnsafeBytes { try search(request, in: $0, budget: budget) }
        } catch {
            throw error as! SearchError
        }
    }
}

/// A temporary file mapped shared with `mmap`, for fault tests.
final class MappedTempFile {
    let path: String
    let descriptor: Int32
    let size: Int
    let base: UnsafeMutableRawPointer

    init(contents: [UInt8]) throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("bytesearch-map-\(UUID().uuidString)").path
        let descriptor = open(path, O_RDWR | O_CREAT | O_TRUNC, 0o600)
        guard descriptor >= 0 else { throw NSError(domain: "open", code: Int(errno)) }
        self.descriptor = descriptor
        let written = contents.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        guard written == contents.count else { throw NSError(domain: "write", code: Int(errno)) }
        size = contents.count
        guard let mapped = mmap(nil, size, PROT_READ, MAP_SHARED, descriptor, 0), mapped != MAP_FAILED else {
            throw NSError(domain: "mmap", code: Int(errno))
        }
        base = mapped
    }

    var buffer: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: size) }

    func truncate(to length: Int) { _ = ftruncate(descriptor, off_t(length)) }

    deinit {
        munmap(base, size)
        close(descriptor)
        unlink(path)
    }
}

extension SearchOutcome {
    /// What a client sees (bytesScanned depends on how the work was split).
    struct Answer: Equatable, CustomStringConvertible {
        var matches: [SearchMatch]
        var count: Int?
        var truncated: Bool
        var next: Int?
        var description: String { "\(matches) count \(String(describing: count)) truncated \(truncated) next \(String(describing: next))" }
    }
    var answer: Answer { Answer(matches: matches, count: count, truncated: truncated, next: next) }
}
