import ByteSearch
import HTTPSemantics

/// The contract's search answer:
/// `{"path", "size", "count", "truncated", "next", "matches": [{"offset", "length", "line", "text"}]}`
/// (match objects as ``MatchRendering`` writes them).
enum SearchResultsJSON {
    static func encode(
        path: String, size: Int, outcome: SearchOutcome, searcher: Searcher,
        bytes: UnsafeRawBufferPointer, rendering: MatchRendering = .plain
    ) throws(SearchError) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(128 + outcome.matches.count * 160)
        out += Array(#"{"path":"#.utf8)
        JSONText.appendStringLiteral(path.utf8, to: &out)
        out += Array(
            #","size":\#(size),"count":\#(json(outcome.count)),"truncated":\#(outcome.truncated),"next":\#(json(outcome.next)),"matches":["#
                .utf8)
        for (index, match) in outcome.matches.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            try rendering.append(match, bytes: bytes, to: &out)
        }
        out += Array("]}".utf8)
        return out
    }

    static func json(_ value: Int?) -> String { value.map(String.init) ?? "null" }
}
