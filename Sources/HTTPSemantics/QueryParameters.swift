/// The parameters of a query string (`a=b&c=d`), form-decoded.
///
/// - Pairs are separated by `&` only; empty pieces (`a=1&&b=2`) are skipped. A piece without
///   `=` is a name with an empty value.
/// - Names and values are percent-decoded once with `+` as space. A malformed escape makes the
///   whole query a 400: guessing what the client meant could search for the wrong thing.
/// - Values are bytes: `q=%FF%00` is a legitimate two-byte search pattern.
/// - **A repeated name: the last occurrence wins** (except where a caller asks for
///   ``allBytes(_:)``). That lets a client override a parameter by
///   appending to a URL it was given (`…&limit=5`), the way most form handlers behave.
/// - Names are compared byte for byte (case-sensitive); unknown names are simply never asked for.
public struct QueryParameters: Sendable {
    private let pairs: [(name: [UInt8], value: [UInt8])]

    /// Parses a raw query (without the `?`); `nil` means no query at all.
    ///
    /// - Throws: 400 when a name or value holds a malformed percent-escape.
    public init(parsing rawQuery: String?) throws(ProblemDetails) {
        var pairs: [(name: [UInt8], value: [UInt8])] = []
        for piece in (rawQuery ?? "").utf8.split(separator: UInt8(ascii: "&")) {
            let equals = piece.firstIndex(of: UInt8(ascii: "="))
            let rawName = piece[..<(equals ?? piece.endIndex)]
            let rawValue = equals.map { piece[piece.index(after: $0)...] } ?? piece[piece.endIndex...]
            guard let name = try? PercentDecoding.decode(rawName, as: .query),
                let value = try? PercentDecoding.decode(rawValue, as: .query)
            else {
                throw .badRequest(
                    "The query parameter \(ProblemDetails.quoted(Array(rawName))) has a malformed percent-escape: '%' must be followed by two hex digits."
                )
            }
            pairs.append((name, value))
        }
        self.pairs = pairs
    }

    /// The decoded value of the last `name`, or `nil` when absent.
    public func bytes(_ name: String) -> [UInt8]? {
        pairs.last { $0.name.elementsEqual(name.utf8) }?.value
    }

    /// Every decoded value of `name`, in order: for the few parameters that are repeatable
    /// (a tree search's `glob` and `exclude`), where every occurrence counts.
    public func allBytes(_ name: String) -> [[UInt8]] {
        pairs.filter { $0.name.elementsEqual(name.utf8) }.map(\.value)
    }

    /// Whether `name` occurs at all.
    public func contains(_ name: String) -> Bool {
        pairs.contains { $0.name.elementsEqual(name.utf8) }
    }

    /// ``bytes(_:)`` as text; bytes that are not UTF-8 become U+FFFD.
    public func string(_ name: String) -> String? {
        bytes(name).map { String(decoding: $0, as: UTF8.self) }
    }

    /// A decimal integer, optionally negative (`-10`): `nil` when absent.
    ///
    /// - Throws: 400 for anything else, including an empty value, `+5`, spaces and overflow.
    public func int64(_ name: String) throws(ProblemDetails) -> Int64? {
        guard let value = bytes(name) else { return nil }
        let digits = value.first == UInt8(ascii: "-") ? value.dropFirst() : value[...]
        guard !digits.isEmpty, digits.allSatisfy({ UInt8(ascii: "0")...UInt8(ascii: "9") ~= $0 }),
            let number = Int64(String(decoding: value, as: UTF8.self))
        else {
            throw .badRequest("The query parameter '\(name)' must be a decimal integer, not \(ProblemDetails.quoted(value)).")
        }
        return number
    }

    /// `true`/`false` (any letter case, so Python's `True` works) or `1`/`0`: `nil` when absent.
    ///
    /// - Throws: 400 for anything else, including an empty value (`?regex`).
    public func bool(_ name: String) throws(ProblemDetails) -> Bool? {
        guard let value = bytes(name) else { return nil }
        switch String(decoding: value, as: UTF8.self).lowercased() {
        case "true", "1": return true
        case "false", "0": return false
        default:
            throw .badRequest("The query parameter '\(name)' must be true, false, 1 or 0, not \(ProblemDetails.quoted(value)).")
        }
    }
}
