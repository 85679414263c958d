/// The query of a viewer page, `/view/<path>?…`: where it opens and how it shows the file.
///
/// | name | meaning |
/// |---|---|
/// | `line` | open at this line (1-based) |
/// | `offset` | open at the line holding this byte (0-based); past the end opens at the end |
/// | `length` | with `offset`: highlight this many bytes from it (a search match) |
/// | `mode` | `text` or `hex`; absent: decided by the file's first bytes |
/// | `expires`, `signature` | a signed link's grant (access control reads them, `PageLinks` carries them on) |
///
/// With both `line` and `offset` (a search hit's link), `line` is the number of the line that
/// holds `offset`, which spares the page a count of the newlines before it. Anything else in
/// the query is ignored, as on `/files/`.
public struct ViewerParameters: Sendable, Equatable {
    public enum Mode: String, Sendable {
        case text, hex
    }

    public var line: Int64?
    public var offset: Int64?
    public var length: Int64?
    public var mode: Mode?

    /// - Throws: 400 for a line below 1, a negative offset or length, a length without an
    ///   offset, an unknown mode, or a value that is not a decimal number.
    public init(_ query: QueryParameters) throws(ProblemDetails) {
        line = try query.int64("line")
        offset = try query.int64("offset")
        length = try query.int64("length")
        if let line, line < 1 { throw .badRequest("The query parameter 'line' must be at least 1, not \(line).") }
        if let offset, offset < 0 { throw .badRequest("The query parameter 'offset' must not be negative, not \(offset).") }
        if let length, length < 0 { throw .badRequest("The query parameter 'length' must not be negative, not \(length).") }
        if length != nil, offset == nil { throw .badRequest("The query parameter 'length' needs an 'offset' to start from.") }
        if let name = query.bytes("mode") {
            guard let mode = Mode(rawValue: String(decoding: name, as: UTF8.self)) else {
                throw .badRequest("The query parameter 'mode' must be 'text' or 'hex', not \(ProblemDetails.quoted(name)).")
            }
            self.mode = mode
        }
    }
}
