/// PATCH request bodies after the IETF httpapi "Byte Range PATCH" draft.
///
/// Three forms are accepted:
/// 1. a `Content-Range: bytes a-b/*` (or `/len`) request header, the body being exactly the
///    b−a+1 bytes to write;
/// 2. `Content-Type: message/byterange`, the body carrying its own header block with
///    `Content-Range` (``MessageByterange``);
/// 3. `Content-Type: multipart/byteranges; boundary=…`, one such part per range
///    (``MultipartByterangesParser``).
///
/// Use in two steps: ``PatchForm/init(contentType:contentRange:)`` on the headers, before the
/// body is read (so a bad request fails early and the raw form's length is known up front),
/// then ``PatchBody/parts(of:form:)`` on the complete body. Every failure is a
/// ``ProblemDetails`` (400, or 415 for a body type or content coding we do not take) saying
/// which part and what is wrong; a failure means nothing may be written.
public enum PatchBody {
    /// Validates a complete body of the given form and returns what to write, in body order.
    ///
    /// Parts never overlap (see ``MultipartByterangesParser``) and their data are index ranges into
    /// `body`; nothing is copied.
    public static func parts(of body: UnsafeRawBufferPointer, form: PatchForm) throws(ProblemDetails) -> [PatchPart] {
        switch form {
        case .contentRange(let start, let length, let completeLength):
            let write = ByteRangeWrite(start: start, length: length, completeLength: completeLength)
            return [try write.part(data: 0..<body.count, declaredContentLength: nil, subject: "The request body")]
        case .messageByterange:
            return [try MessageByterange.parse(body)]
        case .multipartByteranges(let boundary):
            return try MultipartByterangesParser.parse(body, boundary: boundary)
        case .resize:
            guard body.isEmpty else { throw .badRequest(PatchForm.resizeBodyDetail) }
            return []
        }
    }

    /// ``parts(of:form:)`` for a body held in an array; the ranges index the array.
    public static func parts(of body: [UInt8], form: PatchForm) throws(ProblemDetails) -> [PatchPart] {
        // `withUnsafeBytes` rethrows untyped errors; a Result keeps the error typed.
        try body.withUnsafeBytes { buffer in Result { () throws(ProblemDetails) in try parts(of: buffer, form: form) } }.get()
    }
}

/// One write of a PATCH: the bytes `data` of the request body go to file offset `start`.
public struct PatchPart: Sendable, Hashable {
    /// File offset of the first byte written.
    public let start: UInt64
    /// Where the bytes are in the request body; never empty.
    public let data: Range<Int>
    /// The complete length the client announced (`bytes a-b/len`); `nil` for `/*`. The draft
    /// leaves its use to the server; `PatchPlan` holds it against the size after the write.
    public let completeLength: UInt64?

    public init(start: UInt64, data: Range<Int>, completeLength: UInt64?) {
        self.start = start
        self.data = data
        self.completeLength = completeLength
    }

    /// The file offset just past the last byte written.
    public var end: UInt64 { start + UInt64(data.count) }
}

/// Which of the three PATCH forms a request uses, decided from its headers alone.
public enum PatchForm: Sendable, Hashable {
    /// Form 1: the body is exactly `length` bytes to write at `start`.
    case contentRange(start: UInt64, length: UInt64, completeLength: UInt64?)
    /// Form 2: `message/byterange`.
    case messageByterange
    /// Form 3: `multipart/byteranges` with a validated boundary.
    case multipartByteranges(boundary: String)
    /// `Content-Range: bytes */length` with an empty body: set the file's length (truncate, or
    /// extend with zero bytes), as Python's `mmap.resize(length)`.
    case resize(length: UInt64)

    /// Decides the form.
    ///
    /// - A `Content-Range` header selects form 1, whatever `Content-Type` says about the data,
    ///   except that `message/byterange` or `multipart/byteranges` together with it is refused
    ///   (400): the body cannot be both the raw bytes and their envelope.
    /// - Without it, `Content-Type` must be one of the two envelope types; anything else,
    ///   absent or unparseable included, is 415.
    public init(contentType: String?, contentRange: String?) throws(ProblemDetails) {
        let mediaType = contentType.flatMap(MediaType.init(parsing:))
        let isEnvelope = mediaType.map { [Self.messageByterangeType, Self.multipartType].contains($0.essence) } ?? false
        if let contentRange {
            guard !isEnvelope else {
                throw .badRequest(
                    "A PATCH cannot have both a Content-Range header and a \(mediaType?.essence ?? "") body; send one or the other."
                )
            }
            if let parsed = ContentRange.parse(contentRange), parsed.range == nil, let length = parsed.completeLength {
                guard length <= UInt64(Int64.max) else {
                    throw .badRequest("The Content-Range asks for a length of \(length) bytes, beyond the largest possible file.")
                }
                self = .resize(length: length)
                return
            }
            let range = try ByteRangeWrite(contentRange: contentRange, location: "in the request header")
            self = .contentRange(start: range.start, length: range.length, completeLength: range.completeLength)
            return
        }
        guard let mediaType, isEnvelope else {
            throw .unsupportedMediaType(
                "A PATCH needs a Content-Range header, or a body of type \(Self.messageByterangeType) or \(Self.multipartType)."
            )
        }
        guard mediaType.essence == Self.multipartType else {
            self = .messageByterange
            return
        }
        guard let boundary = mediaType.parameter("boundary") else {
            throw .badRequest("Content-Type \(Self.multipartType) needs a boundary parameter.")
        }
        guard MultipartByterangesParser.isValidBoundary(boundary) else {
            throw .badRequest(
                "The multipart boundary \(ProblemDetails.quoted(Array(boundary.utf8))) is invalid: it must be 1 to 70 "
                    + "letters, digits or '()+_,-./:=? characters (spaces allowed, but not last)."
            )
        }
        self = .multipartByteranges(boundary: boundary)
    }

    public static let resizeBodyDetail = "A resize (Content-Range: bytes */length) carries no body; send the new length alone."

    /// The media types a PATCH body may have, as `Accept-Patch` lists them (RFC 5789 §3.1). The
    /// raw form's body has whatever type its data has, so only the two envelopes are named.
    public static let acceptedMediaTypes = [messageByterangeType, multipartType]

    private static let messageByterangeType = "message/byterange"
    private static let multipartType = "multipart/byteranges"
}

/// A `Content-Range` that is acceptable as the target of a write.
struct ByteRangeWrite {
    let start: UInt64
    let length: UInt64
    let completeLength: UInt64?
}

extension ByteRangeWrite {
    /// - Parameter location: Where the field was, for error details ("in part 2").
    init(contentRange value: String, location: String) throws(ProblemDetails) {
        let quoted = ProblemDetails.quoted(Array(value.utf8))
        guard let parsed = ContentRange.parse(value) else {
            throw .badRequest(
                "The Content-Range \(quoted) \(location) is malformed; expected 'bytes first-last/length' or 'bytes first-last/*'."
            )
        }
        guard let range = parsed.range else {
            throw .badRequest("The Content-Range \(quoted) \(location) names no range; 'bytes */length' cannot be written.")
        }
        // Offsets become off_t, and a part's length an Int index range into the body.
        guard range.end <= UInt64(Int64.max), range.length <= UInt64(Int.max) else {
            throw .badRequest("The Content-Range \(quoted) \(location) lies beyond the largest possible file offset.")
        }
        start = range.start
        length = range.length
        completeLength = parsed.completeLength
    }

    /// `bytes first-last`, for details.
    var rangeText: String { "bytes \(start)-\(start + length - 1)" }

    /// The part for `data`, which must hold exactly ``length`` bytes.
    ///
    /// - Parameters:
    ///   - subject: What carries the data, capitalised, for the detail ("Part 2").
    ///   - declaredContentLength: A `Content-Length` beside the `Content-Range`, if any.
    func part(data: Range<Int>, declaredContentLength: UInt64?, subject: String) throws(ProblemDetails) -> PatchPart {
        if let declaredContentLength, declaredContentLength != length {
            throw .badRequest(
                "\(subject) has Content-Length \(declaredContentLength), but its Content-Range '\(rangeText)' covers \(length) bytes."
            )
        }
        guard UInt64(data.count) == length else {
            throw .badRequest(
                "\(subject) carries \(data.count) bytes, but its Content-Range '\(rangeText)' covers \(length) bytes."
            )
        }
        return PatchPart(start: start, data: data, completeLength: completeLength)
    }
}
