/// The query contract of `GET /search/<path>`, validated.
///
/// | name | meaning | default |
/// |---|---|---|
/// | `q` | pattern bytes, required and non-empty | — |
/// | `regex` | `q` is a PCRE2 pattern | false |
/// | `icase` | case-insensitive | false |
/// | `start`, `end` | byte window, Python slice rules (see ``window(fileSize:)``) | 0, size |
/// | `limit` | most matches to return, `0` = count only, at most the configured maximum | 100 |
/// | `reverse` | search from the end backwards | false |
/// | `before`, `after` | context lines around each match, 0 to ``maximumContext`` | 0 |
/// | `line_numbers` | `false`: matches carry no `line` (and nothing counts newlines) | true |
/// | `follow` | `true`: search the lines the file gains, as they complete (`tail -f \| grep`) | false |
///
/// With `follow`, `start` is where to begin (a line start; default: the start of the line that is
/// incomplete now), `limit` ends the stream after that many matches (default: no limit, and the
/// server's maximum does not apply: the answer is a stream), and `end`, `reverse`, `before` and
/// `after` are refused (a growing file has no end to search back from, and context would need
/// lines that have not been written yet), as is a literal with a newline before its last byte
/// (lines are searched one by one, so it could never match).
///
/// Unknown parameters are ignored, so clients may add their own (cache busters, tracing).
public struct SearchParameters: Sendable, Hashable {
    /// The pattern, as bytes (a literal or a PCRE2 pattern).
    public var pattern: [UInt8]
    public var isRegex: Bool
    public var isCaseInsensitive: Bool
    /// `start` as given, possibly negative; `nil` when absent (0).
    public var start: Int64?
    /// `end` as given, possibly negative; `nil` when absent (the file size).
    public var end: Int64?
    public var limit: Int
    public var isReverse: Bool
    /// Lines of context before each match's first line and after its last (grep's `-B`/`-A`).
    public var before: Int
    public var after: Int
    /// `false`: no line numbers, so no newline is counted from the start of the file.
    public var lineNumbers: Bool
    /// Search the file as it grows (`tail -f | grep`).
    public var isFollow: Bool

    /// The most context lines asked for on either side.
    public static let maximumContext = 100

    /// The `limit` when the client gives none (or the configured maximum, if that is lower).
    public static let defaultLimit = 100

    public init(
        pattern: [UInt8], isRegex: Bool = false, isCaseInsensitive: Bool = false,
        start: Int64? = nil, end: Int64? = nil, limit: Int = defaultLimit, isReverse: Bool = false,
        before: Int = 0, after: Int = 0, lineNumbers: Bool = true, isFollow: Bool = false
    ) {
        self.isFollow = isFollow
        self.pattern = pattern
        self.isRegex = isRegex
        self.isCaseInsensitive = isCaseInsensitive
        self.start = start
        self.end = end
        self.limit = limit
        self.isReverse = isReverse
        self.before = before
        self.after = after
        self.lineNumbers = lineNumbers
    }

    /// Validates `query` against the contract.
    ///
    /// - Parameter maximumLimit: The largest `limit` accepted (server configuration). A larger
    ///   one is refused rather than silently lowered, so a client never mistakes a capped answer
    ///   for the one it asked for.
    /// - Throws: 400 naming the first offending parameter, checked in the table's order.
    public init(_ query: QueryParameters, maximumLimit: Int) throws(ProblemDetails) {
        guard let pattern = query.bytes("q") else {
            throw .badRequest("The query parameter 'q' (what to search for) is required.")
        }
        guard !pattern.isEmpty else {
            throw .badRequest("The query parameter 'q' must not be empty.")
        }
        let isRegex = try query.bool("regex") ?? false
        let isCaseInsensitive = try query.bool("icase") ?? false
        let isFollow = try query.bool("follow") ?? false
        let start = try query.int64("start")
        let end = try query.int64("end")
        let limit: Int64
        if isFollow {
            limit = try query.int64("limit") ?? Int64.max
            guard limit >= 1 else {
                throw .badRequest("With follow=true, 'limit' must be at least 1 (the matches after which the stream ends), not \(limit).")
            }
        } else {
            limit = try query.int64("limit") ?? Int64(min(Self.defaultLimit, maximumLimit))
            guard limit >= 0, limit <= maximumLimit else {
                throw .badRequest("The query parameter 'limit' must be between 0 and \(maximumLimit), not \(limit).")
            }
        }
        let isReverse = try query.bool("reverse") ?? false
        var context: [Int] = []
        for name in ["before", "after"] {
            let lines = try query.int64(name) ?? 0
            guard (0...Int64(Self.maximumContext)).contains(lines) else {
                throw .badRequest("The query parameter '\(name)' must be between 0 and \(Self.maximumContext) lines, not \(lines).")
            }
            context.append(Int(lines))
        }
        self.init(
            pattern: pattern, isRegex: isRegex, isCaseInsensitive: isCaseInsensitive,
            start: start, end: end, limit: Int(clamping: limit), isReverse: isReverse,
            before: context[0], after: context[1], lineNumbers: try query.bool("line_numbers") ?? true, isFollow: isFollow
        )
        if isFollow { try checkFollow() }
    }

    /// The combinations a follow search refuses (see the type's table).
    private func checkFollow() throws(ProblemDetails) {
        if let start, start < 0 {
            throw .badRequest("With follow=true, 'start' must be a byte offset (0 or more), not \(start).")
        }
        for (name, given) in [("end", end != nil), ("reverse", isReverse), ("before", before > 0), ("after", after > 0)] where given {
            throw .badRequest(
                "With follow=true, '\(name)' is not supported: a follow search reads the lines the file gains, forward, as they complete.")
        }
        if !isRegex, let newline = pattern.firstIndex(of: 0x0A), newline != pattern.count - 1 {
            throw .badRequest(
                "With follow=true, lines are searched one at a time, so a literal with a newline before its last byte can never match.")
        }
    }
}
