import HTTPSemantics
import MicroHTTP

/// Maps each request to the handler of its route and method; answers 404/405 for the rest.
struct Routes: RequestHandler {
    let files: FileReads
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
            guard method == "GET" || method == "HEAD" else { return .respond(Responses.methodNotAllowed(method, allowed: ["GET", "HEAD"])) }
            return .respond(files.respond(to: request, file: file))
        case .search:
            return .respond(Responses.problem(.notFound()))
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
