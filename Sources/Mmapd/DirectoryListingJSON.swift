import HTTPSemantics
import MappedFiles

/// `{"path": "...", "entries": [{"name", "type", "size", "mtime"}]}`; names that are not valid
/// UTF-8 appear with their odd bytes escaped as `\xNN`, like search results.
enum DirectoryListingJSON {
    static func encode(path: String, entries: [DirectoryEntry]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(64 + entries.count * 96)
        out += Array(#"{"path":"#.utf8)
        JSONText.appendStringLiteral(Array(path.utf8), to: &out)
        out += Array(#","entries":["#.utf8)
        for (index, entry) in entries.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out += Array(#"{"name":"#.utf8)
            JSONText.appendStringLiteral(entry.name, to: &out)
            out += Array(#","type":"\#(entry.kind.rawValue)","size":\#(entry.size),"mtime":"\#(HTTPDate.format(entry.modifiedSeconds))"}"#.utf8)
        }
        out += Array("]}".utf8)
        return out
    }
}
