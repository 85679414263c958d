/// An RFC 9457 problem: the body of every error answer, as `application/problem+json`.
///
/// The `type` member is left out, which RFC 9457 §4.2.1 reads as `about:blank`; with that type
/// the `title` should be the status's reason phrase, and the constructors default it so.
///
/// It is also the `Error` the parsers in this module throw, so a handler can turn any parse
/// failure into an answer without translating it.
///
/// **Never put server filesystem paths (the root directory, resolved targets, `errno` strings
/// that name files) into `detail` or an extension member.** This type carries what it is given;
/// the rule is the callers' to keep. Request paths as the client sent them are fine.
public struct ProblemDetails: Error, Sendable, Hashable {
    /// The media type of ``json``.
    public static let mediaType = "application/problem+json"

    /// The HTTP status code, repeated in the body as RFC 9457 asks.
    public let status: Int
    /// A short, fixed summary of the problem type.
    public let title: String
    /// What went wrong with this request, in words a client developer can act on.
    public let detail: String
    /// Further members after `title`, `status` and `detail`, in order (e.g. `offset` of a
    /// regular-expression error).
    public let extensions: [Member]

    /// A member beyond the standard three.
    public struct Member: Sendable, Hashable {
        public let name: String
        public let value: Value

        public init(_ name: String, _ value: Value) {
            self.name = name
            self.value = value
        }
    }

    /// The JSON values an extension member may hold.
    public enum Value: Sendable, Hashable {
        case integer(Int64)
        case string(String)
        case bool(Bool)
    }

    /// - Parameters:
    ///   - title: Defaults to the reason phrase of `status` ("Error" for unknown codes).
    ///   - extensions: Must not reuse `type`, `title`, `status`, `detail` or `instance`:
    ///     a second `status` in the body would contradict the first.
    public init(status: Int, title: String? = nil, detail: String, extensions: [Member] = []) {
        precondition(
            extensions.allSatisfy { !Self.reservedMemberNames.contains($0.name) },
            "extension member reuses a standard problem-details member name"
        )
        self.status = status
        self.title = title ?? Self.reasonPhrase(status)
        self.detail = detail
        self.extensions = extensions
    }

    /// The body: `{"title":…,"status":…,"detail":…,…}` in UTF-8.
    public var json: [UInt8] {
        var output: [UInt8] = []
        output.append(contentsOf: #"{"title":"#.utf8)
        JSONText.appendStringLiteral(title.utf8, to: &output)
        output.append(contentsOf: #","status":"#.utf8)
        output.append(contentsOf: String(status).utf8)
        output.append(contentsOf: #","detail":"#.utf8)
        JSONText.appendStringLiteral(detail.utf8, to: &output)
        for member in extensions {
            output.append(UInt8(ascii: ","))
            JSONText.appendStringLiteral(member.name.utf8, to: &output)
            output.append(UInt8(ascii: ":"))
            switch member.value {
            case .integer(let number): output.append(contentsOf: String(number).utf8)
            case .string(let text): JSONText.appendStringLiteral(text.utf8, to: &output)
            case .bool(let flag): output.append(contentsOf: (flag ? "true" : "false").utf8)
            }
        }
        output.append(UInt8(ascii: "}"))
        return output
    }

    /// Client input for quoting in a `detail`: in single quotes, cut after 64 bytes, bytes that
    /// are not UTF-8 shown as U+FFFD. Echoing is what makes a 400 actionable; the cut keeps a
    /// huge header from being mirrored back whole.
    public static func quoted(_ bytes: some Collection<UInt8>) -> String {
        let limit = 64
        let text = String(decoding: bytes.prefix(limit), as: UTF8.self)
        return "'" + text + (bytes.count > limit ? "…'" : "'")
    }

    private static let reservedMemberNames: Set<String> = ["type", "title", "status", "detail", "instance"]

    private static func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 408: "Request Timeout"
        case 409: "Conflict"
        case 411: "Length Required"
        case 412: "Precondition Failed"
        case 413: "Content Too Large"
        case 414: "URI Too Long"
        case 415: "Unsupported Media Type"
        case 416: "Range Not Satisfiable"
        case 421: "Misdirected Request"
        case 422: "Unprocessable Content"
        case 429: "Too Many Requests"
        case 431: "Request Header Fields Too Large"
        case 500: "Internal Server Error"
        case 501: "Not Implemented"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        case 507: "Insufficient Storage"
        default: "Error"
        }
    }
}

extension ProblemDetails {
    /// 400: the request is malformed; `detail` says which part and how.
    public static func badRequest(_ detail: String, extensions: [Member] = []) -> ProblemDetails {
        ProblemDetails(status: 400, detail: detail, extensions: extensions)
    }

    /// 401 for a missing or wrong bearer token (send `WWW-Authenticate: Bearer` with it).
    public static func unauthorized(_ detail: String) -> ProblemDetails {
        ProblemDetails(status: 401, detail: detail)
    }

    /// 403: understood, but not permitted (e.g. the file is not writable).
    public static func forbidden(_ detail: String) -> ProblemDetails {
        ProblemDetails(status: 403, detail: detail)
    }

    /// 404 with one fixed body. A missing file, a path that tries to leave the root and a symlink
    /// pointing outside it must be indistinguishable, so nobody gets to word their own 404.
    public static func notFound() -> ProblemDetails {
        ProblemDetails(status: 404, detail: "No file exists at this path.")
    }

    /// 405 (send `Allow` with it).
    public static func methodNotAllowed(_ detail: String) -> ProblemDetails {
        ProblemDetails(status: 405, detail: detail)
    }

    /// 409: the request conflicts with what is there (a PUT over a directory, a missing parent).
    public static func conflict(_ detail: String) -> ProblemDetails {
        ProblemDetails(status: 409, detail: detail)
    }

    /// 412: an `If-Match` / `If-Unmodified-Since` precondition did not hold.
    public static func preconditionFailed(_ detail: String) -> ProblemDetails {
        ProblemDetails(status: 412, detail: detail)
    }

    /// 413: the request body exceeds the configured limit.
    public static func contentTooLarge(_ detail: String) -> ProblemDetails {
        ProblemDetails(status: 413, detail: detail)
    }

    /// 415: a body type (or content coding) the server does not accept.
    public static func unsupportedMediaType(_ detail: String) -> ProblemDetails {
        ProblemDetails(status: 415, detail: detail)
    }

    /// 416: no requested range is satisfiable, or a PATCH starts past the end of the file.
    public static func rangeNotSatisfiable(_ detail: String) -> ProblemDetails {
        ProblemDetails(status: 416, detail: detail)
    }

    /// 421: the request names a host this server does not answer for (`--allowed-hosts`).
    public static func misdirectedRequest(_ detail: String) -> ProblemDetails {
        ProblemDetails(status: 421, detail: detail)
    }

    /// 500: a fault on our side; the detail must not leak internals (paths, errno texts).
    public static func internalServerError(_ detail: String) -> ProblemDetails {
        ProblemDetails(status: 500, detail: detail)
    }

    /// 503: temporarily unable to serve (shutting down, a search budget exhausted).
    public static func serviceUnavailable(_ detail: String) -> ProblemDetails {
        ProblemDetails(status: 503, detail: detail)
    }

    /// 507: the file system has no room for the write.
    public static func insufficientStorage(_ detail: String) -> ProblemDetails {
        ProblemDetails(status: 507, detail: detail)
    }
}
