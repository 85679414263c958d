import CMicroHTTPD
import Glibc

/// A PEM certificate chain and its private key, checked with GnuTLS before the daemon starts, for
/// libmicrohttpd's own TLS (`MHD_USE_TLS`). libmicrohttpd does not sendfile on TLS connections:
/// file bodies are read and encrypted instead, through the same response objects.
///
/// libmicrohttpd 0.9.75 loads the credentials once, when the daemon starts; there is no call to
/// replace them in a running daemon, so a renewed certificate takes a restart (docs/DEPLOY.md).
public struct TLSCredentials: Sendable {
    /// TLS 1.2 and 1.3 only; forward-secret key exchange and AEAD ciphers; the server's order.
    public static let defaultPriorities =
        "SECURE128:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305"
        + ":-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:%SERVER_PRECEDENCE"

    let certificate: [CChar]
    let key: [CChar]
    let priorities: [CChar]

    /// Reads and checks both files; one operator-readable line when a file is unreadable, not
    /// PEM, expired or not yet valid, or when the key does not belong to the certificate.
    public init(certificateFile: String, keyFile: String, priorities: String) throws(ServerError) {
        let certificate = try Self.read(certificateFile, option: "tlsCert")
        let key = try Self.read(keyFile, option: "tlsKey")
        var error = [CChar](repeating: 0, count: 256)
        guard cmhd_tls_check(certificate, key, priorities, &error, error.count) == 0 else {
            throw ServerError(description: String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        self.certificate = certificate
        self.key = key
        self.priorities = priorities.utf8CString.map { $0 }
    }

    /// The file's bytes with a NUL after them, as GnuTLS's PEM reader takes them.
    private static func read(_ path: String, option: String) throws(ServerError) -> [CChar] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw ServerError(description: "\(option) '\(path)': \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        var bytes: [CChar] = []
        var chunk = [CChar](repeating: 0, count: 65536)
        while true {
            let count = Glibc.read(descriptor, &chunk, chunk.count)
            guard count >= 0 else { throw ServerError(description: "\(option) '\(path)': \(String(cString: strerror(errno)))") }
            if count == 0 { break }
            bytes += chunk[..<count]
            guard bytes.count <= 1 << 20 else { throw ServerError(description: "\(option) '\(path)' is larger than 1 MiB: not a PEM file") }
        }
        guard !bytes.contains(0) else { throw ServerError(description: "\(option) '\(path)' is not a PEM file (it holds NUL bytes)") }
        return bytes + [0]
    }
}
