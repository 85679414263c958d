/// An entity tag (RFC 9110 §8.8.3): `"opaque"` (strong) or `W/"opaque"` (weak).
///
/// Equality, hashing and both comparison functions look at the opaque tag's bytes, not at Swift's
/// `String` equality: §8.8.3.2 compares tags "character-by-character", and `String` would call two
/// different byte sequences equal when they are canonically equivalent Unicode.
public struct EntityTag: Sendable, Hashable {
    /// True for `W/"…"`: a weak validator (§8.8.1), which never passes a strong comparison.
    public let isWeak: Bool
    /// The characters between the quotes.
    public let opaque: String

    /// A strong tag.
    ///
    /// - Precondition: `opaque` holds only `etagc` characters (§8.8.3: no `"`, no whitespace, no
    ///   controls), so that ``headerValue`` is a valid field value.
    public init(strong opaque: String) {
        self.init(opaque: opaque, isWeak: false)
    }

    /// A weak tag; the same precondition as ``init(strong:)``.
    public init(weak opaque: String) {
        self.init(opaque: opaque, isWeak: true)
    }

    private init(opaque: String, isWeak: Bool) {
        precondition(opaque.utf8.allSatisfy(Self.isEntityTagCharacter), "not an entity-tag opaque value")
        self.init(checked: opaque, isWeak: isWeak)
    }

    /// For the parser, which has already checked every byte.
    private init(checked opaque: String, isWeak: Bool) {
        self.opaque = opaque
        self.isWeak = isWeak
    }

    /// The field value to send in `ETag`.
    public var headerValue: String { (isWeak ? "W/\"" : "\"") + opaque + "\"" }

    /// Strong comparison (§8.8.3.2): both tags strong and their opaque tags identical. Used by
    /// If-Match and If-Range, where the bytes themselves must be the same.
    public func strongMatch(_ other: EntityTag) -> Bool {
        !isWeak && !other.isWeak && sameOpaque(other)
    }

    /// Weak comparison (§8.8.3.2): the opaque tags are identical, whatever their weakness. Used
    /// by If-None-Match, where any equivalent representation makes a cached copy usable.
    public func weakMatch(_ other: EntityTag) -> Bool {
        sameOpaque(other)
    }

    public static func == (lhs: EntityTag, rhs: EntityTag) -> Bool {
        lhs.isWeak == rhs.isWeak && lhs.sameOpaque(rhs)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(isWeak)
        for byte in opaque.utf8 { hasher.combine(byte) }
    }

    private func sameOpaque(_ other: EntityTag) -> Bool {
        other.opaque.utf8.withContiguousStorageIfAvailable { hasOpaque($0) } ?? opaque.utf8.elementsEqual(other.opaque.utf8)
    }

    /// Whether the opaque tag is exactly `bytes`, by `memcmp` when the string is stored
    /// contiguously (always, for the strings this type builds): the generic `elementsEqual` over
    /// UTF-8 views was a third of a conditional GET's evaluation.
    private func hasOpaque(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        opaque.utf8.withContiguousStorageIfAvailable { $0.hasSameBytes(as: bytes) } ?? opaque.utf8.elementsEqual(bytes)
    }

    /// Parses one `entity-tag`, with only surrounding whitespace allowed; nil otherwise.
    ///
    /// `W/` is case-sensitive (`%s"W/"` in §8.8.3), so `w/"x"` is not a tag.
    public static func parse(_ value: String) -> EntityTag? {
        let bytes = FieldText.trimmingWhitespace(Array(value.utf8)[...])
        guard let (isWeak, opaque, next) = scanTag(bytes, from: bytes.startIndex), next == bytes.endIndex else { return nil }
        return EntityTag(checked: String(decoding: opaque, as: UTF8.self), isWeak: isWeak)
    }

    /// Parses an If-Match or If-None-Match field value: `"*" / #entity-tag` (§13.1.1, §13.1.2).
    ///
    /// Returns nil when the value breaks the grammar: an unquoted tag, two tags without a comma,
    /// `*` next to tags. What nil means is the caller's decision (see ``ConditionalRequest``).
    /// Following the list rule of §5.6.1, empty elements and whitespace around commas are
    /// accepted, and an empty value is an empty list, which no tag matches.
    public static func parseList(_ value: String) -> EntityTagList? {
        var tags: [EntityTag] = []
        let shape = walkList(value) { isWeak, opaque in
            tags.append(EntityTag(checked: String(decoding: opaque, as: UTF8.self), isWeak: isWeak))
        }
        switch shape {
        case nil: return nil
        case .any?: return .any
        case .tags?: return .tags(tags)
        }
    }

    /// What `parseList(value)?.strongMatch(current)` (`strongly`, for If-Match) or
    /// `.weakMatch(current)` (If-None-Match) says, without building the list: no string or array
    /// per tag on every conditional request. nil when the value breaks the grammar.
    public static func list(_ value: String, matches current: EntityTag, strongly: Bool) -> Bool? {
        var matched = false
        let shape = walkList(value) { isWeak, opaque in
            if !matched, !(strongly && (isWeak || current.isWeak)), opaque.withUnsafeBufferPointer(current.hasOpaque) {
                matched = true
            }
        }
        switch shape {
        case nil: return nil
        case .any?: return true
        case .tags?: return matched
        }
    }

    private enum ListShape { case any, tags }

    /// The grammar of ``parseList(_:)``: `visit` sees each tag's weakness and opaque bytes, in
    /// order; nil when the value breaks the grammar (after some tags may have been visited).
    private static func walkList(_ value: String, _ visit: (Bool, ArraySlice<UInt8>) -> Void) -> ListShape? {
        let bytes = FieldText.trimmingWhitespace(Array(value.utf8)[...])
        if bytes.count == 1, bytes.first == UInt8(ascii: "*") { return .any }
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: ",") || isWhitespace(byte) {
                index += 1
                continue
            }
            guard let (isWeak, opaque, next) = scanTag(bytes, from: index) else { return nil }
            visit(isWeak, opaque)
            index = next
            while index < bytes.endIndex, isWhitespace(bytes[index]) { index += 1 }
            guard index == bytes.endIndex || bytes[index] == UInt8(ascii: ",") else { return nil }
        }
        return .tags
    }

    /// Reads `[ W/ ] DQUOTE *etagc DQUOTE` starting at `index`; returns the weakness, the opaque
    /// bytes and the index just past the closing quote.
    private static func scanTag(_ bytes: ArraySlice<UInt8>, from index: Int) -> (Bool, ArraySlice<UInt8>, Int)? {
        var index = index
        let isWeak = bytes.endIndex - index >= 2 && bytes[index] == UInt8(ascii: "W") && bytes[index + 1] == UInt8(ascii: "/")
        if isWeak { index += 2 }
        guard index < bytes.endIndex, bytes[index] == UInt8(ascii: "\"") else { return nil }
        let opaqueStart = index + 1
        guard let closingQuote = bytes[opaqueStart...].firstIndex(of: UInt8(ascii: "\"")),
            bytes[opaqueStart..<closingQuote].allSatisfy(isEntityTagCharacter)
        else { return nil }
        return (isWeak, bytes[opaqueStart..<closingQuote], closingQuote + 1)
    }

    /// `etagc = %x21 / %x23-7E / obs-text`.
    private static func isEntityTagCharacter(_ byte: UInt8) -> Bool {
        byte == 0x21 || (byte >= 0x23 && byte != 0x7F)
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t")
    }
}

/// A parsed If-Match or If-None-Match value.
public enum EntityTagList: Sendable, Equatable {
    /// `*`: any current representation.
    case any
    /// The listed tags, possibly none.
    case tags([EntityTag])

    /// Whether the list matches `current` by strong comparison; `*` matches, since `current`
    /// exists (If-Match, RFC 9110 §13.1.1).
    public func strongMatch(_ current: EntityTag) -> Bool {
        switch self {
        case .any: true
        case .tags(let tags): tags.contains { $0.strongMatch(current) }
        }
    }

    /// Whether the list matches `current` by weak comparison; `*` matches, since `current`
    /// exists (If-None-Match, RFC 9110 §13.1.2).
    public func weakMatch(_ current: EntityTag) -> Bool {
        switch self {
        case .any: true
        case .tags(let tags): tags.contains { $0.weakMatch(current) }
        }
    }
}
