import Foundation
import Testing

@testable import Mmapd

/// The range limits real clients need and the bounds that keep abusive range sets cheap: GDAL's
/// 128-tile reads in one 206 (default `--max-ranges` 256), no answer larger than the file,
/// bounded framing, and a request head whose size bounds the parsing work.
@Suite struct RangeDefenceTests {
    static let size = 1 << 20
    static let file = pseudoRandomBytes(count: size, seed: 0x5EED_0256)

    static func ranges(count: Int, stride: Int, length: Int = 1) -> [ClosedRange<UInt64>] {
        (0..<count).map { UInt64($0 * stride)...UInt64($0 * stride + length - 1) }
    }

    static func header(_ ranges: [ClosedRange<UInt64>]) -> String {
        "bytes=" + ranges.map { "\($0.lowerBound)-\($0.upperBound)" }.joined(separator: ",")
    }

    @Test func defaultIs256() {
        #expect(Settings().maxRanges == 256)
    }

    @Test("a column of 128 tiles and the default limit of 256 parts are one multipart 206", arguments: [128, 256])
    func manyTilesInOneAnswer(count: Int) throws {
        let server = try TestServer(files: ["tiles.tif": Self.file])
        let tiles = Self.ranges(count: count, stride: 4096, length: 700)
        let response = try server.request("GET", "/files/tiles.tif", headers: [("Range", Self.header(tiles))])
        try expectByteranges(response, tiles, of: Self.file, contentType: "image/tiff")
        // The framing: at most ~120 bytes a part on top of the tiles' bytes.
        #expect(response.body.count <= tiles.count * (700 + 120) + 100)
    }

    @Test func oneMoreThanTheLimitServesTheWholeFile() throws {
        let server = try TestServer(files: ["tiles.tif": Self.file])
        let response = try server.request(
            "GET", "/files/tiles.tif", headers: [("Range", Self.header(Self.ranges(count: 257, stride: 4000)))])
        #expect(response.status == 200)
        let whole = response.body == Self.file  // compared outside #expect: a failure would print both megabytes
        #expect(whole)
    }

    @Test("many tiny parts of a small file: the whole file, never a bigger answer", arguments: [2, 10, 100, 256])
    func framingNeverExceedsTheFile(count: Int) throws {
        let small = pseudoRandomBytes(count: 1024, seed: 7)
        let server = try TestServer(files: ["small.bin": small])
        let response = try server.request(
            "GET", "/files/small.bin", headers: [("Range", Self.header(Self.ranges(count: min(count, 512), stride: 2)))])
        #expect(response.body.count <= small.count, "\(response.status): \(response.body.count) bytes for a \(small.count)-byte file")
        if response.status == 200 {
            let whole = response.body == small
            #expect(whole)
        } else {
            #expect(response.status == 206)
        }
    }

    @Test func overlappingRangesNeverExceedTheFile() throws {
        let server = try TestServer(files: ["tiles.tif": Self.file])
        // 2,000 ranges that each ask for most of the file (Apache's CVE-2011-3192 pattern).
        let header = "bytes=" + (0..<2000).map { "\($0)-" }.joined(separator: ",")
        let response = try server.request("GET", "/files/tiles.tif", headers: [("Range", header)])
        #expect(response.status == 206)
        #expect(response.header("Content-Range") == "bytes 0-\(Self.size - 1)/\(Self.size)")
        #expect(response.body.count == Self.size)
    }

    /// The parsing and merging work a Range header costs grows with its length, and the request
    /// head is bounded by `--max-header-bytes` (431 above it): the largest header the server reads
    /// still gets its answer, the next request on the same connection too.
    @Test func theLargestRangeHeaderIsAnsweredAndTheNextOneIsTooLarge() throws {
        let server = try TestServer(configure: { $0.maxHeaderBytes = 16384 }, files: ["tiles.tif": Self.file])
        var fitting = "bytes=0-0"
        var position = 2
        while fitting.utf8.count < 15_000 {
            fitting += ",\(position)-\(position)"
            position += 2
        }
        let connection = try HTTPConnection(port: server.port)
        let answered = try connection.send("GET", "/files/tiles.tif", headers: [("Range", fitting)])
        #expect(answered.status == 200, "more than 256 ranges: the whole file")
        #expect(answered.body.count == Self.size)
        let next = try connection.send("GET", "/files/tiles.tif", headers: [("Range", "bytes=0-9")])
        #expect(next.body == Array(Self.file[0..<10]))
        let tooLarge = try server.request("GET", "/files/tiles.tif", headers: [("Range", fitting + String(repeating: ",0-0", count: 1000))])
        #expect(tooLarge.status == 431)
    }
}
