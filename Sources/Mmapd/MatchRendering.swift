import ByteSearch
import HTTPSemantics

/// How a match object is written, the same for one file and for a tree (JSON and NDJSON):
/// `{"path"?, "offset", "length", "line"?, "text", "before"?, "after"?}`. The path comes first
/// (tree searches), `line` is left out with `line_numbers=false`, the context keys are absent
/// when no context was asked for.
struct MatchRendering: Sendable {
    var lineNumbers = true
    var before = 0
    var after = 0
    /// The most bytes `out` may hold after an append: a match is at most a 4 KiB window of its
    /// line plus 200 context lines of as much, JSON-escaped up to six times (`\u0001`), so
    /// `limit` matches with context can reach gigabytes (`answerTooLarge` beyond).
    var answerLimit = Int.max

    static let plain = MatchRendering()

    /// Output is handed on (to a stream) in pieces of about this size rather than whole batches,
    /// so what a stream holds stays small however large its matches are.
    static let streamPieceBytes = 1 << 20

    init(lineNumbers: Bool = true, before: Int = 0, after: Int = 0, answerLimit: Int = .max) {
        self.lineNumbers = lineNumbers
        self.before = before
        self.after = after
        self.answerLimit = answerLimit
    }

    init(_ parameters: SearchParameters, answerLimit: Int = .max) {
        self.init(lineNumbers: parameters.lineNumbers, before: parameters.before, after: parameters.after, answerLimit: answerLimit)
    }

    /// Appends one match object read from `bytes` (the buffer the match offsets refer to), its
    /// offset written as `origin` + the offset in `bytes` (a buffer that starts inside the file).
    ///
    /// - Throws: ``SearchError/answerTooLarge(limit:)`` when `out` then holds more than
    ///   ``answerLimit`` bytes; the context, the large part, is checked before it is rendered.
    func append(
        _ match: SearchMatch, path: [UInt8]? = nil, bytes: UnsafeRawBufferPointer, origin: Int = 0,
        to out: inout [UInt8]
    ) throws(SearchError) {
        let line = try Searcher.lineText(at: match.offset, length: match.length, in: bytes)
        out.append(UInt8(ascii: "{"))
        if let path {
            out += Self.pathKey
            JSONText.appendStringLiteral(path, to: &out)
            out.append(UInt8(ascii: ","))
        }
        out += Array(#""offset":\#(origin + match.offset),"length":\#(match.length),"#.utf8)
        if lineNumbers { out += Array(#""line":\#(match.line),"#.utf8) }
        out += Self.textKey
        JSONText.appendStringLiteral(line.bytes, to: &out)
        if before > 0 || after > 0 {
            guard out.count <= answerLimit else { throw .answerTooLarge(limit: answerLimit) }
            let context = try ContextLines.around(offset: match.offset, length: match.length, before: before, after: after, in: bytes)
            if before > 0 { Self.appendLines(context.before, key: Self.beforeKey, to: &out) }
            if after > 0 { Self.appendLines(context.after, key: Self.afterKey, to: &out) }
        }
        out.append(UInt8(ascii: "}"))
        guard out.count <= answerLimit else { throw .answerTooLarge(limit: answerLimit) }
    }

    private static func appendLines(_ lines: [LineText], key: [UInt8], to out: inout [UInt8]) {
        out += key
        for (index, line) in lines.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            JSONText.appendStringLiteral(line.bytes, to: &out)
        }
        out.append(UInt8(ascii: "]"))
    }

    private static let pathKey = Array(#""path":"#.utf8)
    private static let textKey = Array(#""text":"#.utf8)
    private static let beforeKey = Array(#","before":["#.utf8)
    private static let afterKey = Array(#","after":["#.utf8)
}
