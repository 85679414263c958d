/// Percent-encoding (RFC 3986 §2.1) of names for links: the inverse of ``PercentDecoding`` for
/// one path segment.
///
/// Every byte outside RFC 3986's *unreserved* set (`A-Z a-z 0-9 - . _ ~`) is escaped, including
/// the sub-delimiters a path would allow. That is stricter than needed, on purpose: a name with
/// `:` must not read as a scheme in a relative link (`a:b`), `'` and `"` must not end an HTML
/// attribute or the regular expressions some clients parse listings with (fsspec), `?` and `#`
/// must not start a query or fragment, and `&` must not need HTML escaping.
public enum PercentEncoding {
    /// `bytes` as one path segment: a `/` inside it is escaped too.
    public static func segment(_ bytes: some Sequence<UInt8>) -> String {
        var output: [UInt8] = []
        append(segment: bytes, to: &output)
        return String(decoding: output, as: UTF8.self)
    }

    /// Segments joined with `/`, each encoded (`["a b", "c"]` → `a%20b/c`).
    public static func path(_ segments: [String]) -> String {
        segments.map { segment($0.utf8) }.joined(separator: "/")
    }

    /// Appends the encoding of `bytes` to `output` (a page under construction).
    public static func append(segment bytes: some Sequence<UInt8>, to output: inout [UInt8]) {
        // Most names need no escape: one scan and one copy (a listing encodes every name twice).
        if bytes.withContiguousStorageIfAvailable({ buffer in
            guard buffer.allSatisfy(isUnreserved) else { return false }
            output.append(contentsOf: buffer)
            return true
        }) == true {
            return
        }
        for byte in bytes {
            if isUnreserved(byte) {
                output.append(byte)
            } else {
                output.append(UInt8(ascii: "%"))
                output.append(hexDigits[Int(byte >> 4)])
                output.append(hexDigits[Int(byte & 0x0F)])
            }
        }
    }

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            true
        default:
            false
        }
    }

    private static let hexDigits = Array("0123456789ABCDEF".utf8)
}
