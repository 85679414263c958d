import HTTPSemantics

extension Response {
    /// The answer to a message that breaks HTTP/1.1 framing or syntax: problem+json, and the
    /// connection closed after it, since nothing that follows on the stream can be framed
    /// reliably (RFC 9112 §6.3, §11.2).
    static func protocolRefusal(_ problem: ProblemDetails) -> Response {
        Response(
            status: problem.status,
            headers: [("Content-Type", ProblemDetails.mediaType), ("Connection", "close")],
            body: .bytes(problem.json))
    }
}
