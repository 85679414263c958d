import HTTPSemantics
import MappedFiles
import MicroHTTP

/// Maps each request to the handler of its route and method; answers 404/405 for the rest.
struct Routes: RequestHandler {
    let files: FileReads
    let listings: DirectoryListings
    let views: FileViews
    let patches: FilePatches
    let puts: FilePuts
    let deletes: FileDeletes
    let searches: FileSearches
    let viewer: ViewerPages
    let assets: PageAssets
    let accessLog: AccessLog
    let metrics: ServiceMetrics
    let crossOrigin: CrossOrigin
    let allowedHosts: AllowedHosts
    let access: AccessControl
    /// What /metrics reads at scrape time.
    let scrape: @Sendable () -> [UInt8]

    func begin(_ request: Request) -> Disposition {
        let target: RequestTarget
        do {
            target = try RequestTarget(parsing: request.target)
        } catch {
            if case .refused(let refusal) = access.check(request, target: nil) { return .respond(refusal) }
            return .respond(Response.problem(error))
        }
        let method = request.method
        request.route = target.route.label
        let grant: SignedLink.Grant?
        switch access.check(request, target: target) {
        case .refused(let refusal): return .respond(refusal)
        case .allowed(let granted): grant = granted
        }
        let allowed = allowedMethods(target.route)
        if method == .options { return .respond(crossOrigin.preflight(origin: request.header("Origin"), methods: allowed)) }
        guard allowed.contains(method) else {
            if method.writes, case .files = target.route, !patches.writable {
                return .respond(
                    Response.problem(
                        .methodNotAllowed("This server is read-only; start it with --writable to allow \(method)."),
                        headers: [("Allow", allowed.allowField)]))
            }
            return .respond(Response.methodNotAllowed(method, allowed: allowed))
        }
        switch target.route {
        case .files(let file), .search(let file), .view(let file):
            if let refusal = allowedHosts.refusal(for: request) { return .respond(Response.problem(refusal)) }
            // Uploads in progress are nobody's to read, write or create (see `TemporaryUploads`).
            if TemporaryUploads.isTemporary(path: file.path.string) { return .respond(Response.problem(.notFound())) }
        case .healthz, .metrics, .assets, .home:
            break
        }
        switch target.route {
        case .files(let file) where method == .patch:
            return patches.begin(request, file: file)
        case .files(let file) where method == .put:
            return puts.begin(request, file: file)
        case .files(let file) where method == .delete:
            return deletes.begin(request, file: file)
        case .files(let file) where file.isDirectory:
            return listings.begin(request, directory: file, query: target.query, grant: grant)
        case .files(let file):
            if let view = views.begin(request, file: file, query: target.query) { return view }
            return .respond(files.respond(to: request, file: file))
        case .search(let file):
            return searches.begin(request, file: file, query: target.query)
        case .view(let file):
            return .respond(viewer.respond(to: request, file: file, query: target.query, grant: grant))
        case .assets(let name):
            return .respond(assets.respond(to: request, name: name, query: target.query))
        case .healthz:
            return .respond(Response.text("ok\n"))
        case .home:
            return .respond(Response(status: 302, headers: [("Location", "/files/" + (target.query.map { "?" + $0 } ?? ""))]))
        case .metrics:
            return .respond(
                Response.text(String(decoding: scrape(), as: UTF8.self), contentType: "text/plain; version=0.0.4; charset=utf-8"))
        }
    }

    func stopping(_ request: Request) -> Response {
        Response.problem(
            .serviceUnavailable("The server is shutting down; retry on a new connection."),
            headers: [("Retry-After", "1")])
    }

    /// The methods each route answers: the one list behind 405's Allow and CORS preflights.
    /// The writes (PUT, PATCH, DELETE) on a read-only server are not among them, hence their 405
    /// with `Allow`.
    private func allowedMethods(_ route: RequestTarget.Route) -> [RequestMethod] {
        switch route {
        // A write to a directory is refused after the token check, never before: a 405 here
        // would tell an unauthenticated client that the path is a directory.
        case .files where patches.writable: Self.writableFileMethods
        case .search: Self.searchMethods
        default: Self.readMethods
        }
    }

    private static let writableFileMethods: [RequestMethod] = [.get, .head, .put, .patch, .delete, .options]
    private static let searchMethods: [RequestMethod] = [.get, .options]
    private static let readMethods: [RequestMethod] = [.get, .head, .options]

    func completed(_ request: Request) {
        metrics.recordRequest(
            route: request.route, method: request.method, status: request.status, bytes: request.bodyLength,
            duration: request.elapsed)
        accessLog.completed(request)
    }

    func delivered(_ request: Request) {
        accessLog.delivered(request)
    }

    func decorate(_ response: Response, for request: Request) -> Response {
        var response = response
        // RFC 5789 §3.1: where PATCH is allowed, say which bodies it takes.
        if patches.writable, request.route == "files", request.method.isSafe {
            response.headers.append(("Accept-Patch", Self.acceptPatch))
        }
        return crossOrigin.decorate(response, origin: request.header("Origin"))
    }

    private static let acceptPatch = PatchForm.acceptedMediaTypes.joined(separator: ", ")
}

extension RequestTarget.Route {
    /// The metrics label: the endpoint, never the path (labels must stay few).
    var label: String {
        switch self {
        case .files(let file): file.isDirectory ? "listing" : "files"
        case .search: "search"
        case .view: "view"
        case .assets: "assets"
        case .healthz: "healthz"
        case .metrics: "metrics"
        case .home: "home"
        }
    }
}
