/// A tree search's `glob` / `exclude` pattern, matched against paths relative to the searched
/// directory (bytes, `/` between names).
///
/// - `*` matches any run of characters within one name, `?` exactly one character (a UTF-8
///   sequence, or one byte that is not part of a valid one), `[...]` one character of a set
///   (`[abc]`, ranges `[a-z]`, negation `[!...]` or `[^...]`, a `]` right after the opening
///   bracket or its negation is literal). None of them ever matches `/`.
/// - `**` as a whole name matches any number of whole names (zero or more): `a/**/b` matches
///   `a/b` and `a/x/y/b`, `**/*.c` a `.c` file at any depth. A trailing `/**` matches everything
///   below (one name or more): `logs/**` matches `logs/a` and `logs/x/a`, not `logs` itself.
///   `**` inside a name (`a**b`) is two `*`.
/// - `\` makes the next character literal. Empty names and `.` names in the pattern are dropped
///   (`./a//b` is `a/b`), as they are in paths; a leading `/` anchors nothing more (every pattern
///   is matched against the whole path).
///
/// Unlike rg's `-g`, a pattern without `/` is not matched against the base name at any depth:
/// the contract matches the path, so `*.c` means top-level `.c` files and `**/*.c` all of them.
///
/// Matching is the classic two-pointer wildcard walk, once over names for `**` and once over
/// characters inside a name for `*`: no recursion, at most (pattern × path) steps per level.
public struct PathGlob: Sendable, Hashable {
    /// One name of the pattern.
    enum Segment: Sendable, Hashable {
        /// `**` in the middle or at the start: zero or more whole names.
        case anyNames
        /// A trailing `**`: one or more whole names.
        case everythingBelow
        case name([Token])
    }

    /// One piece of a name pattern.
    enum Token: Sendable, Hashable {
        case character(UInt32)
        /// `?`
        case any
        /// `*`
        case star
        case set(CharacterSet)
    }

    /// The members of a `[...]`: single characters and inclusive ranges.
    struct CharacterSet: Sendable, Hashable {
        var ranges: [ClosedRange<UInt32>]
        var negated: Bool

        func contains(_ character: UInt32) -> Bool {
            ranges.contains { $0.contains(character) } != negated
        }
    }

    let segments: [Segment]

    /// The pattern as the client gave it, for messages.
    public let source: [UInt8]

    /// Compiles `pattern`.
    ///
    /// - Throws: 400 for an empty pattern, one that names nothing (`/`, `.`), an unterminated
    ///   `[`, an empty set `[]`, a reversed range `[z-a]`, or a trailing `\`.
    public init(_ pattern: [UInt8], parameter: String = "glob") throws(ProblemDetails) {
        source = pattern
        func invalid(_ why: String) -> ProblemDetails {
            .badRequest("The \(parameter) pattern \(ProblemDetails.quoted(pattern)) is invalid: \(why).")
        }
        guard !pattern.isEmpty else { throw .badRequest("The query parameter '\(parameter)' must not be empty.") }
        let names = pattern.split(separator: Self.slash, omittingEmptySubsequences: true).filter { !$0.elementsEqual([Self.dot]) }
        guard !names.isEmpty else { throw invalid("it names no path") }
        var segments: [Segment] = []
        for (index, name) in names.enumerated() {
            if name.elementsEqual([Self.star, Self.star]) {
                let last = index == names.count - 1
                // `**/**` is one `**`; a trailing one after `**` still needs one name.
                if case .anyNames? = segments.last {
                    if last { segments[segments.count - 1] = .everythingBelow }
                    continue
                }
                segments.append(last ? .everythingBelow : .anyNames)
                continue
            }
            guard let tokens = Self.tokens(of: Array(name)) else {
                throw invalid("a '[' needs a closing ']' after at least one member, ranges go upwards, and '\\' needs a character after it")
            }
            segments.append(.name(tokens))
        }
        self.segments = segments
    }

    // MARK: Matching

    /// Whether `path` (names separated by `/`, no leading `/`) matches the whole pattern.
    public func matches(_ path: some Collection<UInt8>) -> Bool {
        Self.withBytes(path) { bytes in matches(names: Self.nameRanges(bytes), in: bytes, segments: segments[...]) }
    }

    /// Whether every path strictly below the directory `path` matches: the pattern ends with
    /// `/**` and the rest matches the directory (or the pattern is `**` alone). An `exclude` for
    /// which this holds prunes the directory itself, not only what it holds.
    public func matchesEverythingBelow(directory path: some Collection<UInt8>) -> Bool {
        guard case .everythingBelow? = segments.last else { return false }
        if segments.count == 1 { return true }  // `**` alone
        return Self.withBytes(path) { bytes in matches(names: Self.nameRanges(bytes), in: bytes, segments: segments.dropLast()) }
    }

    /// The path's bytes, contiguous, for `body`: copied only when the collection is not. A tree
    /// walk matches every path it meets on one thread, so matching works on the bytes in place
    /// (an array per name was the walk's largest cost: Benchmarks/README.md, "Profiles").
    private static func withBytes<T>(_ path: some Collection<UInt8>, _ body: (UnsafeBufferPointer<UInt8>) -> T) -> T {
        if let done = path.withContiguousStorageIfAvailable(body) { return done }
        return Array(path).withUnsafeBufferPointer(body)
    }

    /// Where each name of a path lies; the empty names of doubled or trailing slashes left out.
    private static func nameRanges(_ bytes: UnsafeBufferPointer<UInt8>) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        var start = 0
        for index in 0...bytes.count where index == bytes.count || bytes[index] == slash {
            if index > start { ranges.append(start..<index) }
            start = index + 1
        }
        return ranges
    }

    /// Names (ranges of `bytes`) against segments; `**` backtracks to its last position, as `*`
    /// does within a name.
    private func matches(names: [Range<Int>], in bytes: UnsafeBufferPointer<UInt8>, segments: ArraySlice<Segment>) -> Bool {
        var n = 0
        var s = segments.startIndex
        // The latest `**` seen: the segment after it, and the name it would swallow next.
        var resume: (segment: Int, name: Int)?
        while n < names.count || s < segments.endIndex {
            if s < segments.endIndex {
                switch segments[s] {
                case .everythingBelow:
                    // Last segment (by construction): one name or more remain.
                    if n < names.count { return true }
                case .anyNames:
                    resume = (s + 1, n)
                    s += 1
                    continue
                case .name(let tokens):
                    if n < names.count, Self.matches(UnsafeBufferPointer(rebasing: bytes[names[n]]), tokens) {
                        n += 1
                        s += 1
                        continue
                    }
                }
            }
            guard let (segment, name) = resume, name < names.count else { return false }
            resume = (segment, name + 1)
            s = segment
            n = name + 1
        }
        return true
    }

    /// One name against one name pattern.
    static func matches(_ name: UnsafeBufferPointer<UInt8>, _ tokens: [Token]) -> Bool {
        var i = 0
        var t = 0
        var resume: (token: Int, index: Int)?
        while i < name.count || t < tokens.count {
            if t < tokens.count {
                switch tokens[t] {
                case .star:
                    resume = (t + 1, i)
                    t += 1
                    continue
                case .any:
                    if i < name.count {
                        i += character(in: name, at: i).length
                        t += 1
                        continue
                    }
                case .character(let expected):
                    if i < name.count {
                        let (value, length) = character(in: name, at: i)
                        if value == expected {
                            i += length
                            t += 1
                            continue
                        }
                    }
                case .set(let set):
                    if i < name.count {
                        let (value, length) = character(in: name, at: i)
                        if set.contains(value) {
                            i += length
                            t += 1
                            continue
                        }
                    }
                }
            }
            guard let (token, index) = resume, index < name.count else { return false }
            let next = index + character(in: name, at: index).length
            resume = (token, next)
            t = token
            i = next
        }
        return true
    }

    // MARK: Parsing

    /// The tokens of one name pattern, or nil when it is malformed.
    private static func tokens(of name: [UInt8]) -> [Token]? {
        var tokens: [Token] = []
        var i = 0
        while i < name.count {
            switch name[i] {
            case star:
                if tokens.last != .star { tokens.append(.star) }
                i += 1
            case question:
                tokens.append(.any)
                i += 1
            case backslash:
                guard i + 1 < name.count else { return nil }
                let (value, length) = character(in: name, at: i + 1)
                tokens.append(.character(value))
                i += 1 + length
            case openBracket:
                guard let (set, end) = characterSet(in: name, from: i) else { return nil }
                tokens.append(.set(set))
                i = end
            default:
                let (value, length) = character(in: name, at: i)
                tokens.append(.character(value))
                i += length
            }
        }
        return tokens
    }

    /// The set opened by the `[` at `start`, and the index after its `]`.
    private static func characterSet(in name: [UInt8], from start: Int) -> (CharacterSet, Int)? {
        var i = start + 1
        var negated = false
        if i < name.count, name[i] == exclamation || name[i] == caret {
            negated = true
            i += 1
        }
        var ranges: [ClosedRange<UInt32>] = []
        var first = true
        while i < name.count {
            if name[i] == closeBracket, !first {
                return ranges.isEmpty ? nil : (CharacterSet(ranges: ranges, negated: negated), i + 1)
            }
            first = false
            var (low, length) = character(in: name, at: i)
            if name[i] == backslash {
                guard i + 1 < name.count else { return nil }
                (low, length) = character(in: name, at: i + 1)
                length += 1
            }
            i += length
            if i + 1 < name.count, name[i] == hyphen, name[i + 1] != closeBracket {
                var (high, highLength) = character(in: name, at: i + 1)
                if name[i + 1] == backslash {
                    guard i + 2 < name.count else { return nil }
                    (high, highLength) = character(in: name, at: i + 2)
                    highLength += 1
                }
                guard low <= high else { return nil }
                ranges.append(low...high)
                i += 1 + highLength
            } else {
                ranges.append(low...low)
            }
        }
        return nil
    }

    /// The character at `index`: a valid UTF-8 sequence as its scalar value, any other byte as
    /// itself above the Unicode range (so it equals only the same stray byte), and its length.
    static func character<Bytes: RandomAccessCollection<UInt8>>(in bytes: Bytes, at index: Int) -> (value: UInt32, length: Int)
    where Bytes.Index == Int {
        let lead = bytes[index]
        if lead < 0x80 { return (UInt32(lead), 1) }
        let length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC2 ? 2 : 0
        guard length > 0, index + length <= bytes.count, lead <= 0xF4 else { return (strayByte + UInt32(lead), 1) }
        var value = UInt32(lead) & (0x7F >> UInt32(length))
        for k in 1..<length {
            let byte = bytes[index + k]
            guard byte & 0xC0 == 0x80 else { return (strayByte + UInt32(lead), 1) }
            value = value << 6 | UInt32(byte & 0x3F)
        }
        // Overlong forms, surrogates and values past U+10FFFF are not valid UTF-8.
        let minimum: UInt32 = length == 2 ? 0x80 : length == 3 ? 0x800 : 0x10000
        guard value >= minimum, value <= 0x10FFFF, !(0xD800...0xDFFF).contains(value) else {
            return (strayByte + UInt32(lead), 1)
        }
        return (value, length)
    }

    private static let strayByte: UInt32 = 0x11_0000
    private static let slash = UInt8(ascii: "/")
    private static let dot = UInt8(ascii: ".")
    private static let star = UInt8(ascii: "*")
    private static let question = UInt8(ascii: "?")
    private static let backslash = UInt8(ascii: "\\")
    private static let openBracket = UInt8(ascii: "[")
    private static let closeBracket = UInt8(ascii: "]")
    private static let exclamation = UInt8(ascii: "!")
    private static let caret = UInt8(ascii: "^")
    private static let hyphen = UInt8(ascii: "-")
}

/// The `glob` and `exclude` patterns of one tree search together: what is searched, what pruned.
public struct PathFilter: Sendable, Hashable {
    public let globs: [PathGlob]
    public let excludes: [PathGlob]

    public init(globs: [PathGlob] = [], excludes: [PathGlob] = []) {
        self.globs = globs
        self.excludes = excludes
    }

    /// Whether the file at `path` is searched: some glob matches (or there is none) and no
    /// exclude does.
    public func includesFile(_ path: some Collection<UInt8>) -> Bool {
        if excludes.contains(where: { $0.matches(path) }) { return false }
        return globs.isEmpty || globs.contains { $0.matches(path) }
    }

    /// Whether the directory at `path` is walked: no exclude matches it or everything below it.
    /// Globs never prune a directory (`**/*.c` must look inside every one).
    public func walksDirectory(_ path: some Collection<UInt8>) -> Bool {
        !excludes.contains { $0.matches(path) || $0.matchesEverythingBelow(directory: path) }
    }
}
