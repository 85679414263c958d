import ByteSearch
import HTTPSemantics
import MappedFiles
import MicroHTTP

// The one place where storage and search errors become HTTP answers: handlers answer with
// `Response.problem(for: error)`, or `Response.problem(forThrown:)` for a step that throws both
// its own problems and storage errors, and nothing else decides what a client is told about a file.

extension Response {
    /// The answer for what a handler's step threw, when it throws both rules it checked itself
    /// (`ProblemDetails`, as they are) and storage or search errors (through their mappings
    /// below, the error value kept as the logged cause of a 5xx): the step calls storage with a
    /// plain `try` and answers every failure here, as Hummingbird's handlers throw
    /// `HTTPResponseError`s to one boundary. Anything else is a 500 naming the error.
    static func problem(forThrown error: any Error) -> Response {
        switch error {
        case let problem as ProblemDetails: .problem(problem)
        case let known as any ProblemConvertible: .problem(for: known)
        default: .problem(for: UnmappedError(error: error))
        }
    }
}

/// An error no mapping knows: a server error, logged by its description.
private struct UnmappedError: ProblemConvertible, CustomStringConvertible {
    let error: any Error
    var problem: ProblemDetails { .internalServerError("The request failed inside the server.") }
    var description: String { String(describing: error) }
}

/// An error that has one HTTP answer.
protocol ProblemConvertible: Error {
    var problem: ProblemDetails { get }
}

extension FileAccessError: ProblemConvertible {
    /// The answer for a file that cannot be read or written. Every way of not reaching a file
    /// (missing, outside the root, refused by permissions, not a regular file) is the same 404,
    /// so probing reveals nothing about what lies outside or around the root. System errors are
    /// reported without paths.
    var problem: ProblemDetails {
        switch self {
        case .notFound, .outsideRoot, .notRegularFile, .permissionDenied, .isDirectory: .notFound()
        case .notWritable: .forbidden("The file is not writable.")
        case .noSpace: .insufficientStorage("No space left for this write; nothing was changed.")
        case .changedWhileReading: .serviceUnavailable("The file changed while it was being read; retry the request.")
        case .system(let errno): .internalServerError("The file could not be read (\(errno)).")
        }
    }
}

extension ResolvedEntry.Failure: ProblemConvertible {
    /// The answer for a path a PUT or DELETE cannot name an entry by: outside the root like a
    /// missing file; a missing directory on the way is a conflict with what is there (409).
    var problem: ProblemDetails {
        switch self {
        case .notFound: .notFound()
        case .missingParent: .conflict("The directory this file would be in does not exist; create it first.")
        case .system(let code): FileAccessError.system(.init(rawValue: code)).problem
        }
    }
}

extension SearchError: ProblemConvertible {
    var problem: ProblemDetails {
        switch self {
        case .invalidPattern(let message, let offset):
            .badRequest("Invalid pattern at offset \(offset): \(message).", extensions: [.init("offset", .integer(Int64(offset)))])
        case .patternTooLong(let limit):
            .badRequest("The pattern is longer than \(limit) bytes, the most this server accepts.")
        case .budgetExceeded:
            ProblemDetails(
                status: 422, title: "Search Budget Exceeded",
                detail: "The search needed more time or backtracking than this server allows; narrow the window or simplify the pattern.")
        case .fileChanged:
            ProblemDetails(status: 409, title: "Conflict", detail: "The file was truncated while it was being searched; retry the search.")
        case .matchFailed(let message):
            .internalServerError("The search failed: \(message).")
        case .answerTooLarge(let limit):
            ProblemDetails(
                status: 422, title: "Search Answer Too Large",
                detail:
                    "The matches with their lines and context would take more than \(limit) bytes, the most this server builds for one answer (--max-search-answer-bytes); lower 'limit', 'before' or 'after', or stream the matches with 'Accept: application/x-ndjson'."
            )
        case .cancelled:
            // Nobody reads this answer: the client is gone. It shows in the access log and metrics.
            .serviceUnavailable("The search was stopped because the client disconnected.")
        }
    }
}
