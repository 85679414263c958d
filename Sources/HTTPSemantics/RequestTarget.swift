/// A request-target, exactly as the client sent it, split into its route and query.
///
/// Only origin-form (`/path?query`) is accepted. The route is chosen on the raw path
/// (`/%66iles/…` is not `/files/…`, and `/files` without a slash is no route); then the rest
/// of a `/files/` or `/search/` path becomes a ``FileTarget`` by these rules, which are what
/// keeps every request inside the root:
///
/// 1. The path after the prefix is percent-decoded once, strictly; a bad escape is 400.
/// 2. The decoded bytes are split at `/`. An encoded slash (`%2F`) therefore separates segments
///    just like a raw one: the contract decodes the path once and names `<root>/<path>`, and the
///    file system would read that `/` as a separator anyway. All checks below run on the
///    segments *after* decoding, so `..%2F` or `%2e%2e%2f` cannot slip a `..` past them.
/// 3. Empty segments (`a//b`) and `.` segments are dropped, exactly as the file system resolves
///    them, so `/files/a//./b` is `/files/a/b`. A `..` segment, raw or encoded, is refused (404)
///    even when it would stay inside the root: resolving it textually could disagree with
///    symlinks, and nothing legitimate needs it.
/// 4. A NUL byte is refused (404): a C path would end there.
/// 5. A segment that is not valid UTF-8 is refused (404): every name is carried as `String`,
///    and mapping such bytes to U+FFFD would name a different file. Files whose names are not
///    UTF-8 are therefore not reachable over HTTP.
/// 6. A path ending in `/` (raw or `%2F`) or in a `.` segment asks for a directory.
///
/// Everything refused in 3–5 answers ``ProblemDetails/notFound()``, the same body as a missing
/// file, so probing cannot tell the two apart.
public struct RequestTarget: Sendable, Hashable {
    /// What the path addresses.
    public let route: Route
    /// The raw query after the first `?` (not decoded; `nil` when there was no `?`). Parse it
    /// with ``QueryParameters`` when the route uses one.
    public let query: String?

    /// The endpoints of the server.
    public enum Route: Sendable, Hashable {
        /// `/files/<path>`: a file, or with a trailing slash a directory listing.
        case files(FileTarget)
        /// `/search/<path>`.
        case search(FileTarget)
        /// `/healthz`, exactly.
        case healthz
        /// `/metrics`, exactly.
        case metrics
    }

    /// Parses a raw request-target.
    ///
    /// - Throws: 400 for a target that is not origin-form, holds control characters or a bad
    ///   percent-escape; ``ProblemDetails/notFound()`` for an unknown route or a path that is
    ///   refused by the rules above.
    public init(parsing rawTarget: String) throws(ProblemDetails) {
        let raw = Array(rawTarget.utf8)
        guard raw.first == UInt8(ascii: "/") else {
            throw .badRequest("The request target must be an absolute path starting with '/'.")
        }
        guard !raw.contains(where: { $0 < 0x20 || $0 == 0x7F }) else {
            throw .badRequest("The request target contains a control character.")
        }
        let questionMark = raw.firstIndex(of: UInt8(ascii: "?"))
        let path = raw[..<(questionMark ?? raw.endIndex)]
        query = questionMark.map { String(decoding: raw[($0 + 1)...], as: UTF8.self) }

        if path.elementsEqual("/healthz".utf8) {
            route = .healthz
        } else if path.elementsEqual("/metrics".utf8) {
            route = .metrics
        } else if let rest = Self.remainder(of: path, after: "/files/") {
            route = .files(try FileTarget(encoded: rest))
        } else if let rest = Self.remainder(of: path, after: "/search/") {
            route = .search(try FileTarget(encoded: rest))
        } else {
            throw .notFound()
        }
    }

    private static func remainder(of path: ArraySlice<UInt8>, after prefix: String) -> ArraySlice<UInt8>? {
        path.starts(with: prefix.utf8) ? path.dropFirst(prefix.utf8.count) : nil
    }
}

/// The file or directory a `/files/` or `/search/` request names, relative to the root.
public struct FileTarget: Sendable, Hashable {
    /// Where, below the root.
    public let path: RelativePath
    /// The client asked for a directory (trailing slash); `/files/` is the root directory.
    public let isDirectory: Bool

    public init(path: RelativePath, isDirectory: Bool) {
        self.path = path
        self.isDirectory = isDirectory
    }

    /// Applies the confinement rules of ``RequestTarget`` to the still-encoded rest of a path.
    init(encoded: ArraySlice<UInt8>) throws(ProblemDetails) {
        let decoded: ArraySlice<UInt8>
        if encoded.contains(UInt8(ascii: "%")) {
            guard let bytes = try? PercentDecoding.decode(encoded, as: .path) else {
                throw .badRequest("The path has a malformed percent-escape: '%' must be followed by two hex digits.")
            }
            decoded = bytes[...]
        } else {
            decoded = encoded  // the common case: nothing to decode, nothing to copy
        }
        // The segments between slashes, the empty ones included (as `split` with
        // `omittingEmptySubsequences: false` would give them, without its array).
        var segments: [String] = []
        var start = decoded.startIndex
        var last = decoded[start..<start]
        while true {
            let end = decoded[start...].firstIndex(of: UInt8(ascii: "/")) ?? decoded.endIndex
            last = decoded[start..<end]
            if !last.isEmpty && !last.elementsEqual(".".utf8) {
                guard let segment = String(validating: last, as: UTF8.self) else { throw .notFound() }
                segments.append(segment)
            }
            guard end != decoded.endIndex else { break }
            start = decoded.index(after: end)
        }
        guard let path = RelativePath(segments: segments) else { throw .notFound() }
        self.init(path: path, isDirectory: last.isEmpty || last.elementsEqual(".".utf8))
    }
}

/// A path below the root that cannot leave it: every segment is a plain name.
///
/// The only way to build one is ``init(segments:)``, which refuses `""`, `.`, `..`, and names
/// containing `/` or NUL, so joining the segments under the root always stays under the root
/// (symlinks aside; those are the opener's to refuse).
///
/// Equality and hashing compare the UTF-8 bytes, not `String`'s canonical equivalence: on disk
/// `é` precomposed and `e` + combining accent are two different files, and a cache keyed by
/// path must keep them apart. Key such caches by `RelativePath`, not by ``string``.
public struct RelativePath: Sendable, Hashable, CustomStringConvertible {
    /// The names from the root down; empty for the root itself.
    public let segments: [String]

    /// The root directory.
    public static let root = RelativePath(checked: [])

    /// Fails when a segment is empty, `.`, `..`, or contains `/` or NUL.
    public init?(segments: [String]) {
        for segment in segments {
            guard !segment.isEmpty, segment != ".", segment != "..",
                  !segment.utf8.contains(UInt8(ascii: "/")), !segment.utf8.contains(0) else { return nil }
        }
        self.init(checked: segments)
    }

    private init(checked segments: [String]) {
        self.segments = segments
    }

    /// The segments joined with `/`, no leading slash; `""` for the root. Ready to hand to
    /// `openat` relative to the root directory.
    public var string: String { segments.joined(separator: "/") }

    public var description: String { string }

    public static func == (lhs: RelativePath, rhs: RelativePath) -> Bool {
        lhs.segments.count == rhs.segments.count
            && zip(lhs.segments, rhs.segments).allSatisfy { $0.utf8.elementsEqual($1.utf8) }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(segments.count)
        for segment in segments {
            hasher.combine(segment.utf8.count)
            for byte in segment.utf8 { hasher.combine(byte) }
        }
    }
}
