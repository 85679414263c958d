/// One `range-spec` of a `bytes` Range header (RFC 9110 §14.1.2), before it meets a file size.
///
/// Numbers larger than `UInt64.max` are kept as `UInt64.max`. That saturation keeps their meaning
/// exactly, because no representation is that long: a first position that large is beyond any
/// file (unsatisfiable), a last position that large is clamped to the end anyway, and a suffix
/// that large asks for the whole file.
public enum RangeSpec: Sendable, Hashable {
    /// `first-last`, or `first-` (the second value nil: through the end). The parser guarantees
    /// `first <= last`.
    case fromTo(UInt64, UInt64?)
    /// `-n`: the last `n` bytes.
    case suffix(UInt64)
}

/// What a request's `Range` field value asks for (RFC 9110 §14.2).
public enum RangeHeader: Sendable, Equatable {
    /// Not a `bytes` range: the server serves the whole representation with 200. RFC 9110 §14.2
    /// has an origin server ignore a range unit it does not understand.
    case ignored
    /// A `bytes` range set that breaks the grammar, or that holds a range with `last < first`
    /// (RFC 9110 §14.1.1: such a ranges-specifier is invalid). The server answers 416, as nginx
    /// and Go do, so that a client learns its header was wrong instead of getting 200 silently.
    case invalid
    /// The range specs in the order the client sent them.
    case specs([RangeSpec])

    /// Parses a `Range` field value.
    ///
    /// The grammar is RFC 9110 §14.1.1 (`ranges-specifier = range-unit "=" range-set`), read the
    /// way Apache, nginx and Go read it:
    /// - the unit is compared case-insensitively (§14.1) and must be followed directly by `=`;
    ///   a value that does not start with `bytes=` is ``ignored`` (as nginx does), because no
    ///   other unit exists for files;
    /// - `range-set = 1#range-spec` uses the list rule of §5.6.1: optional whitespace around
    ///   commas and empty elements (`0-1,,2-3`) are accepted, but at least one spec is needed;
    /// - whitespace around the `-` inside a spec is accepted too (`1 - 2`), which the grammar does
    ///   not allow but every major server does; it cannot change which bytes are meant;
    /// - only ASCII digits count as digits, and there is no sign, so `+1` and `--5` are invalid.
    public static func parse(_ value: String) -> RangeHeader {
        let field = FieldText.trimmingWhitespace(Array(value.utf8)[...])
        guard field.count >= unitPrefix.count,
            zip(field, unitPrefix).allSatisfy({ FieldText.lowercased($0) == $1 })
        else { return .ignored }

        var specs: [RangeSpec] = []
        // The comma-separated elements, walked in place (no array of slices per request).
        var rest = field.dropFirst(unitPrefix.count)
        while true {
            let comma = rest.firstIndex(of: UInt8(ascii: ",")) ?? rest.endIndex
            let item = FieldText.trimmingWhitespace(rest[..<comma])
            if !item.isEmpty {
                guard let spec = parseSpec(item) else { return .invalid }
                specs.append(spec)
            }
            guard comma != rest.endIndex else { break }
            rest = rest[(comma + 1)...]
        }
        return specs.isEmpty ? .invalid : .specs(specs)
    }

    private static let unitPrefix = Array("bytes=".utf8)

    /// `int-range` (`a-b`, `a-`) or `suffix-range` (`-n`).
    private static func parseSpec(_ item: ArraySlice<UInt8>) -> RangeSpec? {
        guard let dash = item.firstIndex(of: UInt8(ascii: "-")) else { return nil }
        let first = FieldText.trimmingWhitespace(item[..<dash])
        let last = FieldText.trimmingWhitespace(item[(dash + 1)...])
        if first.isEmpty {
            return isDigits(last) ? .suffix(saturatingValue(last)) : nil
        }
        guard isDigits(first) else { return nil }
        if last.isEmpty { return .fromTo(saturatingValue(first), nil) }
        guard isDigits(last), !isGreater(first, than: last) else { return nil }
        return .fromTo(saturatingValue(first), saturatingValue(last))
    }

    private static func isDigits(_ bytes: ArraySlice<UInt8>) -> Bool {
        !bytes.isEmpty && bytes.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }

    /// The decimal value of `digits`, or `UInt64.max` when it does not fit (see ``RangeSpec``).
    private static func saturatingValue(_ digits: ArraySlice<UInt8>) -> UInt64 {
        var value: UInt64 = 0
        for digit in digits {
            let (times10, overflowA) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflowB) = times10.addingReportingOverflow(UInt64(digit - UInt8(ascii: "0")))
            if overflowA || overflowB { return .max }
            value = sum
        }
        return value
    }

    /// Compares two digit strings by numeric value without converting them, so that `a > b` is
    /// detected even when both saturate to `UInt64.max`.
    private static func isGreater(_ a: ArraySlice<UInt8>, than b: ArraySlice<UInt8>) -> Bool {
        let a = a.drop { $0 == UInt8(ascii: "0") }
        let b = b.drop { $0 == UInt8(ascii: "0") }
        if a.count != b.count { return a.count > b.count }
        return b.lexicographicallyPrecedes(a)
    }
}
