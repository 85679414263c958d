/// Text and attribute values for the pages mmapd generates: `&`, `<`, `>`, `"` and `'` escaped,
/// so a file named `<script>` is shown as a name and never read as markup.
enum HTMLText {
    static func append(escaping bytes: some Sequence<UInt8>, to output: inout [UInt8]) {
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

    static func escaped(_ text: String) -> String {
        var output: [UInt8] = []
        append(escaping: text.utf8, to: &output)
        return String(decoding: output, as: UTF8.self)
    }
}
