import HTTPSemantics
import MicroHTTP

/// Constructors for the answers every route shares, on `Response` itself.
extension Response {
    /// An RFC 9457 problem answer; `headers` adds e.g. `Allow` or `WWW-Authenticate`. A server
    /// error's detail is its logged failure, unless a cause is known (`problem(for:)`).
    static func problem(_ problem: ProblemDetails, headers: [(name: String, value: String)] = []) -> Response {
        var response = Response(
            status: problem.status, headers: [("Content-Type", ProblemDetails.mediaType)] + headers,
            body: .bytes(problem.json))
        if problem.status >= 500 { response.failure = problem.detail }
        return response
    }

    /// The answer for a storage or search error (`StorageProblems.swift`), with the error value
    /// as the logged failure when it is a server error.
    static func problem(for error: some ProblemConvertible, headers: [(name: String, value: String)] = []) -> Response {
        var response = problem(error.problem, headers: headers)
        if response.status >= 500 { response.failure = String(describing: error) }
        return response
    }

    static func json(_ bytes: [UInt8], status: Int = 200, headers: [(name: String, value: String)] = []) -> Response {
        Response(status: status, headers: [("Content-Type", "application/json")] + headers, body: .bytes(bytes))
    }

    static func text(_ text: String, contentType: String = "text/plain; charset=utf-8") -> Response {
        Response(status: 200, headers: [("Content-Type", contentType)], body: .bytes(Array(text.utf8)))
    }

    /// A path naming a directory without its trailing slash: 301 to the same target with it
    /// (query kept), for listings and tree searches alike.
    static func redirectToDirectory(_ request: Request) -> Response {
        let target = request.target
        let path = target.prefix { $0 != "?" }
        return Response(status: 301, headers: [("Location", path + "/" + target.dropFirst(path.count))])
    }

    static func methodNotAllowed(_ method: RequestMethod, allowed: [RequestMethod]) -> Response {
        let allow = allowed.allowField
        return problem(.methodNotAllowed("\(method) is not allowed here; allowed: \(allow)."), headers: [("Allow", allow)])
    }
}
