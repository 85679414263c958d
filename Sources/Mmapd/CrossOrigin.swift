import HTTPSemantics
import MicroHTTP

/// CORS for browser code and media players that issue range requests from another origin.
///
/// Simple requests get `Access-Control-Allow-Origin` and the headers a range client must read
/// exposed; preflights (OPTIONS with Access-Control-Request-Method) are answered 204 with the
/// methods and request headers mmapd understands. Nothing is added for origins not configured.
struct CrossOrigin: Sendable {
    let allowedOrigins: Set<String>

    static let exposed = "Content-Range, Accept-Ranges, ETag, Content-Length, Last-Modified"
    static let requestHeaders =
        "Range, If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since, If-Range, Content-Range, Content-Type, Authorization, Accept"

    /// The value for Access-Control-Allow-Origin, or nil when `origin` may not call.
    func allowedOrigin(_ origin: String?) -> String? {
        guard let origin, !allowedOrigins.isEmpty else { return nil }
        if allowedOrigins.contains("*") { return "*" }
        return allowedOrigins.contains(origin) ? origin : nil
    }

    /// The origin headers themselves are added by `decorate`, as for every answer.
    func preflight(origin: String?, methods allowed: [RequestMethod]) -> Response {
        let methods = allowed.allowField
        var headers: [(name: String, value: String)] = [("Allow", methods)]
        if allowedOrigin(origin) != nil {
            headers += [
                ("Access-Control-Allow-Methods", methods), ("Access-Control-Allow-Headers", Self.requestHeaders),
                ("Access-Control-Max-Age", "600")
            ]
        }
        return Response(status: 204, headers: headers)
    }

    func decorate(_ response: Response, origin: String?) -> Response {
        guard let allowed = allowedOrigin(origin) else { return response }
        var response = response
        response.headers += originHeaders(allowed) + [("Access-Control-Expose-Headers", Self.exposed)]
        return response
    }

    private func originHeaders(_ allowed: String) -> [(name: String, value: String)] {
        // A specific origin varies the answer by Origin, which caches must know.
        allowed == "*" ? [("Access-Control-Allow-Origin", "*")] : [("Access-Control-Allow-Origin", allowed), ("Vary", "Origin")]
    }
}
