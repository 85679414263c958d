/// A `bytes` Content-Range field value (RFC 9110 §14.4), in the three forms it takes:
///
/// - `bytes 0-499/1234`: a 206 answer, or a PATCH body's place in a file of known length;
/// - `bytes 0-499/*`: the same with the complete length unknown (what a Byte Range PATCH sends
///   when it does not care about the current length);
/// - `bytes */1234`: a 416 answer's `unsatisfied-range`.
public struct ContentRange: Sendable, Hashable {
    /// The enclosed bytes; nil for `bytes */len`.
    public let range: ByteRange?
    /// The representation's complete length; nil for `/*`.
    public let completeLength: UInt64?

    /// `bytes first-last/completeLength`, or `bytes first-last/*` when `completeLength` is nil.
    ///
    /// - Precondition: the range lies within `completeLength` when that is given (§14.4 calls a
    ///   `last-pos` at or beyond the complete length invalid).
    public init(range: ByteRange, completeLength: UInt64?) {
        if let completeLength {
            precondition(range.end <= completeLength, "Content-Range past the complete length")
        }
        self.range = range
        self.completeLength = completeLength
    }

    /// `bytes */completeLength`, for a 416 answer (RFC 9110 §15.5.17).
    public init(unsatisfied completeLength: UInt64) {
        self.range = nil
        self.completeLength = completeLength
    }

    /// The field value to send. Written digit by digit into one buffer: interpolating three
    /// numbers showed in a range request's profile (Benchmarks/README.md, "Profiles behind the code").
    public var headerValue: String {
        // "bytes " + 20 digits + "-" + 20 digits + "/" + 20 digits.
        String(unsafeUninitializedCapacity: 69) { buffer in
            var count = 0
            func put(_ byte: UInt8) {
                buffer[count] = byte
                count += 1
            }
            func put(_ value: UInt64) {
                var length = 1
                var probe = value
                while probe >= 10 {
                    probe /= 10
                    length += 1
                }
                // Last digit first, from the far end; division by a constant is a multiplication.
                var rest = value
                var index = count + length - 1
                repeat {
                    buffer[index] = UInt8(ascii: "0") + UInt8(rest % 10)
                    rest /= 10
                    index -= 1
                } while rest > 0
                count += length
            }
            for byte in "bytes ".utf8 { put(byte) }
            if let range {
                put(range.start)
                put(UInt8(ascii: "-"))
                put(range.last)
            } else {
                put(UInt8(ascii: "*"))
            }
            put(UInt8(ascii: "/"))
            if let completeLength { put(completeLength) } else { put(UInt8(ascii: "*")) }
            return count
        }
    }

    /// Parses a Content-Range field value; nil when it is not a valid `bytes` value.
    ///
    /// The grammar is followed exactly (unit, one space, no other whitespace inside) because this
    /// decides where a PATCH writes; only whitespace around the whole value is dropped, as a field
    /// value's surrounding OWS is not part of it (§5.5). The unit is case-insensitive (§14.1).
    /// Invalid per §14.4, and so nil: `last < first`, `last >= complete length`, and `*/*`.
    /// Numbers must fit in `UInt64` and `last` must be below `UInt64.max` (so that the end offset
    /// is representable); anything larger is rejected, not clamped, since no file has such bytes.
    public static func parse(_ value: String) -> ContentRange? {
        var rest = FieldText.trimmingWhitespace(Array(value.utf8)[...])
        guard rest.count > unitPrefix.count,
            zip(rest, unitPrefix).allSatisfy({ FieldText.lowercased($0) == $1 })
        else { return nil }
        rest = rest.dropFirst(unitPrefix.count)

        if rest.first == UInt8(ascii: "*") {
            guard rest.dropFirst().first == UInt8(ascii: "/"),
                let length = number(rest.dropFirst(2))
            else { return nil }
            return ContentRange(unsatisfied: length)
        }

        guard let dash = rest.firstIndex(of: UInt8(ascii: "-")),
            let slash = rest.firstIndex(of: UInt8(ascii: "/")), dash < slash,
            let first = number(rest[..<dash]),
            let last = number(rest[(dash + 1)..<slash]),
            let range = ByteRange(first: first, last: last)
        else { return nil }

        let lengthField = rest[(slash + 1)...]
        if lengthField.elementsEqual([UInt8(ascii: "*")]) {
            return ContentRange(range: range, completeLength: nil)
        }
        guard let length = number(lengthField), range.end <= length else { return nil }
        return ContentRange(range: range, completeLength: length)
    }

    private static let unitPrefix = Array("bytes ".utf8)

    /// `1*DIGIT` as a `UInt64`; nil when empty, not all ASCII digits, or too large.
    private static func number(_ digits: ArraySlice<UInt8>) -> UInt64? {
        guard !digits.isEmpty else { return nil }
        var value: UInt64 = 0
        for byte in digits {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            let (times10, overflowA) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflowB) = times10.addingReportingOverflow(UInt64(byte - UInt8(ascii: "0")))
            guard !overflowA, !overflowB else { return nil }
            value = sum
        }
        return value
    }
}
