/// The `Accept` request field (RFC 9110 §12.5.1), parsed for server-driven negotiation.
///
/// A listing exists as HTML and as JSON; which one a client gets depends on how much it says it
/// wants each. The rules, in the RFC's terms:
/// - Each element is a media range (`type/subtype`, `type/*` or `*/*`) with optional parameters
///   and an optional weight `q` (0 to 1, at most three decimals; default 1).
/// - The weight of a media type is the weight of the *most specific* range that matches it:
///   `text/html` beats `text/*` beats `*/*`, and a range with parameters beats one without (the
///   parameters must then all match those of the offered type, which here carries none).
/// - A type no range matches has weight 0 (not acceptable); so does one matched by `q=0`.
/// - No `Accept` at all, or an empty one, accepts everything equally.
/// - Malformed elements (a bad range, a `q` that is not a qvalue) are ignored one by one, as
///   browsers and proxies do, rather than failing the whole request: an odd header must not cost
///   a client its page. If nothing usable remains the header counts as absent.
public struct AcceptHeader: Sendable, Equatable {
    /// One usable element of the field.
    public struct Element: Sendable, Equatable {
        /// Lowercased; `*` for a wildcard.
        public let type: String
        public let subtype: String
        /// Parameters other than `q`, names lowercased.
        public let parameterCount: Int
        /// Thousandths: 0 ... 1000.
        public let weight: Int
    }

    /// The usable elements in order; empty means "accept anything".
    public let elements: [Element]

    /// Parses a field value; `nil` (no field) accepts anything.
    public init(_ fieldValue: String?) {
        guard let fieldValue else {
            elements = []
            return
        }
        elements = Self.split(fieldValue).compactMap(Self.element)
    }

    /// The weight (thousandths, 0 ... 1000) of the parameterless media type `essence`
    /// (`type/subtype`, any case) under this field.
    public func weight(of essence: String) -> Int {
        guard !elements.isEmpty else { return 1000 }
        let lowered = essence.lowercased()
        guard let slash = lowered.firstIndex(of: "/") else { return 0 }
        let type = String(lowered[..<slash])
        let subtype = String(lowered[lowered.index(after: slash)...])
        var best: (specificity: Int, weight: Int)?
        for element in elements {
            // A range with parameters would need the offered type to carry the same ones; ours
            // carry none, so such a range does not match it.
            guard element.parameterCount == 0 else { continue }
            let specificity: Int
            if element.type == "*" && element.subtype == "*" {
                specificity = 0
            } else if element.type == type && element.subtype == "*" {
                specificity = 1
            } else if element.type == type && element.subtype == subtype {
                specificity = 2
            } else {
                continue
            }
            // Of two equally specific ranges (a repeated element), the first one counts.
            if best == nil || specificity > best!.specificity { best = (specificity, element.weight) }
        }
        return best?.weight ?? 0
    }

    /// Whether `preferred` has a strictly higher weight than `other`: ties go to `other`, the
    /// server's default.
    public func prefers(_ preferred: String, over other: String) -> Bool {
        weight(of: preferred) > weight(of: other)
    }

    /// The elements of a comma-separated list, commas inside quoted strings kept.
    private static func split(_ value: String) -> [[UInt8]] {
        var pieces: [[UInt8]] = []
        var current: [UInt8] = []
        var quoted = false
        var escaped = false
        for byte in value.utf8 {
            if quoted {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    quoted = false
                }
                current.append(byte)
            } else if byte == UInt8(ascii: ",") {
                pieces.append(current)
                current = []
            } else {
                if byte == UInt8(ascii: "\"") { quoted = true }
                current.append(byte)
            }
        }
        pieces.append(current)
        return pieces
    }

    /// `media-range [ weight ]`, or nil when the element is empty or malformed.
    private static func element(_ bytes: [UInt8]) -> Element? {
        var scanner = FieldValueScanner(bytes)
        scanner.skipWhitespace()
        if scanner.isAtEnd { return nil }
        guard let type = scanner.token()?.lowercased(), scanner.consume(UInt8(ascii: "/")),
            let subtype = scanner.token()?.lowercased(), type != "*" || subtype == "*"
        else { return nil }
        var parameterCount = 0
        var weight = 1000
        while true {
            scanner.skipWhitespace()
            if scanner.isAtEnd { break }
            guard scanner.consume(UInt8(ascii: ";")) else { return nil }
            scanner.skipWhitespace()
            guard let name = scanner.token()?.lowercased(), scanner.consume(UInt8(ascii: "=")),
                let value = scanner.peek == UInt8(ascii: "\"") ? scanner.quotedString() : scanner.token()
            else { return nil }
            if name == "q" {
                // `q` ends the media range: what follows are extension parameters (RFC 7231's
                // accept-ext), which change nothing here.
                guard let parsed = qvalue(value) else { return nil }
                weight = parsed
                break
            }
            parameterCount += 1
        }
        return Element(type: type, subtype: subtype, parameterCount: parameterCount, weight: weight)
    }

    /// RFC 9110 `qvalue`: `0[.ddd]` or `1[.000]`, in thousandths.
    static func qvalue(_ text: String) -> Int? {
        let bytes = Array(text.utf8)
        guard let first = bytes.first, first == UInt8(ascii: "0") || first == UInt8(ascii: "1") else { return nil }
        var thousandths = first == UInt8(ascii: "1") ? 1000 : 0
        guard bytes.count > 1 else { return thousandths }
        guard bytes[1] == UInt8(ascii: "."), bytes.count <= 5 else { return nil }
        var scale = 100
        for digit in bytes[2...] {
            guard UInt8(ascii: "0")...UInt8(ascii: "9") ~= digit, first == UInt8(ascii: "0") || digit == UInt8(ascii: "0") else {
                return nil
            }
            thousandths += Int(digit - UInt8(ascii: "0")) * scale
            scale /= 10
        }
        return thousandths
    }
}
