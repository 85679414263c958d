import HTTPSemantics
import MicroHTTP

/// Maps each request to the handler of its route and method; answers 404/405 for the rest.
struct Routes: RequestHandler {
    let files: FileReads
    let patches: FilePatches
    let searches: FileSearches
    let accessLog: AccessLog
    let metrics: ServiceMetrics
    let crossOrigin: CrossOrigin
    /// What /metrics reads at scrape time.
    let scrape: @Sendable () -> [UInt8]

    func begin(_ request: Request) -> Disposition {
        let target: RequestTarget
        do {
            target = try RequestTarget(parsing: request.target)
        } catch {
            return .respond(Responses.problem(error))
        }
        let method = request.method
        request.route = target.route.label
        if method == "OPTIONS" { return .respond(crossOrigin.preflight(origin: request.header("Origin"))) }
        switch target.route {
        case .files(let file):
            switch method {
            case "GET", "HEAD": return .respond(files.respond(to: request, file: file))
            case "PATCH": return patches.begin(request, file: file)
            default: return .respond(Responses.methodNotAllowed(method, allowed: patches.writable ? ["GET", "HEAD", "PATCH"] : ["GET", "HEAD"]))
            }
        case .search(let file):
            guard method == "GET" else { return .respond(Responses.methodNotAllowed(method, allowed: ["GET"])) }
            return searches.begin(request, file: file, query: target.query)
        case .healthz:
            guard method == "GET" || method == "HEAD" else { return .respond(Responses.methodNotAllowed(method, allowed: ["GET", "HEAD"])) }
            return .respond(Responses.text("ok\n"))
        case .metrics:
            guard method == "GET" || method == "HEAD" else { return .respond(Responses.methodNotAllowed(method, allowed: ["GET", "HEAD"])) }
            return .respond(Responses.text(String(decoding: scrape(), as: UTF8.self), contentType: "text/plain; version=0.0.4; charset=utf-8"))
        }
    }

    func completed(_ request: Request) {
        metrics.recordRequest(route: request.route, method: request.method, status: request.status, bytes: request.bodyLength,
                              duration: ContinuousClock.now - request.startedAt)
        accessLog.record(request)
    }

    func decorate(_ response: Response, for request: Request) -> Response {
        if response.status >= 500, case .bytes(let body) = response.body {
            request.failureDetail = String(decoding: body.prefix(512), as: UTF8.self)
        }
        return crossOrigin.decorate(response, origin: request.header("Origin"))
    }
}

extension RequestTarget.Route {
    /// The metrics label: the endpoint, never the path (labels must stay few).
    var label: String {
        switch self {
        case .files(let file): file.isDirectory ? "listing" : "files"
        case .search: "search"
        case .healthz: "healthz"
        case .metrics: "metrics"
        }
    }
}
