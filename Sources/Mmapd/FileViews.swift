import HTTPSemantics
import MicroHTTP

/// The views of `GET /files/<path>` that query parameters select (`lines`, `follow`): parsed
/// here, answered by ``FileLines`` and ``FileFollows``. A request without them is the file's own.
struct FileViews: Sendable {
    let lines: FileLines
    let follows: FileFollows

    /// The view's disposition, or nil when the query selects none (then the file itself is served).
    func begin(_ request: Request, file: FileTarget, query: String?) -> Disposition? {
        guard !file.isDirectory, FileViewParameters.mayApply(to: query) else { return nil }
        let parameters: FileViewParameters?
        do {
            parameters = try FileViewParameters.parse(QueryParameters(parsing: query))
        } catch {
            return .respond(Response.problem(error))
        }
        guard let parameters else { return nil }
        if parameters.follow {
            return follows.begin(request, file: file, parameters: parameters)
        }
        if let selection = parameters.lines {
            return lines.begin(request, file: file, selection: selection, numbered: parameters.isNumbered)
        }
        return nil
    }
}
