import ByteSearch
import HTTPSemantics

/// The contract's search answer:
/// `{"path", "size", "count", "truncated", "next", "matches": [{"offset", "length", "line", "text"}]}`.
enum SearchResultsJSON {
    static func encode(path: String, size: Int, outcome: SearchOutcome, searcher: Searcher,
                       bytes: UnsafeRawBufferPointer) throws(SearchError) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(128 + outcome.matches.count * 160)
        out += Array(#"{"path":"#.utf8)
        JSONText.appendStringLiteral(path.utf8, to: &out)
        out += Array(#","size":\#(size),"count":\#(json(outcome.count)),"truncated":\#(outcome.truncated),"next":\#(json(outcome.next)),"matches":["#.utf8)
        for (index, match) in outcome.matches.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            try appendMatch(match, to: &out, searcher: searcher, bytes: bytes)
        }
        out += Array("]}".utf8)
        return out
    }

    /// One match object; the NDJSON stream writes the same object per line.
    static func appendMatch(_ match: SearchMatch, to out: inout [UInt8], searcher: Searcher,
                            bytes: UnsafeRawBufferPointer) throws(SearchError) {
        let line = try searcher.lineText(for: match, in: bytes)
        out += Array(#"{"offset":\#(match.offset),"length":\#(match.length),"line":\#(match.line),"text":"#.utf8)
        JSONText.appendStringLiteral(line.bytes, to: &out)
        out += Array("}".utf8)
    }

    static func json(_ value: Int?) -> String { value.map(String.init) ?? "null" }
}
