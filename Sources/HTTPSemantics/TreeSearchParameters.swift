/// The query contract of `GET /search/<dir>/` (a tree search), validated: the single-file
/// parameters except the window (`start`, `end`, `reverse`), plus
///
/// | name | meaning | default |
/// |---|---|---|
/// | `glob` | search only paths matching one of these (repeatable), see ``PathGlob`` | all |
/// | `exclude` | skip paths matching any of these (repeatable); prunes directories; wins over `glob` | none |
/// | `hidden` | also walk names starting with `.` | false |
/// | `binary` | `skip`: a file with a NUL in its first 8,192 bytes is not searched; `text`: it is | skip |
/// | `cursor` | the `next` of the previous page | — |
public struct TreeSearchParameters: Sendable {
    /// What to do with files that look binary.
    public enum BinaryFiles: String, Sendable, Hashable {
        case skip, text
    }

    public var search: SearchParameters
    public var filter: PathFilter
    public var hidden: Bool
    public var binary: BinaryFiles
    /// Where this page starts; nil for the first page.
    public var cursor: TreeSearchCursor?
    /// Identifies the search (directory, pattern, options, filters): every cursor carries the
    /// fingerprint of the search that made it, so one cannot continue another.
    public let fingerprint: UInt64

    /// How many of a file's first bytes are looked at for a NUL (what grep and rg look at first).
    public static let binaryProbeLength = 8192

    /// Validates `query` for a tree search of `directory` (relative to the root).
    ///
    /// - Parameters:
    ///   - maximumLimit: The largest `limit` accepted (as for one file).
    ///   - maximumPatternBytes: The longest `glob`/`exclude` pattern (the server's pattern limit);
    ///     their number is bounded by the request head's size.
    /// - Throws: 400 naming the first offending parameter: a window parameter or `follow`, a bad glob, a bad
    ///   `binary` or `hidden`, or a cursor this search did not make.
    public init(_ query: QueryParameters, directory: String, maximumLimit: Int, maximumPatternBytes: Int) throws(ProblemDetails) {
        // `follow` too: a tree search does not follow, and a follow search's limit is unbounded, so
        // accepting it let a tree search run with no limit at all (found by FuzzViewQuery).
        for name in ["start", "end", "reverse", "follow"] where query.contains(name) {
            throw .badRequest("The query parameter '\(name)' applies to the search of one file, not to a tree search.")
        }
        search = try SearchParameters(query, maximumLimit: maximumLimit)
        var patterns: [String: [PathGlob]] = [:]
        for name in ["glob", "exclude"] {
            var compiled: [PathGlob] = []
            for pattern in query.allBytes(name) {
                guard pattern.count <= maximumPatternBytes else {
                    throw .badRequest("A '\(name)' pattern is longer than \(maximumPatternBytes) bytes, the most this server accepts.")
                }
                compiled.append(try PathGlob(pattern, parameter: name))
            }
            patterns[name] = compiled
        }
        filter = PathFilter(globs: patterns["glob"] ?? [], excludes: patterns["exclude"] ?? [])
        hidden = try query.bool("hidden") ?? false
        if let value = query.bytes("binary") {
            guard let binary = BinaryFiles(rawValue: String(decoding: value, as: UTF8.self)) else {
                throw .badRequest("The query parameter 'binary' must be skip or text, not \(ProblemDetails.quoted(value)).")
            }
            self.binary = binary
        } else {
            binary = .skip
        }
        var digest = Fingerprint()
        digest.add(Array(directory.utf8))
        digest.add(search.pattern)
        digest.add([search.isRegex ? 1 : 0, search.isCaseInsensitive ? 1 : 0, hidden ? 1 : 0, binary == .text ? 1 : 0])
        for glob in filter.globs { digest.add(glob.source) }
        digest.add([0xFF])
        for exclude in filter.excludes { digest.add(exclude.source) }
        fingerprint = digest.value
        if let raw = query.bytes("cursor") {
            guard let cursor = TreeSearchCursor(encoded: raw), cursor.fingerprint == fingerprint else {
                throw .badRequest(
                    "The query parameter 'cursor' is not a 'next' this search answered; pass the previous page's 'next' with the other parameters unchanged."
                )
            }
            self.cursor = cursor
        } else {
            cursor = nil
        }
    }
}

/// Where a tree search's page starts: a file (its walked path relative to the searched
/// directory) and the offset in it, as the `start` of that file's search; plus the fingerprint of
/// the search. Sent as lowercase hex: opaque to clients, safe in a URL without escaping.
public struct TreeSearchCursor: Sendable, Hashable {
    public var path: [UInt8]
    public var offset: Int
    public var fingerprint: UInt64

    static let version: UInt8 = 1

    public init(path: [UInt8], offset: Int, fingerprint: UInt64) {
        self.path = path
        self.offset = offset
        self.fingerprint = fingerprint
    }

    /// The `next` string.
    public var encoded: String {
        var bytes: [UInt8] = [Self.version]
        bytes += Self.littleEndian(fingerprint)
        bytes += Self.littleEndian(UInt64(bitPattern: Int64(offset)))
        bytes += path
        return LowercaseHex.encode(bytes)
    }

    /// Decodes a `next`; nil for anything this server did not make (odd length, not hex, another
    /// version, a negative offset, a path with NUL, an empty name, `.` or `..`).
    public init?(encoded text: [UInt8]) {
        guard text.count >= 34, let bytes = LowercaseHex.decode(text) else { return nil }
        guard bytes[0] == Self.version else { return nil }
        let fingerprint = Self.readLittleEndian(bytes[1..<9])
        let offset = Self.readLittleEndian(bytes[9..<17])
        guard offset <= UInt64(Int64.max) else { return nil }
        let path = Array(bytes[17...])
        guard !path.isEmpty, !path.contains(0),
            path.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).allSatisfy({
                !$0.isEmpty && !$0.elementsEqual([0x2E]) && !$0.elementsEqual([0x2E, 0x2E])
            })
        else { return nil }
        self.init(path: path, offset: Int(offset), fingerprint: fingerprint)
    }

    /// The tree search's walk order on relative paths: names compared byte-wise, from the top
    /// down (depth first with each directory's entries in name order). Byte-wise comparison with
    /// `/` counted below every byte a name can hold gives exactly that.
    public static func walkOrder(_ lhs: some Collection<UInt8>, _ rhs: some Collection<UInt8>) -> Int {
        var left = lhs.makeIterator()
        var right = rhs.makeIterator()
        while true {
            switch (left.next(), right.next()) {
            case (nil, nil): return 0
            case (nil, _): return -1
            case (_, nil): return 1
            case (let a?, let b?):
                let (x, y) = (a == 0x2F ? 0 : a, b == 0x2F ? 0 : b)
                if x != y { return x < y ? -1 : 1 }
            }
        }
    }

    private static func littleEndian(_ value: UInt64) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) }
    }

    private static func readLittleEndian(_ bytes: ArraySlice<UInt8>) -> UInt64 {
        bytes.reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }
}

/// FNV-1a over length-prefixed fields: a consistency check that a cursor belongs to the search
/// it is used with (not a secret: a client forging one only gets to choose where its own search
/// starts).
struct Fingerprint {
    private(set) var value: UInt64 = 0xCBF2_9CE4_8422_2325

    mutating func add(_ field: [UInt8]) {
        for byte in withUnsafeBytes(of: UInt32(field.count).littleEndian, Array.init) + field {
            value = (value ^ UInt64(byte)) &* 0x100_0000_01B3
        }
    }
}
