import HTTPSemantics
import MicroHTTP

/// Constructors for the answers every route shares.
enum Responses {
    /// An RFC 9457 problem answer; `headers` adds e.g. `Allow` or `WWW-Authenticate`.
    static func problem(_ problem: ProblemDetails, headers: [(name: String, value: String)] = []) -> Response {
        Response(status: problem.status, headers: [("Content-Type", ProblemDetails.mediaType)] + headers, body: .bytes(problem.json))
    }

    static func json(_ bytes: [UInt8], status: Int = 200, headers: [(name: String, value: String)] = []) -> Response {
        Response(status: status, headers: [("Content-Type", "application/json")] + headers, body: .bytes(bytes))
    }

    static func text(_ text: String, contentType: String = "text/plain; charset=utf-8") -> Response {
        Response(status: 200, headers: [("Content-Type", contentType)], body: .bytes(Array(text.utf8)))
    }

    static func methodNotAllowed(_ method: String, allowed: [String]) -> Response {
        let allow = allowed.joined(separator: ", ")
        return problem(.methodNotAllowed("\(method) is not allowed here; allowed: \(allow)."), headers: [("Allow", allow)])
    }
}
