/// The header block of one byte range in a PATCH body: a `message/byterange` document or a
/// `multipart/byteranges` part. Lines are `field-line CRLF` (RFC 9112 §5), ended by an empty
/// line.
///
/// Parsing is strict where leniency could change what gets written: lines must end in CRLF (a
/// bare LF is named as such, the usual mistake of hand-made bodies), folded lines and whitespace
/// before the colon are refused (RFC 9112 §5.1–5.2), `Content-Range` and `Content-Length` may
/// appear once, and a content coding other than identity is 415, since writing gzip bytes
/// verbatim would corrupt the file. Other fields (`Content-Type`, …) are ignored, as the draft
/// requires for unknown ones.
struct PatchPartHeaders {
    /// The raw `Content-Range` value, if present.
    let contentRange: String?
    /// The `Content-Length` value, if present.
    let contentLength: UInt64?
    /// Where the data begin: just after the empty line, or at the end of the region when it
    /// ended right after a header line (``isTerminated`` is then false).
    let dataStart: Int
    /// Whether the block ended with an empty line.
    let isTerminated: Bool

    /// Parses the header block at the start of `region`.
    ///
    /// - Parameters:
    ///   - location: Where the block is, for details ("in part 2").
    init(_ body: UnsafeRawBufferPointer, region: Range<Int>, location: String) throws(ProblemDetails) {
        var fields = Fields()
        var lineStart = region.lowerBound
        var lineNumber = 0
        var isTerminated = false
        while lineStart < region.upperBound && !isTerminated {
            guard let lineEnd = (lineStart..<region.upperBound).first(where: { body[$0] == lineFeed }) else {
                throw .badRequest("The header section \(location) does not end with an empty line.")
            }
            guard lineEnd > lineStart, body[lineEnd - 1] == carriageReturn else {
                throw .badRequest("A header line \(location) ends with a bare LF; header lines must end with CRLF.")
            }
            let line = lineStart..<(lineEnd - 1)
            lineStart = lineEnd + 1
            if line.isEmpty {
                isTerminated = true
            } else {
                lineNumber += 1
                try fields.parseLine(UnsafeRawBufferPointer(rebasing: body[line]), number: lineNumber, location: location)
            }
        }
        contentRange = fields.contentRange
        contentLength = fields.contentLength
        dataStart = lineStart
        self.isTerminated = isTerminated
    }
}

/// The fields of a header block that matter for a write, collected line by line.
private struct Fields {
    var contentRange: String?
    var contentLength: UInt64?

    mutating func parseLine(_ line: UnsafeRawBufferPointer, number: Int, location: String) throws(ProblemDetails) {
        guard line[0] != space && line[0] != tab else {
            throw .badRequest("Header line \(number) \(location) starts with whitespace; folded header lines are not accepted.")
        }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")),
            colon > 0, line[..<colon].allSatisfy(MediaType.isTokenCharacter)
        else {
            throw .badRequest("Header line \(number) \(location) is not of the form 'Name: value'.")
        }
        var value = line[(colon + 1)...]
        while let first = value.first, first == space || first == tab { value.removeFirst() }
        while let last = value.last, last == space || last == tab { value.removeLast() }
        guard value.allSatisfy({ $0 == tab || $0 >= space && $0 != 0x7F }) else {
            throw .badRequest("Header line \(number) \(location) contains a control character.")
        }
        let name = String(decoding: line[..<colon], as: UTF8.self).lowercased()
        let text = String(decoding: value, as: UTF8.self)
        switch name {
        case "content-range":
            guard contentRange == nil else {
                throw .badRequest("There is more than one Content-Range header \(location).")
            }
            contentRange = text
        case "content-length":
            guard contentLength == nil else {
                throw .badRequest("There is more than one Content-Length header \(location).")
            }
            guard !value.isEmpty, value.allSatisfy({ UInt8(ascii: "0")...UInt8(ascii: "9") ~= $0 }),
                let length = UInt64(text)
            else {
                throw .badRequest("The Content-Length \(ProblemDetails.quoted(value)) \(location) is not a decimal number.")
            }
            contentLength = length
        case "content-encoding" where text.lowercased() != "identity":
            throw .unsupportedMediaType(
                "The Content-Encoding \(ProblemDetails.quoted(value)) \(location) is not supported; send the bytes unencoded."
            )
        case "content-transfer-encoding" where !["binary", "8bit", "7bit"].contains(text.lowercased()):
            throw .unsupportedMediaType(
                "The Content-Transfer-Encoding \(ProblemDetails.quoted(value)) \(location) is not supported; send binary data."
            )
        default:
            break
        }
    }
}

private let carriageReturn: UInt8 = 0x0D
private let lineFeed: UInt8 = 0x0A
private let space = UInt8(ascii: " ")
private let tab = UInt8(ascii: "\t")
