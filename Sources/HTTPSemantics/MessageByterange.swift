/// A `message/byterange` PATCH body: one byte range with its own header block,
///
///     byterange-document = *( field-line CRLF ) CRLF [ message-body ]
///
/// The block must hold `Content-Range: bytes a-b/len` (or `/*`), may hold `Content-Length`
/// (then equal to b−a+1) and `Content-Type` (ignored); everything after the empty line is the
/// data and must be exactly b−a+1 bytes. There is no framing to absorb stray bytes, so a longer
/// body is refused rather than cut.
enum MessageByterange {
    static func parse(_ body: UnsafeRawBufferPointer) throws(ProblemDetails) -> PatchPart {
        let location = "in the message/byterange body"
        let headers = try PatchPartHeaders(body, region: 0..<body.count, location: location)
        guard headers.isTerminated else {
            throw .badRequest("The header section \(location) does not end with an empty line.")
        }
        guard let contentRange = headers.contentRange else {
            throw .badRequest("The message/byterange body has no Content-Range header.")
        }
        return try ByteRangeWrite(contentRange: contentRange, location: location).part(
            data: headers.dataStart..<body.count,
            declaredContentLength: headers.contentLength,
            subject: "The message/byterange body"
        )
    }
}
