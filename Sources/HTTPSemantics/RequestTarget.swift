import ConfinedPaths
import Glibc

/// A request-target, exactly as the client sent it, split into its route and query.
///
/// Only origin-form (`/path?query`) is accepted. The route is chosen on the raw path
/// (`/%66iles/…` is not `/files/…`; `/files` names the root directory without its slash, to be
/// redirected like any other, and `/` is ``Route/home``); then the rest
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
        /// `/view/<path>`: the browser viewer page of a file.
        case view(FileTarget)
        /// `/assets/<name>`: a style sheet or script of the pages, raw (unknown names are the
        /// handler's 404; no file is ever read for them).
        case assets(String)
        /// `/healthz`, exactly.
        case healthz
        /// `/metrics`, exactly.
        case metrics
        /// `/`, exactly: where a browser lands; redirected to the root listing.
        case home
    }

    /// Parses a raw request-target.
    ///
    /// - Throws: 400 for a target that is not origin-form, holds control characters, a space or a bad
    ///   percent-escape; ``ProblemDetails/notFound()`` for an unknown route or a path that is
    ///   refused by the rules above.
    public init(parsing rawTarget: String) throws(ProblemDetails) {
        // Parsed in place over the string's own bytes: this runs on every request.
        var target = rawTarget
        let parsed = target.withUTF8 { raw in Result { () throws(ProblemDetails) in try Self.parse(raw) } }
        (route, query) = try parsed.get()
    }

    private static func parse(_ raw: UnsafeBufferPointer<UInt8>) throws(ProblemDetails) -> (Route, String?) {
        guard raw.first == UInt8(ascii: "/") else {
            throw .badRequest("The request target must be an absolute path starting with '/'.")
        }
        // A space, too: libmicrohttpd takes everything between the method and the last space of
        // the line for the target (`GET /a b HTTP/1.1` gives `/a b`); a request-target has none.
        guard !raw.contains(where: { $0 <= 0x20 || $0 == 0x7F }) else {
            throw .badRequest("The request target contains a control character or a space.")
        }
        let questionMark = raw.firstIndex(of: UInt8(ascii: "?"))
        let path = UnsafeBufferPointer(rebasing: raw[..<(questionMark ?? raw.endIndex)])
        let query = questionMark.map { String(decoding: raw[($0 + 1)...], as: UTF8.self) }

        if path.holds("/healthz") { return (.healthz, query) }
        if path.holds("/metrics") { return (.metrics, query) }
        if path.holds("/") { return (.home, query) }
        if path.holds("/files") { return (.files(FileTarget(path: .root, isDirectory: false)), query) }
        if let rest = remainder(of: path, after: "/files/") { return (.files(try FileTarget(encoded: rest)), query) }
        if let rest = remainder(of: path, after: "/search/") { return (.search(try FileTarget(encoded: rest)), query) }
        if let rest = remainder(of: path, after: "/view/") { return (.view(try FileTarget(encoded: rest)), query) }
        if let rest = remainder(of: path, after: "/assets/") { return (.assets(String(decoding: rest, as: UTF8.self)), query) }
        throw .notFound()
    }

    private static func remainder(of path: UnsafeBufferPointer<UInt8>, after prefix: StaticString) -> UnsafeBufferPointer<UInt8>? {
        let count = prefix.utf8CodeUnitCount
        guard path.count >= count, UnsafeBufferPointer(rebasing: path[..<count]).holds(prefix) else { return nil }
        return UnsafeBufferPointer(rebasing: path[count...])
    }
}

/// The file or directory a `/files/`, `/search/` or `/view/` request names, relative to the root.
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
    init(encoded: UnsafeBufferPointer<UInt8>) throws(ProblemDetails) {
        guard encoded.contains(UInt8(ascii: "%")) else {
            try self.init(decoded: encoded)  // the common case: nothing to decode, nothing to copy
            return
        }
        guard let bytes = try? PercentDecoding.decode(encoded, as: .path) else {
            throw .badRequest("The path has a malformed percent-escape: '%' must be followed by two hex digits.")
        }
        self = try bytes.withUnsafeBufferPointer { decoded throws(ProblemDetails) in try FileTarget(decoded: decoded) }
    }

    /// Rules 2–6 on decoded bytes, in one pass that also builds the path's string.
    private init(decoded: UnsafeBufferPointer<UInt8>) throws(ProblemDetails) {
        guard !decoded.contains(0) else { throw .notFound() }
        // The kept segments as byte ranges, in scratch space (on the stack unless the path is
        // long): nothing is copied or allocated while the path is checked. A kept segment takes
        // at least two bytes with its separator, hence the capacity.
        self = try withUnsafeTemporaryAllocation(of: Range<Int>.self, capacity: decoded.count / 2 + 1) {
            scratch throws(ProblemDetails) -> FileTarget in
            var kept = 0
            var start = 0
            var last = 0..<0
            while true {
                let end = decoded[start...].firstIndex(of: UInt8(ascii: "/")) ?? decoded.count
                last = start..<end
                let segment = UnsafeBufferPointer(rebasing: decoded[last])
                if !segment.isEmpty && !segment.holds(".") {
                    if segment.holds("..") { throw .notFound() }
                    scratch[kept] = last
                    kept += 1
                }
                guard end != decoded.count else { break }
                start = end + 1
            }
            let lastSegment = UnsafeBufferPointer(rebasing: decoded[last])
            guard let path = RelativePath(validating: decoded, segments: UnsafeBufferPointer(rebasing: scratch[..<kept])) else {
                throw .notFound()
            }
            return FileTarget(path: path, isDirectory: lastSegment.isEmpty || lastSegment.holds("."))
        }
    }
}

extension UnsafeBufferPointer<UInt8> {
    /// The same bytes as `other`: a length check and `memcmp`, not the generic element walk that
    /// comparing collections (or `String.UTF8View`s) costs, about 30 ns a call on short values.
    func hasSameBytes(as other: UnsafeBufferPointer<UInt8>) -> Bool {
        count == other.count && (count == 0 || memcmp(baseAddress!, other.baseAddress!, count) == 0)
    }

    /// Exactly the bytes of `literal` (four such tests per request target).
    func holds(_ literal: StaticString) -> Bool {
        literal.withUTF8Buffer(hasSameBytes)
    }
}
