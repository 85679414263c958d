import HTTPSemantics
import MicroHTTP

/// Who may read and who may write, decided before anything about the path is looked at, so a
/// refused request learns nothing (a missing file and an existing one get the same 401).
///
/// - Writes (any method but GET, HEAD and OPTIONS) need a write token when write tokens are
///   configured or reading is restricted; a read token (or a signed link) for a write is 403.
/// - Reading is restricted when any read token is configured (see `SignedLinks` for the other
///   way in). Then every route but `/healthz` needs a read or a write token, and a CORS preflight
///   (which browsers send without credentials, and which reveals only the methods a route takes)
///   is let through.
struct AccessControl: Sendable {
    let writeTokens: BearerTokens
    let readTokens: BearerTokens

    var readsRestricted: Bool { readTokens.required }

    /// The refusal for `request`, or nil when it may proceed. `target` is nil when the
    /// request-target did not parse: such a request is refused like any other when reads are
    /// restricted, so a 400 or 404 is never a hint to a client without a token.
    func refusal(for request: Request, target: RequestTarget?) -> Response? {
        if case .healthz = target?.route { return nil }
        let offered = BearerTokens.credential(in: request.header("Authorization"))
        if writeTokens.contains(offered) { return nil }
        let method = request.method
        if method != "GET" && method != "HEAD" && method != "OPTIONS" {
            guard writeTokens.required || readsRestricted else { return nil }
            if readTokens.contains(offered) { return Self.forbidden("A read token does not allow \(Self.printable(method)); writes need a write token.") }
            return Self.unauthorized("\(Self.printable(method)) needs 'Authorization: Bearer <token>' with a write token.")
        }
        guard readsRestricted, !readTokens.contains(offered) else { return nil }
        if method == "OPTIONS", request.header("Access-Control-Request-Method") != nil { return nil }
        return Self.unauthorized("This server needs 'Authorization: Bearer <token>' with a read or write token for every request but /healthz.")
    }

    static func unauthorized(_ detail: String) -> Response {
        Responses.problem(.unauthorized(detail), headers: [("WWW-Authenticate", #"Bearer realm="mmapd""#)])
    }

    static func forbidden(_ detail: String) -> Response {
        Responses.problem(.forbidden(detail))
    }

    /// A method name fit for an error body: libmicrohttpd passes any token characters through.
    private static func printable(_ method: String) -> String {
        String(method.prefix(32))
    }
}
