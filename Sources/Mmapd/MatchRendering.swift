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

    static let plain = MatchRendering()

    init(lineNumbers: Bool = true, before: Int = 0, after: Int = 0) {
        self.lineNumbers = lineNumbers
        self.before = before
        self.after = after
    }

    init(_ parameters: SearchParameters) {
        self.init(lineNumbers: parameters.lineNumbers, before: parameters.before, after: parameters.after)
    }

    /// Appends one match object read from `bytes` (the buffer the match offsets refer to), its
    /// offset written as `origin` + the offset in `bytes` (a buffer that starts inside the file).
    func append(_ match: SearchMatch, path: [UInt8]? = nil, bytes: UnsafeRawBufferPointer, origin: Int = 0,
                to out: inout [UInt8]) throws(SearchError) {
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
            let context = try ContextLines.around(offset: match.offset, length: match.length, before: before, after: after, in: bytes)
            if before > 0 { Self.appendLines(context.before, key: Self.beforeKey, to: &out) }
            if after > 0 { Self.appendLines(context.after, key: Self.afterKey, to: &out) }
        }
        out.append(UInt8(ascii: "}"))
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
