/// The framing of a `multipart/byteranges` body (RFC 9110 §14.6), without the file bytes.
///
/// The body is `partHeaders[0]`, the bytes of `ranges[0]`, `partHeaders[1]`, the bytes of
/// `ranges[1]`, …, then `closing`; the server can send it as one iovec array straight from the
/// mapping, and knows ``contentLength`` before it starts.
///
/// Layout (RFC 2046 §5.1.1): the body opens directly with the first dash-boundary (an empty
/// preamble); every later delimiter is CRLF, `--`, boundary; each part carries `Content-Type` and
/// `Content-Range` (§14.6) and a blank line; the close delimiter is followed by a CRLF and an empty
/// epilogue.
public struct MultipartByteranges: Sendable, Hashable {
    /// The parts' ranges, in the order they are sent.
    public let ranges: [ByteRange]
    /// The boundary, without the leading `--`.
    public let boundary: String
    /// One header block per range, each ending with the blank line that precedes the part's bytes.
    public let partHeaders: [[UInt8]]
    /// `CRLF "--" boundary "--" CRLF`.
    public let closing: [UInt8]
    /// The exact body length: all framing plus all range lengths.
    public let contentLength: UInt64

    /// - Parameters:
    ///   - ranges: At least one range, each within `size` (as ``RangeResolution`` produces them).
    ///   - size: The representation's complete length, for each part's `Content-Range`; at most
    ///     `Int64.max`, the largest a file can be (off_t), so the body length cannot overflow.
    ///   - contentType: The representation's media type, repeated in every part; must not contain
    ///     CR or LF.
    ///   - boundary: 1 to 70 characters from `A–Z a–z 0–9 ' + _ - .`: the characters that RFC 2046
    ///     allows in a boundary and that are also token characters, so ``contentTypeHeader``
    ///     needs no quoting. ``makeBoundary()`` returns one.
    public init(ranges: [ByteRange], size: UInt64, contentType: String, boundary: String) {
        precondition(!ranges.isEmpty, "a multipart body has at least one part")
        precondition(size <= UInt64(Int64.max), "a representation longer than any file")
        precondition(ranges.allSatisfy { $0.end <= size }, "range beyond the representation")
        precondition(!contentType.utf8.contains { $0 == 0x0D || $0 == 0x0A }, "line break in content type")
        precondition(
            (1...70).contains(boundary.utf8.count) && boundary.utf8.allSatisfy(Self.isBoundaryCharacter),
            "boundary outside RFC 2046 token characters")

        self.ranges = ranges
        self.boundary = boundary
        partHeaders = ranges.enumerated().map { index, range in
            let delimiter = (index == 0 ? "" : "\r\n") + "--" + boundary + "\r\n"
            let contentRange = ContentRange(range: range, completeLength: size).headerValue
            return Array((delimiter + "Content-Type: " + contentType + "\r\nContent-Range: " + contentRange + "\r\n\r\n").utf8)
        }
        closing = Array(("\r\n--" + boundary + "--\r\n").utf8)
        contentLength =
            partHeaders.reduce(UInt64(closing.count)) { $0 + UInt64($1.count) }
            + ranges.reduce(0) { $0 + $1.length }
    }

    /// The response's `Content-Type` field value.
    public var contentTypeHeader: String { "multipart/byteranges; boundary=" + boundary }

    /// A fresh boundary from the system's cryptographic random source.
    public static func makeBoundary() -> String {
        var generator = SystemRandomNumberGenerator()
        return makeBoundary(using: &generator)
    }

    /// A boundary of 32 lowercase hexadecimal digits: 128 bits from `generator`.
    ///
    /// Why this is safe: a part boundary is recognised only as `CRLF "--" boundary`
    /// (RFC 2046 §5.1.1). The part headers we write can never contain that, whatever the
    /// boundary, since each of their lines begins with `Content-`. So the only text that could
    /// collide is the file itself, which is arbitrary and not scanned; a random 128-bit boundary,
    /// new for every response, makes a chance collision negligible and cannot be predicted and
    /// planted by someone who can write to the file.
    public static func makeBoundary(using generator: inout some RandomNumberGenerator) -> String {
        let bits = (generator.next() as UInt64, generator.next() as UInt64)
        return hexDigits(bits.0) + hexDigits(bits.1)
    }

    private static func hexDigits(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    /// `bchars` (RFC 2046 §5.1.1) that are also `tchar` (RFC 9110 §5.6.2).
    private static func isBoundaryCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "'"), UInt8(ascii: "+"), UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "."):
            true
        default:
            false
        }
    }
}
