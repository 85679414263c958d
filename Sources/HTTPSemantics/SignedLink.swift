import ConfinedPaths

/// The pure rules of signed links (`/files/PATH?expires=<unix seconds>&signature=<hex>`): what
/// the query must hold, which scope a link names, and the exact bytes its HMAC covers. The key and
/// the HMAC itself live in `Mmapd` (`SignedLinks`); nothing here does I/O or cryptography.
///
/// **The scope** a link names is the request path as `RequestTarget` normalises it (decoded once,
/// empty and `.` segments dropped, `..` refused), so every spelling of one path (`a//b`, `a/./b`,
/// `a%2Fb`) names one scope and no spelling names another:
/// - a file: `a/b.txt` (no slash at the end);
/// - a directory: `a/b/` (one slash at the end), granting the directory and everything below it;
/// - the root directory: `/`.
/// A file scope never ends in `/` and a directory scope always does, so a link for the file `dir`
/// grants nothing below it, and `dir/` never matches `dir2/…` (scopes are compared whole, never
/// as string prefixes).
///
/// **The message** is `mmapd-link-v1\n<expires>\n<scope>`: the scheme version first (a future
/// scheme cannot be confused with this one), the expiry in its one canonical decimal spelling,
/// the scope last, so one HMAC state fed the request's scope can be finished at every ancestor
/// directory (`grantingLengths`) without hashing the path once per level.
public enum SignedLink {
    public static let version = "mmapd-link-v1"
    /// HMAC-SHA256 output, hex-encoded in the link.
    public static let signatureBytes = 32

    /// The two parameters of a signed request.
    public struct Parameters: Sendable, Equatable {
        public let expires: Int64
        public let signature: [UInt8]

        public init(expires: Int64, signature: [UInt8]) {
            self.expires = expires
            self.signature = signature
        }

        /// The query a link carries: `expires=…&signature=…`, lowercase hex.
        public var query: String { "expires=\(expires)&signature=\(LowercaseHex.encode(signature))" }
    }

    /// What a valid link granted a request: its parameters, which the pages carry on to every
    /// link and fetch of theirs, and the scope they sign, which says which of those links the
    /// grant reaches (a link above a directory grant would only earn its follower a 403).
    public struct Grant: Sendable, Equatable {
        public let parameters: Parameters
        /// The signed scope: `a/b.txt`, `a/b/` or `/` (see `scope(path:isDirectory:)`).
        public let scope: String

        public init(parameters: Parameters, scope: String) {
            self.parameters = parameters
            self.scope = scope
        }

        /// Whether this grant reaches the file or directory at `path` (`RelativePath.string`).
        public func covers(path: String, isDirectory: Bool) -> Bool {
            SignedLink.grantingScopes(of: SignedLink.scope(path: path, isDirectory: isDirectory)).contains(scope)
        }

        /// `url` with the grant's query appended (after `?`, or `&` when it has a query already).
        public func carried(on url: String) -> String {
            url + (url.contains("?") ? "&" : "?") + parameters.query
        }
    }

    /// What a request's query says about signing.
    public enum Presence: Sendable, Equatable {
        /// Neither parameter: not a signed request.
        case absent
        /// One of them missing, repeated or not in its canonical form: an altered link.
        case malformed
        case present(Parameters)
    }

    /// Reads `expires` and `signature` from a raw query. Strict, because an accepted variant is
    /// one more way to present a link: `expires` is 1 to 19 digits without sign or leading zero,
    /// `signature` exactly 64 lowercase hex digits, each exactly once.
    public static func parameters(in rawQuery: String?) -> Presence {
        guard let rawQuery else { return .absent }
        guard let query = try? QueryParameters(parsing: rawQuery) else {
            // A bad escape elsewhere in the query is not a link unless it names one.
            return rawQuery.contains("expires") || rawQuery.contains("signature") ? .malformed : .absent
        }
        let expiresValues = query.allBytes("expires")
        let signatureValues = query.allBytes("signature")
        if expiresValues.isEmpty && signatureValues.isEmpty { return .absent }
        guard expiresValues.count == 1, signatureValues.count == 1, let seconds = canonicalSeconds(expiresValues[0]),
            let bytes = LowercaseHex.decode(signatureValues[0]), bytes.count == signatureBytes
        else {
            return .malformed
        }
        return .present(Parameters(expires: seconds, signature: bytes))
    }

    /// The scope of a path (`RelativePath.string`, `""` for the root) naming a file or a directory.
    public static func scope(path: String, isDirectory: Bool) -> String {
        guard isDirectory else { return path }
        return path.isEmpty ? "/" : path + "/"
    }

    /// The bytes before the scope in the message.
    public static func messagePrefix(expires: Int64) -> [UInt8] {
        Array("\(version)\n\(expires)\n".utf8)
    }

    /// The whole message the signature of a link for `scope` expiring at `expires` covers.
    public static func message(scope: String, expires: Int64) -> [UInt8] {
        messagePrefix(expires: expires) + Array(scope.utf8)
    }

    /// The lengths of the prefixes of `scope` (a request's own scope) that are scopes granting it,
    /// shortest first: every ancestor directory (each prefix ending in `/`), then the scope itself.
    /// The root scope `/` grants everything but is not a prefix; ask for it apart.
    public static func grantingLengths(of scope: String) -> [Int] {
        if scope == "/" { return [] }
        var lengths: [Int] = []
        for (index, byte) in scope.utf8.enumerated() where byte == UInt8(ascii: "/") { lengths.append(index + 1) }
        if lengths.last != scope.utf8.count { lengths.append(scope.utf8.count) }
        return lengths
    }

    /// Every scope granting `scope`, from the root down (the plain-text form of `grantingLengths`).
    public static func grantingScopes(of scope: String) -> [String] {
        let bytes = Array(scope.utf8)
        return ["/"] + grantingLengths(of: scope).map { String(decoding: bytes[..<$0], as: UTF8.self) }
    }

    private static func canonicalSeconds(_ text: [UInt8]) -> Int64? {
        guard (1...19).contains(text.count), text.allSatisfy({ UInt8(ascii: "0")...UInt8(ascii: "9") ~= $0 }),
            text.count == 1 || text.first != UInt8(ascii: "0")
        else { return nil }
        return Int64(String(decoding: text, as: UTF8.self))
    }
}
