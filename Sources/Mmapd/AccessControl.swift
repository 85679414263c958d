import Glibc
import HTTPSemantics
import MicroHTTP

/// Who may read and who may write, decided before anything about the path is looked at, so a
/// refused request learns nothing (a missing file and an existing one get the same 401).
///
/// - Writes (any method but GET, HEAD and OPTIONS) need a write token when write tokens are
///   configured or reading is restricted; a read token (or a signed link) for a write is 403.
/// - Reading is restricted when any read token is configured or a signing key is: then every
///   route but `/healthz` needs a read or a write token, or a signed link valid for the path
///   (`SignedLinks`: GET and HEAD of `/files`, `/search` and `/view` at or below the signed scope, until it
///   expires; expired or altered is 403). A CORS preflight (which browsers send without
///   credentials, and which reveals only the methods a route takes) is let through.
///   The pages' assets (`/assets/`) hold no file data and need no token either (contract): a
///   page opened through a signed link must be able to load its script.
struct AccessControl: Sendable {
    let writeTokens: BearerTokens
    let readTokens: BearerTokens
    let links: SignedLinks?

    var readsRestricted: Bool { readTokens.required || links != nil }

    /// What the checks decided for one request.
    enum Decision {
        case refused(Response)
        /// It may proceed; `grant` is the signed link that allowed it, when one did (a token, or
        /// a server without restrictions, needs none): the pages carry it on to their links.
        case allowed(grant: SignedLink.Grant?)
    }

    /// Whether `request` may proceed. `target` is nil when the request-target did not parse:
    /// such a request is refused like any other when reads are restricted, so a 400 or 404 is
    /// never a hint to a client without a token.
    func check(_ request: Request, target: RequestTarget?) -> Decision {
        switch target?.route {
        case .healthz?, .assets?: return .allowed(grant: nil)
        default: break
        }
        let offered = BearerTokens.credential(in: request.header("Authorization"))
        if writeTokens.contains(offered) { return .allowed(grant: nil) }
        let method = request.method
        let link = readsRestricted ? SignedLink.parameters(in: target?.query ?? Self.rawQuery(request.target)) : .absent
        if !method.isSafe {
            guard writeTokens.required || readsRestricted else { return .allowed(grant: nil) }
            if readTokens.contains(offered) {
                return Self.forbidden("A read token does not allow \(Self.printable(method.name)); writes need a write token.")
            }
            if link != .absent {
                return Self.forbidden("A signed link never allows \(Self.printable(method.name)); writes need a write token.")
            }
            return Self.unauthorized("\(Self.printable(method.name)) needs 'Authorization: Bearer <token>' with a write token.")
        }
        guard readsRestricted, !readTokens.contains(offered) else { return .allowed(grant: nil) }
        if method == .options, request.header("Access-Control-Request-Method") != nil { return .allowed(grant: nil) }
        switch link {
        case .absent:
            return Self.unauthorized(
                "This server needs 'Authorization: Bearer <token>' with a read or write token for every request but /healthz.")
        case .malformed:
            return Self.forbidden(
                "The signed link is altered: it needs exactly one 'expires' and one 'signature' as 'mmapd sign' printed them.")
        case .present(let parameters):
            return linkDecision(parameters, method: method, target: target)
        }
    }

    /// A signed link grants GET and HEAD of a file, a directory or a search, at or below its scope.
    private func linkDecision(_ parameters: SignedLink.Parameters, method: RequestMethod, target: RequestTarget?) -> Decision {
        let file: FileTarget
        switch target?.route {
        case .files(let named), .search(let named), .view(let named): file = named
        default: return Self.forbidden("A signed link grants reading files, listings, searches and viewer pages, not this route.")
        }
        guard method != .options else { return Self.forbidden("A signed link grants GET and HEAD only.") }
        guard let links,
            let scope = links.grantedScope(parameters, scope: SignedLink.scope(path: file.path.string, isDirectory: file.isDirectory))
        else {
            return Self.forbidden("The signed link is altered or not for this path.")
        }
        guard parameters.expires > Int64(time(nil)) else { return Self.forbidden("The signed link has expired.") }
        return .allowed(grant: SignedLink.Grant(parameters: parameters, scope: scope))
    }

    /// The query of a target that did not parse, for telling an altered link from no link.
    private static func rawQuery(_ target: String) -> String? {
        target.firstIndex(of: "?").map { String(target[target.index(after: $0)...]) }
    }

    private static func unauthorized(_ detail: String) -> Decision {
        .refused(Response.problem(.unauthorized(detail), headers: [("WWW-Authenticate", #"Bearer realm="mmapd""#)]))
    }

    private static func forbidden(_ detail: String) -> Decision {
        .refused(Response.problem(.forbidden(detail)))
    }

    /// A method name fit for an error body: libmicrohttpd passes any token characters through.
    private static func printable(_ method: String) -> String {
        String(method.prefix(32))
    }
}
