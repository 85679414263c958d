/// How a request's body is delimited (RFC 9112 §6), decided from every `Content-Length` and
/// `Transfer-Encoding` field line before a single body byte is read.
///
/// libmicrohttpd 0.9.75 decides on its own and gets it wrong for a hostile client: a
/// `Transfer-Encoding` field makes it ignore `Content-Length`, yet only the exact value `chunked`
/// is decoded; any other coding (`identity`, `gzip, chunked`) makes it read the body until the
/// client closes. It also looks only at the first line of each field. A handler that trusted
/// `Content-Length` beside it would then see a body framed differently from what it expected
/// (the request-smuggling pattern). This type is the single judge: a message that carries both
/// fields, a transfer coding whose last element is not `chunked`, a coding the server does not
/// implement, or disagreeing lengths is refused, and the connection must be closed after the
/// refusal (RFC 9112 §6.3), since the rest of the stream cannot be framed.
public enum MessageFraming: Equatable, Sendable {
    /// No body.
    case none
    /// Exactly this many bytes (`Content-Length`).
    case length(UInt64)
    /// The chunked transfer coding: the length is known only at the end, never declared.
    case chunked

    /// - Parameters:
    ///   - contentLengths: the values of every `Content-Length` field line, in order.
    ///   - transferEncodings: the values of every `Transfer-Encoding` field line, in order.
    /// - Throws: 400 for a message whose length cannot be determined reliably, 501 for a transfer
    ///   coding other than `chunked` applied before it.
    public init(contentLengths: [String], transferEncodings: [String]) throws(ProblemDetails) {
        if !transferEncodings.isEmpty {
            guard contentLengths.isEmpty else {
                throw .badRequest("The request has both Content-Length and Transfer-Encoding; send one of them (RFC 9112 §6.3).")
            }
            self = try Self.transferCoded(transferEncodings)
            return
        }
        guard !contentLengths.isEmpty else {
            self = .none
            return
        }
        var length: UInt64?
        for value in contentLengths.flatMap(Self.elements) {
            guard let parsed = Self.decimal(value) else {
                throw .badRequest("The Content-Length \(ProblemDetails.quoted(value.utf8)) is not a decimal number of bytes.")
            }
            if let length, length != parsed {
                throw .badRequest("The request has differing Content-Length values (\(length) and \(parsed)).")
            }
            length = parsed
        }
        guard let length else { throw .badRequest("The Content-Length field is empty.") }
        self = .length(length)
    }

    /// The length the client declared up front, if any; a transfer-coded body never has one.
    public var declaredLength: UInt64? {
        if case .length(let length) = self { return length }
        return nil
    }

    /// Whether a body follows the head at all.
    public var hasBody: Bool { self != .none && self != .length(0) }

    private static func transferCoded(_ fields: [String]) throws(ProblemDetails) -> MessageFraming {
        let codings = fields.flatMap(elements).map { $0.lowercased() }
        guard let last = codings.last else { throw .badRequest("The Transfer-Encoding field names no coding.") }
        guard last == "chunked" else {
            throw .badRequest(
                "The last transfer coding is \(ProblemDetails.quoted(last.utf8)), not chunked: the body's length cannot be determined (RFC 9112 §6.3)."
            )
        }
        if let other = codings.dropLast().first {
            if other == "chunked" { throw .badRequest("The chunked transfer coding is applied more than once.") }
            throw ProblemDetails(
                status: 501,
                detail:
                    "The transfer coding \(ProblemDetails.quoted(other.utf8)) is not implemented; send the body with chunked alone or a Content-Length."
            )
        }
        return .chunked
    }

    /// The non-empty elements of a comma-separated field value, without surrounding OWS
    /// (RFC 9110 §5.6.1: empty list elements are ignored).
    private static func elements(_ value: String) -> [String] {
        value.utf8.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false).compactMap { element in
            let trimmed = FieldText.trimmingWhitespace(ArraySlice(element))
            return trimmed.isEmpty ? nil : String(decoding: trimmed, as: UTF8.self)
        }
    }

    /// 1*DIGIT, no sign, no inner space, within UInt64.
    private static func decimal(_ text: String) -> UInt64? {
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
        return UInt64(text)
    }
}
