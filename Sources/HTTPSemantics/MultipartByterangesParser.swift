/// A `multipart/byteranges` PATCH body, framed per RFC 2046 §5.1.1:
///
///     multipart-body := [preamble CRLF] dash-boundary transport-padding CRLF body-part
///                       *( CRLF dash-boundary transport-padding CRLF body-part )
///                       CRLF dash-boundary "--" transport-padding [CRLF epilogue]
///
/// - The preamble and epilogue are ignored; transport padding (spaces and tabs) after a
///   boundary is tolerated.
/// - The CRLF before each delimiter belongs to the delimiter, not to the data.
/// - A part's data run to the next delimiter, as RFC 2046 defines, and must then be exactly the
///   b−a+1 bytes its `Content-Range` covers. A boundary occurring inside the data therefore
///   shows up as a length mismatch instead of being silently taken as data.
/// - **Overlapping parts are refused (400).** The draft applies parts in order, but a request
///   writing the same byte twice is ambiguous at best and a client bug at worst; refusing it
///   also lets the parts be applied in any order. Adjacent parts are fine.
/// - Parts announcing different complete lengths (`/600` and `/700`) are refused too.
/// - A body without parts, or whose closing delimiter is missing or truncated, is refused:
///   a cut-off upload must not be half applied.
enum MultipartByterangesParser {
    static func parse(_ body: UnsafeRawBufferPointer, boundary: String) throws(ProblemDetails) -> [PatchPart] {
        let dashBoundary = Array("--\(boundary)".utf8)
        let delimiter = [carriageReturn, lineFeed] + dashBoundary
        let closing = "'--\(boundary)--'"

        var boundaryStart: Int
        if startsWith(body, dashBoundary, at: 0) {
            boundaryStart = 0
        } else if let found = find(delimiter, in: body, from: 0) {
            boundaryStart = found + 2
        } else {
            throw .badRequest("The body contains no boundary line '--\(boundary)'.")
        }

        var parts: [PatchPart] = []
        while true {
            var index = boundaryStart + dashBoundary.count
            if startsWith(body, dashes, at: index) {
                guard !parts.isEmpty else { throw .badRequest("The multipart body contains no parts.") }
                index = skipPadding(body, from: index + 2)
                guard index == body.count || startsWith(body, crlf, at: index) else {
                    throw .badRequest("Unexpected bytes follow the closing delimiter \(closing) on its line.")
                }
                break
            }
            let partNumber = parts.count + 1
            index = skipPadding(body, from: index)
            guard startsWith(body, crlf, at: index) else {
                // Nothing, or the first byte of "--" or CRLF, left: the body was cut off here.
                if index == body.count || index == body.count - 1 && [UInt8(ascii: "-"), carriageReturn].contains(body[index]) {
                    throw .badRequest("The body ends inside a boundary line; the closing delimiter \(closing) is missing.")
                }
                throw .badRequest("The boundary line before part \(partNumber) must end with CRLF right after the boundary.")
            }
            let partStart = index + 2
            guard let partEnd = find(delimiter, in: body, from: partStart) else {
                throw .badRequest(
                    "Part \(partNumber) is not followed by a boundary delimiter; the body is truncated or the closing delimiter \(closing) is missing."
                )
            }
            parts.append(try part(body, partStart..<partEnd, number: partNumber))
            boundaryStart = partEnd + 2
        }
        try checkConsistency(parts)
        return parts
    }

    /// RFC 2046: 1 to 70 `bchars`, the last not a space.
    static func isValidBoundary(_ boundary: String) -> Bool {
        let bytes = Array(boundary.utf8)
        return (1...70).contains(bytes.count) && bytes.last != space
            && bytes.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"):
                    true
                default:
                    "'()+_,-./:=? ".utf8.contains(byte)
                }
            }
    }

    private static func part(_ body: UnsafeRawBufferPointer, _ region: Range<Int>, number: Int) throws(ProblemDetails) -> PatchPart {
        let location = "in part \(number)"
        let headers = try PatchPartHeaders(body, region: region, location: location)
        guard let contentRange = headers.contentRange else {
            throw .badRequest("Part \(number) has no Content-Range header.")
        }
        return try ByteRangeWrite(contentRange: contentRange, location: location).part(
            data: headers.dataStart..<region.upperBound,
            declaredContentLength: headers.contentLength,
            subject: "Part \(number)"
        )
    }

    /// Refuses overlapping parts and disagreeing complete lengths.
    private static func checkConsistency(_ parts: [PatchPart]) throws(ProblemDetails) {
        let byStart = parts.indices.sorted { parts[$0].start < parts[$1].start }
        for (earlier, later) in zip(byStart, byStart.dropFirst()) where parts[earlier].end > parts[later].start {
            let (first, second) = (min(earlier, later), max(earlier, later))
            throw .badRequest(
                "Parts \(first + 1) and \(second + 1) overlap (\(rangeText(parts[first])) and \(rangeText(parts[second]))); "
                    + "each byte may be written by one part only."
            )
        }
        var announced: (part: Int, length: UInt64)?
        for (index, part) in parts.enumerated() {
            guard let length = part.completeLength else { continue }
            if let announced, announced.length != length {
                throw .badRequest(
                    "Parts \(announced.part + 1) and \(index + 1) announce different complete lengths (\(announced.length) and \(length))."
                )
            }
            announced = announced ?? (index, length)
        }
    }

    private static func rangeText(_ part: PatchPart) -> String {
        "bytes \(part.start)-\(part.end - 1)"
    }

    private static func startsWith(_ body: UnsafeRawBufferPointer, _ pattern: [UInt8], at index: Int) -> Bool {
        body.count - index >= pattern.count && pattern.indices.allSatisfy { body[index + $0] == pattern[$0] }
    }

    /// The index of the first occurrence of `pattern` at or after `start`.
    private static func find(_ pattern: [UInt8], in body: UnsafeRawBufferPointer, from start: Int) -> Int? {
        guard let head = pattern.first, body.count - start >= pattern.count else { return nil }
        var index = start
        let last = body.count - pattern.count
        while index <= last {
            if body[index] == head && startsWith(body, pattern, at: index) { return index }
            index += 1
        }
        return nil
    }

    private static func skipPadding(_ body: UnsafeRawBufferPointer, from start: Int) -> Int {
        var index = start
        while index < body.count, body[index] == space || body[index] == tab { index += 1 }
        return index
    }

    private static let dashes: [UInt8] = [UInt8(ascii: "-"), UInt8(ascii: "-")]
    private static let crlf: [UInt8] = [carriageReturn, lineFeed]
}

private let carriageReturn: UInt8 = 0x0D
private let lineFeed: UInt8 = 0x0A
private let space = UInt8(ascii: " ")
private let tab = UInt8(ascii: "\t")
