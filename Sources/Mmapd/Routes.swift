import HTTPSemantics
import MicroHTTP

/// Maps each request to the handler of its route and method; answers 404/405 for the rest.
struct Routes: RequestHandler {
    let files: FileReads
    let patches: FilePatches
    let searches: FileSearches
    let accessLog: AccessLog

    func begin(_ request: Request) -> Disposition {
        let target: RequestTarget
        do {
            target = try RequestTarget(parsing: request.target)
        } catch {
            return .respond(Responses.problem(error))
        }
        let method = request.method
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
            return .respond(Responses.problem(.notFound()))
        }
    }

    func completed(_ request: Request) {
        accessLog.record(request)
    }
}
