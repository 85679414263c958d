import HTTPSemantics

/// The contract's tree-search answer: `{"path", "files_searched", "files_matched",
/// "bytes_searched", "skipped", "count", "truncated", "next", "matches", "counts"?}` (`counts` only
/// with `limit=0`); the NDJSON summary line holds the same keys but `matches`.
enum TreeSearchJSON {
    /// The whole JSON answer around already rendered, comma-separated match objects.
    static func answer(path: String, summary: TreeSearchRun.Summary, matches: [UInt8]) -> [UInt8] {
        var out = head(path: path, summary: summary)
        out += Array(#","matches":["#.utf8)
        out += matches
        out.append(UInt8(ascii: "]"))
        appendCounts(summary, to: &out)
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// The NDJSON summary line (without its newline).
    static func summary(path: String, summary: TreeSearchRun.Summary) -> [UInt8] {
        var out = head(path: path, summary: summary)
        appendCounts(summary, to: &out)
        out.append(UInt8(ascii: "}"))
        return out
    }

    private static func head(path: String, summary: TreeSearchRun.Summary) -> [UInt8] {
        var out = Array(#"{"path":"#.utf8)
        JSONText.appendStringLiteral(Array(path.utf8), to: &out)
        let count = summary.count.map(String.init) ?? "null"
        let next = summary.next.map { "\"\($0.encoded)\"" } ?? "null"
        out += Array(
            #","files_searched":\#(summary.filesSearched),"files_matched":\#(summary.filesMatched),"bytes_searched":\#(summary.bytesSearched),"skipped":\#(summary.skipped),"count":\#(count),"truncated":\#(summary.truncated),"next":\#(next)"#
                .utf8)
        return out
    }

    private static func appendCounts(_ summary: TreeSearchRun.Summary, to out: inout [UInt8]) {
        guard summary.listsCounts else { return }
        out += Array(#","counts":["#.utf8)
        for (index, entry) in summary.counts.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out += Array(#"{"path":"#.utf8)
            JSONText.appendStringLiteral(entry.path, to: &out)
            out += Array(#","count":\#(entry.count)}"#.utf8)
        }
        out.append(UInt8(ascii: "]"))
    }
}
