/// Text and attribute values for the pages mmapd generates: `&`, `<`, `>`, `"` and `'` escaped,
/// so a file named `<script>` is shown as a name and never read as markup.
enum HTMLText {
    static func append(escaping bytes: some Sequence<UInt8>, to output: inout [UInt8]) {
        // Most text needs no escape: one scan and one copy (a listing escapes every name).
        if bytes.withContiguousStorageIfAvailable({ buffer in
            guard !buffer.contains(where: needsEscape) else { return false }
            output.append(contentsOf: buffer)
            return true
        }) == true {
            return
        }
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "&"): output += Array("&amp;".utf8)
            case UInt8(ascii: "<"): output += Array("&lt;".utf8)
            case UInt8(ascii: ">"): output += Array("&gt;".utf8)
            case UInt8(ascii: "\""): output += Array("&quot;".utf8)
            case UInt8(ascii: "'"): output += Array("&#39;".utf8)
            default: output.append(byte)
            }
        }
    }

    private static func needsEscape(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "&") || byte == UInt8(ascii: "<") || byte == UInt8(ascii: ">") || byte == UInt8(ascii: "\"")
            || byte == UInt8(ascii: "'")
    }

    static func escaped(_ text: String) -> String {
        var output: [UInt8] = []
        append(escaping: text.utf8, to: &output)
        return String(decoding: output, as: UTF8.self)
    }
}
