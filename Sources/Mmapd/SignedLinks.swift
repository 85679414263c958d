import Crypto
import Glibc
import HTTPSemantics

/// The server's signing key, and HMAC-SHA256 (swift-crypto) over `SignedLink` messages: signs
/// links for `mmapd sign`, checks them on requests. The rules of the link itself (scope, message,
/// parameters) are `HTTPSemantics.SignedLink`'s.
public struct SignedLinks: Sendable {
    /// Below this a key is refused: HMAC-SHA256's security needs a key as long as its output.
    public static let minimumKeyBytes = 32
    private let key: SymmetricKey

    init(key: [UInt8]) { self.key = SymmetricKey(data: key) }

    /// Reads the key file: its bytes, one final newline dropped (what `echo` or an editor
    /// leaves). Refused, with one line, when unreadable, not a regular file, shorter than 32
    /// bytes, or readable by others or by a group other than the server's own (a key anyone on
    /// the machine can read signs links for them too).
    public init(keyFile path: String) throws(SettingsError) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw SettingsError("signingKeyFile '\(path)': \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0, status.st_mode & S_IFMT == S_IFREG else {
            throw SettingsError("signingKeyFile '\(path)' is not a regular file")
        }
        if status.st_mode & 0o007 != 0 || (status.st_mode & 0o070 != 0 && status.st_gid != getegid()) {
            throw SettingsError(
                "signingKeyFile '\(path)' is accessible by other users (mode \(String(status.st_mode & 0o777, radix: 8))); chmod 600 it")
        }
        var bytes = [UInt8](repeating: 0, count: Int(min(status.st_size, 1 << 20)) + 1)
        let count = read(descriptor, &bytes, bytes.count)
        guard count >= 0 else { throw SettingsError("signingKeyFile '\(path)': \(String(cString: strerror(errno)))") }
        var key = Array(bytes[..<count])
        if key.last == UInt8(ascii: "\n") { key.removeLast() }
        guard key.count >= Self.minimumKeyBytes else {
            throw SettingsError(
                "signingKeyFile '\(path)' holds \(key.count) bytes; a signing key needs at least \(Self.minimumKeyBytes) "
                    + "(e.g. head -c 32 /dev/urandom > FILE)")
        }
        self.init(key: key)
    }

    /// The signed link for `path` (relative to the root; a trailing `/` makes it a directory
    /// link), valid until `expires` (Unix seconds): `/files/PATH?expires=…&signature=…`.
    public func link(for path: String, expires: Int64) throws(SettingsError) -> String {
        let target: FileTarget
        do {
            guard case .files(let parsed) = try RequestTarget(parsing: "/files/" + Self.percentEncoded(path)).route else {
                throw ProblemDetails.notFound()
            }
            target = parsed
        } catch {
            throw SettingsError("cannot sign '\(path)': not a path below the root ('..' and NUL are never allowed)")
        }
        let scope = SignedLink.scope(path: target.path.string, isDirectory: target.isDirectory)
        let parameters = SignedLink.Parameters(
            expires: expires,
            signature: Array(
                HMAC<SHA256>.authenticationCode(
                    for: SignedLink.message(scope: scope, expires: expires), using: key)))
        let encoded = target.path.segments.map(Self.percentEncoded).joined(separator: "/")
        let directorySlash = target.isDirectory && !encoded.isEmpty ? "/" : ""
        return "/files/" + encoded + directorySlash + "?" + parameters.query
    }

    /// The scope `parameters` sign when it is `scope` (a request's own) or a directory above it,
    /// else nil. One HMAC state walks the scope once and is finished at every level, so a deep
    /// path costs one pass, not one per level; each comparison is constant-time (swift-crypto's),
    /// and every level is compared whichever matches.
    func grantedScope(_ parameters: SignedLink.Parameters, scope: String) -> String? {
        var state = HMAC<SHA256>(key: key)
        state.update(data: SignedLink.messagePrefix(expires: parameters.expires))
        var root = state
        root.update(data: Array("/".utf8))
        var granted: String? = root.finalize() == parameters.signature ? "/" : nil
        let bytes = Array(scope.utf8)
        var fed = 0
        for length in SignedLink.grantingLengths(of: scope) {
            state.update(data: bytes[fed..<length])
            fed = length
            if state.finalize() == parameters.signature, granted == nil {
                granted = String(decoding: bytes[..<length], as: UTF8.self)
            }
        }
        return granted
    }

    /// Every byte but the unreserved ones (RFC 3986 §2.3) and `/` escaped, so the link names
    /// exactly the path that was signed.
    private static func percentEncoded(_ text: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var encoded: [UInt8] = []
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: "/"):
                encoded.append(byte)
            default:
                encoded += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
            }
        }
        return String(decoding: encoded, as: UTF8.self)
    }
}
