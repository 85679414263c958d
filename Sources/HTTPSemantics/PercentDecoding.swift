/// Percent-decoding (RFC 3986 §2.1) of request-target pieces, done exactly once.
///
/// Decoding is strict: a `%` that is not followed by two hexadecimal digits is an error rather
/// than a literal `%`. Being lenient here would give one byte sequence two meanings (`%zz` as
/// text, `%2e` as an escape), and the confinement checks in ``RequestTarget`` rely on every
/// escape having exactly one reading.
///
/// The result is bytes, not a `String`: a decoded escape may produce any byte, including NUL and
/// sequences that are not UTF-8, and the callers decide what such bytes mean for them.
public enum PercentDecoding {
    /// Which component is being decoded; only the query treats `+` specially.
    public enum Component: Sendable {
        /// A path segment: `+` is a literal plus sign.
        case path
        /// A query name or value (`application/x-www-form-urlencoded`): `+` stands for a space.
        case query
    }

    /// Decodes every `%XX` in `encoded` once.
    ///
    /// - Throws: ``PercentDecodingError`` naming the offset of the first malformed escape.
    public static func decode(
        _ encoded: some Collection<UInt8>,
        as component: Component
    ) throws(PercentDecodingError) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(encoded.count)
        var index = encoded.startIndex
        var offset = 0
        while index != encoded.endIndex {
            let byte = encoded[index]
            if byte == UInt8(ascii: "%") {
                let high = encoded.index(after: index)
                guard high != encoded.endIndex, let highValue = hexValue(encoded[high]) else {
                    throw PercentDecodingError(offset: offset)
                }
                let low = encoded.index(after: high)
                guard low != encoded.endIndex, let lowValue = hexValue(encoded[low]) else {
                    throw PercentDecodingError(offset: offset)
                }
                output.append(highValue << 4 | lowValue)
                index = encoded.index(after: low)
                offset += 3
            } else {
                output.append(byte == UInt8(ascii: "+") && component == .query ? UInt8(ascii: " ") : byte)
                index = encoded.index(after: index)
                offset += 1
            }
        }
        return output
    }

    /// Decodes the UTF-8 bytes of `encoded`, exactly like the byte-collection overload.
    public static func decode(
        _ encoded: some StringProtocol,
        as component: Component
    ) throws(PercentDecodingError) -> [UInt8] {
        try decode(encoded.utf8, as: component)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// A `%` that does not start a valid `%XX` escape.
public struct PercentDecodingError: Error, Sendable, Hashable {
    /// Byte offset of the offending `%` within the decoded input.
    public let offset: Int
}
