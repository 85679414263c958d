/// The query parameters that select a view of `GET /files/<path>` instead of the file itself.
///
/// | name | meaning |
/// |---|---|
/// | `lines` | a ``LineSelection`` (`A-B`, `A-`, `A`, `-N`) |
/// | `follow` | `true`: stream the file as it grows (`tail -f`) |
/// | `offset` | with `follow`: the byte to start from (default: the current end) |
/// | `line_numbers` | `false`: a tail (`lines=-N`) is not numbered (no `Mmapd-Lines`), so only its bytes are read |
///
/// With `follow`, only `lines=-N` gives a starting point (the last N lines); `lines=A-B` and
/// `offset` together with `lines` are refused (400), since a stream has no last line. Every other
/// parameter is ignored, `offset` and `line_numbers` too when they do not apply.
public struct FileViewParameters: Sendable, Hashable {
    public var lines: LineSelection?
    public var follow: Bool
    /// Where a follow starts; nil: at the end, or at the last `lines` lines.
    public var offset: Int64?
    public var isNumbered: Bool

    public init(lines: LineSelection? = nil, follow: Bool = false, offset: Int64? = nil, isNumbered: Bool = true) {
        self.lines = lines
        self.follow = follow
        self.offset = offset
        self.isNumbered = isNumbered
    }

    /// A cheap test before parsing: could `rawQuery` select a view at all? (Most GETs carry no
    /// query, and the parse is skipped for them.)
    public static func mayApply(to rawQuery: String?) -> Bool {
        guard let rawQuery, !rawQuery.isEmpty else { return false }
        // `l` and `f` begin the names; `%` may encode them.
        return rawQuery.utf8.contains { $0 == UInt8(ascii: "l") || $0 == UInt8(ascii: "f") || $0 == UInt8(ascii: "%") }
    }

    /// The view `query` selects, or nil for the file itself (neither `lines` nor `follow=true`).
    ///
    /// - Throws: 400 for a bad `lines`, `follow`, `offset` or `line_numbers` value, or a
    ///   combination that names no stream.
    public static func parse(_ query: QueryParameters) throws(ProblemDetails) -> FileViewParameters? {
        let lines = try query.bytes("lines").map { value throws(ProblemDetails) in try LineSelection(parsing: value) }
        let follow = try query.bool("follow") ?? false
        guard lines != nil || follow else { return nil }
        let isNumbered = try query.bool("line_numbers") ?? true
        guard follow else { return FileViewParameters(lines: lines, isNumbered: isNumbered) }
        let offset = try query.int64("offset")
        if let offset, offset < 0 {
            throw .badRequest("The query parameter 'offset' must be a byte offset (0 or more), not \(offset).")
        }
        switch lines {
        case .range?:
            throw .badRequest("With follow=true, 'lines' can only be -N (start with the last N lines).")
        case .last? where offset != nil:
            throw .badRequest("With follow=true, give 'offset' or 'lines=-N' as the starting point, not both.")
        default:
            return FileViewParameters(lines: lines, follow: true, offset: offset, isNumbered: isNumbered)
        }
    }
}
