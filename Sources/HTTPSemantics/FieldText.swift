/// Byte-level helpers shared by the header parsers, which work on UTF-8 bytes rather than
/// `String` so that a malformed field can never cost more than one pass.
enum FieldText {
    /// Drops OWS (space and horizontal tab, RFC 9110 §5.6.3) from both ends.
    static func trimmingWhitespace(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        let isWhitespace = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        guard let first = bytes.firstIndex(where: { !isWhitespace($0) }),
            let last = bytes.lastIndex(where: { !isWhitespace($0) })
        else { return bytes[bytes.endIndex...] }
        return bytes[first...last]
    }

    /// ASCII lowercase of one byte; field names and tokens are case-insensitive ASCII.
    static func lowercased(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
    }
}
