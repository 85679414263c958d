import Foundation
import Glibc
import Mmapd
import Testing

/// Byte ranges (RFC 9110 §14) against a live server: single and multipart 206 answers, merging,
/// the range-count limit, 416, ignored units, empty files, HEAD, page boundaries, an 8 GiB sparse
/// file, and the real curl.
@Suite struct RangeRequestTests {
    static let size = 10_000
    static let file = pseudoRandomBytes(count: size, seed: 0x5EED_0001)
    static let octetStream = "application/octet-stream"
    static let target = "/files/data.bin"

    static func server(configure: (inout Settings) -> Void = { _ in }) throws -> TestServer {
        try TestServer(configure: configure, files: ["data.bin": file])
    }

    // MARK: Single ranges

    struct SingleCase: Sendable, CustomTestStringConvertible {
        let header: String
        let first: UInt64
        let last: UInt64
        init(_ header: String, _ first: UInt64, _ last: UInt64) {
            self.header = header
            self.first = first
            self.last = last
        }
        var testDescription: String { "\(header) → \(first)-\(last)" }
    }

    static let singleRanges: [SingleCase] = [
        // a-b
        SingleCase("bytes=0-0", 0, 0),
        SingleCase("bytes=0-99", 0, 99),
        SingleCase("bytes=100-199", 100, 199),
        SingleCase("bytes=9999-9999", 9999, 9999),
        SingleCase("bytes=0-9999", 0, 9999),
        // a-
        SingleCase("bytes=5000-", 5000, 9999),
        SingleCase("bytes=0-", 0, 9999),
        SingleCase("bytes=9999-", 9999, 9999),
        // -n
        SingleCase("bytes=-1", 9999, 9999),
        SingleCase("bytes=-500", 9500, 9999),
        SingleCase("bytes=-10000", 0, 9999),
        // b past the end is clamped; a suffix longer than the file is the whole file
        SingleCase("bytes=9000-10000", 9000, 9999),
        SingleCase("bytes=9000-20000", 9000, 9999),
        SingleCase("bytes=0-18446744073709551615", 0, 9999),
        SingleCase("bytes=1-99999999999999999999999999", 1, 9999),
        SingleCase("bytes=-10001", 0, 9999),
        SingleCase("bytes=-99999999999999999999999999", 0, 9999),
        // spelling the grammar allows (or that every server accepts)
        SingleCase("Bytes=1-2", 1, 2),
        SingleCase("BYTES=1-2", 1, 2),
        SingleCase("bytes=0010-0020", 10, 20),
        SingleCase("bytes= 10 - 20 ", 10, 20),
        SingleCase("bytes=,,10-20,", 10, 20),
        // a list that resolves to one range: unsatisfiable members dropped, overlaps/adjacency merged
        SingleCase("bytes=100-199,20000-30000", 100, 199),
        SingleCase("bytes=0-9,5-14", 0, 14),
        SingleCase("bytes=0-9,10-19", 0, 19),
        SingleCase("bytes=10-19,0-9", 0, 19),
        SingleCase("bytes=0-0,0-0,0-0", 0, 0),
        SingleCase("bytes=0-,5-10", 0, 9999),
        SingleCase("bytes=-100,9000-", 9000, 9999),
        SingleCase("bytes=9990-,-5", 9990, 9999),
        SingleCase("bytes=0-4,5-9,10-14,15-19,20-24", 0, 24)
    ]

    @Test("one satisfiable range answers 206 with exactly its bytes", arguments: singleRanges)
    func singleRange(_ row: SingleCase) throws {
        let server = try Self.server()
        let whole = try server.request("GET", Self.target)
        let response = try server.request("GET", Self.target, headers: [("Range", row.header)])
        #expect(response.status == 206)
        #expect(response.header("Content-Range") == "bytes \(row.first)-\(row.last)/\(Self.size)")
        #expect(response.header("Content-Length") == "\(row.last - row.first + 1)")
        #expect(response.body == Array(Self.file[Int(row.first)...Int(row.last)]))
        #expect(response.header("Content-Type") == Self.octetStream)
        #expect(response.header("Accept-Ranges") == "bytes")
        #expect(response.header("ETag") != nil)
        #expect(response.header("ETag") == whole.header("ETag"))
        #expect(response.header("Last-Modified") == whole.header("Last-Modified"))
    }

    // MARK: Multipart

    struct MultiCase: Sendable, CustomTestStringConvertible {
        let header: String
        let ranges: [ClosedRange<UInt64>]
        init(_ header: String, _ ranges: [ClosedRange<UInt64>]) {
            self.header = header
            self.ranges = ranges
        }
        var testDescription: String { "\(header) → \(ranges.map { "\($0.lowerBound)-\($0.upperBound)" })" }
    }

    static let multipleRangeCases: [MultiCase] = [
        MultiCase("bytes=0-9,20-29", [0...9, 20...29]),
        MultiCase("bytes=0-9,11-19", [0...9, 11...19]),  // a gap of one byte is not merged
        MultiCase("bytes=20-29,0-9", [0...9, 20...29]),  // sent in ascending order
        MultiCase("bytes=-10,0-9", [0...9, 9990...9999]),
        MultiCase("bytes=0-0,2-2,4-4", [0...0, 2...2, 4...4]),
        MultiCase("bytes=0-9,20-29,25-40,9990-", [0...9, 20...40, 9990...9999]),
        MultiCase("bytes=0-9,20000-30000,50-59", [0...9, 50...59]),
        MultiCase("bytes=9999-,0-0", [0...0, 9999...9999]),
        MultiCase("bytes=100-199,150-249,300-399,399-500,-1", [100...249, 300...500, 9999...9999]),
        MultiCase("bytes=0-9, 20-29 ,\t40-49", [0...9, 20...29, 40...49])
    ]

    @Test("several ranges answer 206 multipart/byteranges, merged and in order", arguments: multipleRangeCases)
    func multipleRanges(_ row: MultiCase) throws {
        let server = try Self.server()
        let whole = try server.request("GET", Self.target)
        let response = try server.request("GET", Self.target, headers: [("Range", row.header)])
        try expectByteranges(response, row.ranges, of: Self.file, contentType: Self.octetStream)
        #expect(response.header("ETag") == whole.header("ETag"))
        #expect(response.header("Accept-Ranges") == "bytes")
    }

    @Test func everyPartCarriesTheFilesMediaType() throws {
        let text = Array(String(repeating: "0123456789abcdef\n", count: 100).utf8)
        let server = try TestServer(files: ["notes.txt": text])
        let response = try server.request("GET", "/files/notes.txt", headers: [("Range", "bytes=0-3,100-103,-4")])
        try expectByteranges(response, [0...3, 100...103, 1696...1699], of: text, contentType: "text/plain; charset=utf-8")
    }

    @Test func eachMultipartAnswerHasItsOwnBoundary() throws {
        let server = try Self.server()
        let first = try byteranges(of: try server.request("GET", Self.target, headers: [("Range", "bytes=0-0,2-2")]))
        let second = try byteranges(of: try server.request("GET", Self.target, headers: [("Range", "bytes=0-0,2-2")]))
        #expect(first.boundary != second.boundary)
        #expect(!first.boundary.isEmpty && first.boundary.utf8.count <= 70)
    }

    // MARK: Amplification and the range limit

    @Test("hundreds of overlapping open ranges (0-,1-,2-,…) are one range, never more bytes than the file")
    func overlappingOpenRangesDoNotAmplify() throws {
        let server = try Self.server()
        let header = "bytes=" + (0..<500).map { "\($0)-" }.joined(separator: ",")
        let response = try server.request("GET", Self.target, headers: [("Range", header)])
        #expect(response.status == 206)
        #expect(response.header("Content-Range") == "bytes 0-9999/10000")
        #expect(response.header("Content-Length") == "\(Self.size)")
        #expect(response.body == Self.file)
    }

    @Test("hundreds of suffix ranges (-25,-50,…) are one range")
    func overlappingSuffixRangesDoNotAmplify() throws {
        let server = try Self.server()
        let header = "bytes=" + (1...800).map { "-\($0 * 25)" }.joined(separator: ",")
        let response = try server.request("GET", Self.target, headers: [("Range", header)])
        #expect(response.status == 206)
        #expect(response.header("Content-Range") == "bytes 0-9999/10000")
        #expect(response.body.count == Self.size)
        #expect(response.body == Self.file)
    }

    @Test("hundreds of repetitions of the whole file are sent once")
    func repeatedWholeRangesDoNotAmplify() throws {
        let server = try Self.server()
        let header = "bytes=" + Array(repeating: "0-9999", count: 600).joined(separator: ",")
        let response = try server.request("GET", Self.target, headers: [("Range", header)])
        #expect(response.status == 206)
        #expect(response.body.count == Self.size)
        #expect(response.body == Self.file)
    }

    @Test("more disjoint ranges than maxRanges (default 256) serve the whole file with 200")
    func manyDisjointRangesServeTheWholeFile() throws {
        let server = try Self.server()
        let header = "bytes=" + (0..<300).map { "\($0 * 2)-\($0 * 2)" }.joined(separator: ",")
        let response = try server.request("GET", Self.target, headers: [("Range", header)])
        #expect(response.status == 200)
        #expect(response.header("Content-Range") == nil)
        #expect(response.header("Content-Length") == "\(Self.size)")
        #expect(response.body == Self.file)
    }

    @Test("exactly maxRanges disjoint ranges are served, with framing bounded per part")
    func maxRangesDisjointRangesAreServed() throws {
        let server = try Self.server(configure: { $0.maxRanges = 50 })
        let ranges = (0..<50).map { UInt64($0 * 200)...UInt64($0 * 200) }
        let header = "bytes=" + ranges.map { "\($0.lowerBound)-\($0.upperBound)" }.joined(separator: ",")
        let response = try server.request("GET", Self.target, headers: [("Range", header)])
        try expectByteranges(response, ranges, of: Self.file, contentType: Self.octetStream)
        // 50 one-byte parts: the answer is the bytes plus a bounded header block per part.
        #expect(response.body.count <= ranges.count * (1 + 200) + 200)
    }

    struct LimitCase: Sendable, CustomTestStringConvertible {
        let header: String
        /// nil: the Range header is ignored (200 whole).
        let ranges: [ClosedRange<UInt64>]?
        init(_ header: String, _ ranges: [ClosedRange<UInt64>]?) {
            self.header = header
            self.ranges = ranges
        }
        var testDescription: String { "\(header) → \(ranges.map { "\($0.map { "\($0.lowerBound)-\($0.upperBound)" })" } ?? "200 whole")" }
    }

    static let limitedRanges: [LimitCase] = [
        LimitCase("bytes=0-0,2-2,4-4", [0...0, 2...2, 4...4]),
        LimitCase("bytes=0-0,2-2,4-4,6-6", nil),
        LimitCase("bytes=0-0,2-2,4-4,6-6,8-8,10-10,12-12", nil),
        // the limit counts ranges after merging and after dropping unsatisfiable ones
        LimitCase("bytes=0-1,1-2,2-3,3-4,6-6,8-8", [0...4, 6...6, 8...8]),
        LimitCase("bytes=0-0,2-2,4-4,20000-,30000-", [0...0, 2...2, 4...4]),
        LimitCase("bytes=0-0,2-2,4-4,6-6,20000-", nil),
        LimitCase("bytes=0-0,0-0,0-0,0-0,0-0", [0...0])
    ]

    @Test("maxRanges = 3: more ranges after merging serve 200 whole", arguments: limitedRanges)
    func rangeLimit(_ row: LimitCase) throws {
        let server = try Self.server(configure: { $0.maxRanges = 3 })
        let response = try server.request("GET", Self.target, headers: [("Range", row.header)])
        switch row.ranges {
        case nil:
            #expect(response.status == 200)
            #expect(response.header("Content-Range") == nil)
            #expect(response.header("Content-Type") == Self.octetStream)
            #expect(response.body == Self.file)
        case let ranges? where ranges.count == 1:
            #expect(response.status == 206)
            #expect(response.header("Content-Range") == "bytes \(ranges[0].lowerBound)-\(ranges[0].upperBound)/\(Self.size)")
            #expect(response.body == Array(Self.file[Int(ranges[0].lowerBound)...Int(ranges[0].upperBound)]))
        case let ranges?:
            try expectByteranges(response, ranges, of: Self.file, contentType: Self.octetStream)
        }
    }

    @Test func maxRangesOfOneAllowsOnlySinglePartAnswers() throws {
        let server = try Self.server(configure: { $0.maxRanges = 1 })
        let single = try server.request("GET", Self.target, headers: [("Range", "bytes=10-19,15-29")])
        #expect(single.status == 206)
        #expect(single.header("Content-Range") == "bytes 10-29/10000")
        let two = try server.request("GET", Self.target, headers: [("Range", "bytes=0-0,2-2")])
        #expect(two.status == 200)
        #expect(two.body == Self.file)
    }

    // MARK: 416 and ignored headers

    static func expectRangeNotSatisfiable(
        _ response: HTTPResponse, size: Int,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(response.status == 416, sourceLocation: sourceLocation)
        #expect(response.header("Content-Range") == "bytes */\(size)", sourceLocation: sourceLocation)
        #expect(response.header("Content-Type") == "application/problem+json", sourceLocation: sourceLocation)
        #expect(response.header("Content-Length") == "\(response.body.count)", sourceLocation: sourceLocation)
        #expect(response.json["status"] as? Int == 416, sourceLocation: sourceLocation)
        #expect(response.json["title"] is String, sourceLocation: sourceLocation)
        #expect(response.json["detail"] is String, sourceLocation: sourceLocation)
    }

    static let unsatisfiableRanges = [
        "bytes=10000-",
        "bytes=10000-10000",
        "bytes=10000-20000",
        "bytes=99999999999999999999999-",
        "bytes=-0",
        "bytes=20000-,30000-40000",
        "bytes=10000-,-0"
    ]

    @Test("no satisfiable range: 416 with Content-Range bytes */len", arguments: unsatisfiableRanges)
    func unsatisfiable(_ header: String) throws {
        let server = try Self.server()
        let response = try server.request("GET", Self.target, headers: [("Range", header)])
        Self.expectRangeNotSatisfiable(response, size: Self.size)
    }

    static let malformedRanges = [
        "bytes=",
        "bytes=,",
        "bytes=-",
        "bytes=abc",
        "bytes=5",
        "bytes=5-1",
        "bytes=0-1,5-3",
        "bytes=1-2-3",
        "bytes=+1-2",
        "bytes=--5",
        "bytes=0x10-0x20",
        "bytes=0-1;2-3",
        "bytes=1.5-2",
        "bytes=0-1 2-3",
        "bytes=１-２"  // full-width digits are not DIGIT
    ]

    @Test("a bytes range set that breaks the grammar: 416, as nginx and Go answer", arguments: malformedRanges)
    func malformed(_ header: String) throws {
        let server = try Self.server()
        let response = try server.request("GET", Self.target, headers: [("Range", header)])
        Self.expectRangeNotSatisfiable(response, size: Self.size)
    }

    static let ignoredRanges = [
        "items=0-1",
        "lines=0-9",
        "bytes 0-1",
        "bytes0-1",
        "byte=0-1",
        "bytes:0-1",
        "none",
        ""
    ]

    @Test("a unit other than bytes is ignored: 200 with the whole file", arguments: ignoredRanges)
    func otherUnitsAreIgnored(_ header: String) throws {
        let server = try Self.server()
        let response = try server.request("GET", Self.target, headers: [("Range", header)])
        #expect(response.status == 200)
        #expect(response.header("Content-Range") == nil)
        #expect(response.header("Content-Type") == Self.octetStream)
        #expect(response.header("Content-Length") == "\(Self.size)")
        #expect(response.header("Accept-Ranges") == "bytes")
        #expect(response.body == Self.file)
    }

    // MARK: Empty files

    static let rangesOnAnEmptyFile = ["bytes=0-", "bytes=0-0", "bytes=-1", "bytes=-0", "bytes=5-10", "bytes=0-0,2-3", "items=0-1"]

    /// RangeResolution serves a zero-length file whole whatever a valid range set asks (Go's
    /// ServeContent does the same): no Content-Range can describe an empty range.
    @Test("a valid Range on an empty file is ignored: 200 with length 0", arguments: rangesOnAnEmptyFile)
    func emptyFileIgnoresValidRanges(_ header: String) throws {
        let server = try TestServer(files: ["empty.bin": []])
        for method in ["GET", "HEAD"] {
            let connection = try HTTPConnection(port: server.port)
            let response = try connection.send(method, "/files/empty.bin", headers: [("Range", header)])
            #expect(response.status == 200, "\(method)")
            #expect(response.header("Content-Length") == "0", "\(method)")
            #expect(response.header("Content-Range") == nil, "\(method)")
            #expect(response.body.isEmpty, "\(method)")
            #expect(try connection.send("GET", "/healthz").text == "ok\n", "no body after the \(method) answer")
        }
    }

    /// FileReads answers 416 to a malformed Range header before looking at the size, so an empty
    /// file is no exception to "syntax error → 416".
    @Test func malformedRangeOnAnEmptyFileIs416() throws {
        let server = try TestServer(files: ["empty.bin": []])
        let response = try server.request("GET", "/files/empty.bin", headers: [("Range", "bytes=abc")])
        Self.expectRangeNotSatisfiable(response, size: 0)
    }

    // MARK: HEAD

    static let headRanges: [String?] = [
        nil,
        "bytes=0-99",
        "bytes=-1",
        "bytes=9000-",
        "bytes=0-9,20-29",
        "bytes=0-9,20-29,-5",
        "bytes=10000-",
        "bytes=abc",
        "items=0-1",
        "bytes=" + (0..<300).map { "\($0)-" }.joined(separator: ","),
        "bytes=" + (0..<300).map { "\($0 * 2)-\($0 * 2)" }.joined(separator: ",")
    ]

    @Test("HEAD with a Range answers GET's status and headers, without a body", arguments: headRanges)
    func headMatchesGet(_ header: String?) throws {
        let server = try Self.server()
        let headers = header.map { [("Range", $0)] } ?? []
        let get = try server.request("GET", Self.target, headers: headers)
        let connection = try HTTPConnection(port: server.port)
        let head = try connection.send("HEAD", Self.target, headers: headers)
        #expect(head.status == get.status)
        #expect(comparableHeaders(head) == comparableHeaders(get))
        #expect(head.header("Content-Length") == "\(get.body.count)")
        // Had the server sent a body after HEAD's headers, this would read it as the next answer.
        let next = try connection.send("GET", "/healthz")
        #expect(next.status == 200)
        #expect(next.text == "ok\n")
    }

    // MARK: Page boundaries

    static let pagedSize = 3 * 65_536 + 1
    static let pagedFile = pseudoRandomBytes(count: pagedSize, seed: 0x5EED_4096)

    /// Ranges that start or end one byte before, at, or after a 4 KiB page boundary and a 64 KiB
    /// boundary, and whole pages, of a file of three 64 KiB blocks plus one byte.
    static let boundaryRanges: [ClosedRange<UInt64>] = {
        let last = pagedSize - 1
        var ranges: [ClosedRange<UInt64>] = []
        for boundary in [4096, 8192, 65_536, 131_072, 196_608] {
            let candidates = [
                (boundary - 1, boundary - 1), (boundary - 1, boundary), (boundary, boundary), (boundary, boundary + 1),
                (boundary + 1, boundary + 1), (boundary - 4096, boundary - 1), (boundary, boundary + 4095),
                (boundary + 1, boundary + 4096), (boundary - 4097, boundary + 4097), (boundary - 1, last)
            ]
            for (first, end) in candidates where first >= 0 && first <= last {
                let range = UInt64(first)...UInt64(min(end, last))
                if !ranges.contains(range) { ranges.append(range) }
            }
        }
        return ranges
    }()

    @Test("ranges at page and 64 KiB boundaries", arguments: boundaryRanges)
    func pageBoundary(_ range: ClosedRange<UInt64>) throws {
        let server = try TestServer(files: ["pages.bin": Self.pagedFile])
        let response = try server.request("GET", "/files/pages.bin", headers: [("Range", "bytes=\(range.lowerBound)-\(range.upperBound)")])
        #expect(response.status == 206)
        #expect(response.header("Content-Range") == "bytes \(range.lowerBound)-\(range.upperBound)/\(Self.pagedSize)")
        #expect(response.body == Array(Self.pagedFile[Int(range.lowerBound)...Int(range.upperBound)]))
    }

    @Test(
        "suffix ranges ending at the last byte, starting at page boundaries", arguments: [4095, 4096, 4097, 65_535, 65_536, 65_537, 196_608]
    )
    func suffixAtPageBoundary(_ start: Int) throws {
        let server = try TestServer(files: ["pages.bin": Self.pagedFile])
        let response = try server.request("GET", "/files/pages.bin", headers: [("Range", "bytes=-\(Self.pagedSize - start)")])
        #expect(response.status == 206)
        #expect(response.header("Content-Range") == "bytes \(start)-\(Self.pagedSize - 1)/\(Self.pagedSize)")
        #expect(response.body == Array(Self.pagedFile[start...]))
    }

    @Test func multipartAcrossPageBoundaries() throws {
        let server = try TestServer(files: ["pages.bin": Self.pagedFile])
        let ranges: [ClosedRange<UInt64>] = [4095...4095, 4097...8192, 65_535...65_536, 131_071...131_073, 196_608...196_608]
        let header = "bytes=" + ranges.map { "\($0.lowerBound)-\($0.upperBound)" }.joined(separator: ",")
        let response = try server.request("GET", "/files/pages.bin", headers: [("Range", header)])
        try expectByteranges(response, ranges, of: Self.pagedFile, contentType: Self.octetStream)
    }

    // MARK: A sparse 8 GiB file

    @Test("an 8 GiB sparse file: ranges at both ends and in the middle, without reading it into memory")
    func sparseEightGiBFile() throws {
        let server = try TestServer()
        let size: UInt64 = 8 << 30
        let path = server.path("huge.bin")
        let endMarker = Array("END-OF-8-GiB".utf8)
        let middleMarker = Array("MIDDLE".utf8)
        let middle: UInt64 = 4 << 30
        do {
            let fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0o644)
            try #require(fd >= 0, "open: errno \(errno)")
            defer { close(fd) }
            try #require(ftruncate(fd, off_t(size)) == 0, "ftruncate: errno \(errno)")
            try #require(
                endMarker.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(size) - off_t(endMarker.count)) } == endMarker.count)
            try #require(middleMarker.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(middle + 7)) } == middleMarker.count)
        }
        let allocated = try fileStatus(path).st_blocks * 512
        try #require(allocated < 1 << 20, "the test file should be sparse, has \(allocated) bytes allocated")

        let head = try server.request("HEAD", "/files/huge.bin")
        #expect(head.status == 200)
        #expect(head.header("Content-Length") == "\(size)")

        let first = try server.request("GET", "/files/huge.bin", headers: [("Range", "bytes=0-0")])
        #expect(first.status == 206)
        #expect(first.header("Content-Range") == "bytes 0-0/\(size)")
        #expect(first.header("Content-Length") == "1")
        #expect(first.body == [0])

        let last = try server.request("GET", "/files/huge.bin", headers: [("Range", "bytes=-1")])
        #expect(last.status == 206)
        #expect(last.header("Content-Range") == "bytes \(size - 1)-\(size - 1)/\(size)")
        #expect(last.body == [endMarker.last!])

        let tail = try server.request("GET", "/files/huge.bin", headers: [("Range", "bytes=-\(endMarker.count + 4)")])
        #expect(tail.status == 206)
        #expect(tail.header("Content-Range") == "bytes \(size - UInt64(endMarker.count) - 4)-\(size - 1)/\(size)")
        #expect(tail.body == [0, 0, 0, 0] + endMarker)

        // Straddles the 4 GiB mark, where a 32-bit offset would wrap.
        let inMiddle = try server.request("GET", "/files/huge.bin", headers: [("Range", "bytes=\(middle - 10)-\(middle + 20)")])
        #expect(inMiddle.status == 206)
        #expect(inMiddle.header("Content-Range") == "bytes \(middle - 10)-\(middle + 20)/\(size)")
        #expect(inMiddle.body == [UInt8](repeating: 0, count: 17) + middleMarker + [UInt8](repeating: 0, count: 8))

        let multipart = try server.request("GET", "/files/huge.bin", headers: [("Range", "bytes=0-0,\(middle + 7)-\(middle + 12),-3")])
        #expect(multipart.status == 206)
        let parts = try byteranges(of: multipart).parts
        #expect(
            parts.map { $0.header("Content-Range") } == [
                "bytes 0-0/\(size)", "bytes \(middle + 7)-\(middle + 12)/\(size)", "bytes \(size - 3)-\(size - 1)/\(size)"
            ])
        #expect(parts.map(\.body) == [[0], middleMarker, Array(endMarker.suffix(3))])

        let beyond = try server.request("GET", "/files/huge.bin", headers: [("Range", "bytes=\(size)-")])
        Self.expectRangeNotSatisfiable(beyond, size: Int(size))

        let resident = try residentSetBytes()
        #expect(resident < 1 << 30, "RSS \(resident >> 20) MiB after serving ranges of an 8 GiB file")
    }

    // MARK: curl

    static func temporaryPath(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("mmapd-range-\(UUID().uuidString)-\(name)").path
    }

    @Test func curlSingleRange() throws {
        let server = try Self.server()
        let output = Self.temporaryPath("body")
        defer { unlink(output) }
        let result = try curl(["-r", "0-99", "-D", "-", "-o", output, server.baseURL + Self.target])
        #expect(result.status == 0, "\(result.stderr)")
        let headers = result.stdoutText
        #expect(headers.hasPrefix("HTTP/1.1 206"))
        #expect(headers.contains("Content-Range: bytes 0-99/10000\r\n"))
        #expect(headers.contains("Content-Length: 100\r\n"))
        let body = [UInt8](try Data(contentsOf: URL(fileURLWithPath: output)))
        #expect(body.count == 100)
        #expect(body == Array(Self.file[0..<100]))
    }

    @Test func curlMultipleRanges() throws {
        let server = try Self.server()
        let output = Self.temporaryPath("body")
        defer { unlink(output) }
        let result = try curl(["-r", "0-9,20-29", "-D", "-", "-o", output, server.baseURL + Self.target])
        #expect(result.status == 0, "\(result.stderr)")
        let headerLines = result.stdoutText.components(separatedBy: "\r\n")
        #expect(headerLines.first?.hasPrefix("HTTP/1.1 206") == true)
        let contentType = try #require(headerLines.first { $0.lowercased().hasPrefix("content-type:") })
        let boundary = try #require(ByterangesBody.boundary(fromContentType: String(contentType.dropFirst("content-type:".count))))
        let body = [UInt8](try Data(contentsOf: URL(fileURLWithPath: output)))
        #expect(headerLines.contains("Content-Length: \(body.count)"))
        let parts = try ByterangesBody(body, boundary: boundary).parts
        #expect(parts.map { $0.header("Content-Range") } == ["bytes 0-9/10000", "bytes 20-29/10000"])
        #expect(parts.map { $0.header("Content-Type") } == [Self.octetStream, Self.octetStream])
        #expect(parts.map(\.body) == [Array(Self.file[0...9]), Array(Self.file[20...29])])
    }

    @Test func curlResumesAHalfDownloadedFile() throws {
        let original = pseudoRandomBytes(count: 1_000_003, seed: 0x5EED_C0DE)
        let server = try TestServer(files: ["download.bin": original])
        let output = Self.temporaryPath("partial")
        defer { unlink(output) }
        let half = original.count / 2
        try Data(original[..<half]).write(to: URL(fileURLWithPath: output))

        let result = try curl(["-C", "-", "-D", "-", "-o", output, server.baseURL + "/files/download.bin"])
        #expect(result.status == 0, "\(result.stderr)")
        let headers = result.stdoutText
        #expect(headers.hasPrefix("HTTP/1.1 206"))
        #expect(headers.contains("Content-Range: bytes \(half)-\(original.count - 1)/\(original.count)\r\n"))
        #expect(headers.contains("Content-Length: \(original.count - half)\r\n"))

        let resumed = [UInt8](try Data(contentsOf: URL(fileURLWithPath: output)))
        #expect(resumed.count == original.count)
        #expect(resumed == original)
        let sums = try run("/usr/bin/sha256sum", [output, server.path("download.bin")]).stdoutText
            .split(separator: "\n").map { $0.split(separator: " ").first.map(String.init) }
        #expect(sums.count == 2 && sums[0] != nil && sums[0] == sums[1], "SHA-256 of the resumed download: \(sums)")
    }
}
