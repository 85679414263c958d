import HTTPSemantics
import MappedFiles

/// `{"path": "...", "entries": [{"name", "type", "size", "mtime", "href"}]}`; names that are not
/// valid UTF-8 appear with their odd bytes escaped as `\xNN`, like search results. `href` is the
/// entry's URL relative to the listing, as the HTML links it: percent-encoded, a directory's
/// ending in `/`, followed by `hrefSuffix` (a signed link's `?expires=…&signature=…` when one
/// allowed the listing, so a program can follow it as a browser would).
enum DirectoryListingJSON {
    static func encode(path: String, entries: [DirectoryEntry], hrefSuffix: String) -> [UInt8] {
        let suffix = Array(hrefSuffix.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64 + entries.count * 96)
        out += Array(#"{"path":"#.utf8)
        JSONText.appendStringLiteral(Array(path.utf8), to: &out)
        out += Array(#","entries":["#.utf8)
        for (index, entry) in entries.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out += Array(#"{"name":"#.utf8)
            JSONText.appendStringLiteral(entry.name, to: &out)
            out += Array(
                #","type":"\#(entry.kind.rawValue)","size":\#(entry.size),"mtime":"\#(HTTPDate.format(entry.modifiedSeconds))","href":""#
                    .utf8)
            // Percent-encoding and the grant's query leave nothing JSON would escape.
            PercentEncoding.append(segment: entry.name, to: &out)
            if entry.kind == .directory { out.append(UInt8(ascii: "/")) }
            out += suffix
            out += Array(#""}"#.utf8)
        }
        out += Array("]}".utf8)
        return out
    }
}
