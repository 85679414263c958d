import HTTPSemantics
import Testing

@Suite("multipart/byteranges framing (RFC 9110 §14.6, RFC 2046 §5.1.1)")
struct MultipartByterangesTests {
    private static let file = Array("0123456789abcdefghijklmnopqrstuvwxyz".utf8)

    /// The body as the server sends it: each header block followed by its slice, then the closing.
    private static func body(_ multipart: MultipartByteranges, file: [UInt8]) -> [UInt8] {
        var body: [UInt8] = []
        for (header, range) in zip(multipart.partHeaders, multipart.ranges) {
            body += header
            body += file[Int(range.start)..<Int(range.end)]
        }
        return body + multipart.closing
    }

    @Test("the exact bytes of a two-part body")
    func exactBody() {
        let multipart = MultipartByteranges(
            ranges: [ByteRange(start: 0, length: 3), ByteRange(start: 30, length: 6)],
            size: 36, contentType: "text/plain; charset=utf-8", boundary: "3d6b6a416f9b5"
        )
        let expected =
            "--3d6b6a416f9b5\r\n"
            + "Content-Type: text/plain; charset=utf-8\r\n"
            + "Content-Range: bytes 0-2/36\r\n"
            + "\r\n"
            + "012"
            + "\r\n--3d6b6a416f9b5\r\n"
            + "Content-Type: text/plain; charset=utf-8\r\n"
            + "Content-Range: bytes 30-35/36\r\n"
            + "\r\n"
            + "uvwxyz"
            + "\r\n--3d6b6a416f9b5--\r\n"
        let body = Self.body(multipart, file: Self.file)
        #expect(String(decoding: body, as: UTF8.self) == expected)
        #expect(multipart.contentLength == UInt64(body.count))
        #expect(multipart.contentTypeHeader == "multipart/byteranges; boundary=3d6b6a416f9b5")
    }

    @Test("the pieces: first delimiter without CRLF, later ones with, closing delimiter")
    func pieces() {
        let multipart = MultipartByteranges(
            ranges: [ByteRange(start: 1, length: 1), ByteRange(start: 3, length: 1), ByteRange(start: 5, length: 1)],
            size: 10, contentType: "application/octet-stream", boundary: "B"
        )
        #expect(multipart.partHeaders.count == 3)
        #expect(
            multipart.partHeaders[0] == Array("--B\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes 1-1/10\r\n\r\n".utf8))
        #expect(
            multipart.partHeaders[1]
                == Array("\r\n--B\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes 3-3/10\r\n\r\n".utf8))
        #expect(
            multipart.partHeaders[2]
                == Array("\r\n--B\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes 5-5/10\r\n\r\n".utf8))
        #expect(multipart.closing == Array("\r\n--B--\r\n".utf8))
        #expect(multipart.boundary == "B")
    }

    @Test(
        "Content-Length is exact",
        arguments: [
            [ByteRange(start: 0, length: 1)],
            [ByteRange(start: 0, length: 1), ByteRange(start: 35, length: 1)],
            [ByteRange(start: 0, length: 10), ByteRange(start: 11, length: 10), ByteRange(start: 22, length: 14)],
            (0..<18).map { ByteRange(start: UInt64($0 * 2), length: 1) }
        ])
    func contentLength(ranges: [ByteRange]) {
        let multipart = MultipartByteranges(
            ranges: ranges, size: 36, contentType: "text/plain",
            boundary: MultipartByteranges.makeBoundary())
        #expect(multipart.contentLength == UInt64(Self.body(multipart, file: Self.file).count))
    }

    @Test("Content-Length of parts far beyond memory is computed, not assembled")
    func hugeContentLength() {
        let size: UInt64 = 1 << 40
        let multipart = MultipartByteranges(
            ranges: [ByteRange(start: 0, length: 1 << 39), ByteRange(start: (1 << 39) + 1, length: (1 << 39) - 1)],
            size: size, contentType: "video/mp4", boundary: "x"
        )
        let framing = multipart.partHeaders.reduce(multipart.closing.count) { $0 + $1.count }
        #expect(multipart.contentLength == size - 1 + UInt64(framing))
    }

    @Test("a resolved Range header framed end to end")
    func resolvedHeader() {
        guard case .specs(let specs) = RangeHeader.parse("bytes=-3, 0-1, 2-3, 10-12"),
            case .multiple(let ranges) = RangeResolution.resolve(specs, size: 36, maxRanges: 10)
        else {
            Issue.record("expected a multipart resolution")
            return
        }
        let multipart = MultipartByteranges(ranges: ranges, size: 36, contentType: "text/plain", boundary: "b0")
        let text = String(decoding: Self.body(multipart, file: Self.file), as: UTF8.self)
        #expect(
            text == "--b0\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-3/36\r\n\r\n0123"
                + "\r\n--b0\r\nContent-Type: text/plain\r\nContent-Range: bytes 10-12/36\r\n\r\nabc"
                + "\r\n--b0\r\nContent-Type: text/plain\r\nContent-Range: bytes 33-35/36\r\n\r\nxyz"
                + "\r\n--b0--\r\n")
    }

    @Test("part headers never contain a delimiter, whatever the boundary", arguments: ["a", "C", "Content-Type", "-", "0"])
    func headersHoldNoDelimiter(boundary: String) {
        let multipart = MultipartByteranges(
            ranges: [ByteRange(start: 0, length: 1), ByteRange(start: 2, length: 1)],
            size: 3, contentType: "text/plain", boundary: boundary
        )
        let delimiter = Array("\r\n--\(boundary)".utf8)
        for (index, header) in multipart.partHeaders.enumerated() {
            let searched = index == 0 ? header[...] : header.dropFirst(delimiter.count)
            #expect(!Self.contains(searched, delimiter))
        }
    }

    private static func contains(_ haystack: ArraySlice<UInt8>, _ needle: [UInt8]) -> Bool {
        haystack.indices.contains { haystack[$0...].starts(with: needle) }
    }

    @Test("makeBoundary: 32 lowercase hex digits, a fresh one each time")
    func boundaryShape() {
        let boundaries = (0..<200).map { _ in MultipartByteranges.makeBoundary() }
        for boundary in boundaries {
            #expect(boundary.utf8.count == 32)
            #expect(
                boundary.utf8.allSatisfy {
                    ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9"))
                        || ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "f"))
                })
        }
        #expect(Set(boundaries).count == boundaries.count)
    }

    /// Returns a fixed sequence, so the boundary's construction can be checked exactly.
    private struct FixedGenerator: RandomNumberGenerator {
        var values: [UInt64]
        mutating func next() -> UInt64 { values.removeFirst() }
    }

    @Test(
        "makeBoundary uses 128 bits of the generator, zero-padded",
        arguments: [
            ([UInt64(0), UInt64.max], "0000000000000000ffffffffffffffff"),
            ([0x0123_4567_89AB_CDEF, 0xF], "0123456789abcdef000000000000000f")
        ] as [([UInt64], String)])
    func boundaryFromGenerator(values: [UInt64], expected: String) {
        var generator = FixedGenerator(values: values)
        #expect(MultipartByteranges.makeBoundary(using: &generator) == expected)
        #expect(generator.values.isEmpty)
    }
}
