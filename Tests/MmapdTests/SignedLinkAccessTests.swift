import Foundation
import Glibc
import Mmapd
import Testing

/// Signed links on a live server: what a link grants (its path, or everything below a directory
/// link, for GET and HEAD of files, listings and searches, until it expires) and every forgery
/// that must fail: altered path or signature, prefix games, encodings, a stretched expiry, another
/// method, another route, another key.
@Suite struct SignedLinkAccessTests {
    static let files: [String: [UInt8]] = [
        "dir/a.txt": Array("alpha in dir\n".utf8), "dir/sub/b.txt": Array("beta below\n".utf8), "dir2/c.txt": Array("gamma in dir2\n".utf8),
        "dirx.txt": Array("beside\n".utf8), "top.txt": Array("top secret\n".utf8)
    ]
    static let writeToken = "link-write-token"

    /// A key file with mode 600 holding `bytes`.
    static func keyFile(_ bytes: [UInt8], mode: mode_t = 0o600) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("mmapd-key-\(UUID().uuidString)").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        chmod(path, mode)
        return path
    }

    static let key = Array("0123456789abcdef0123456789abcdef-test-key".utf8)

    static func server(key: [UInt8] = key) throws -> (TestServer, SignedLinks) {
        let path = try keyFile(key)
        let server = try TestServer(
            configure: { settings in
                settings.signingKeyFile = path
                settings.writable = true
                settings.tokens = [writeToken]
            }, files: files)
        return (server, try SignedLinks(keyFile: path))
    }

    static var inAnHour: Int64 { Int64(time(nil)) + 3600 }

    /// The query part of a link.
    static func query(_ link: String) -> String { String(link[link.index(after: link.firstIndex(of: "?")!)...]) }

    @Test func aDirectoryLinkGrantsReadingEverythingBelowIt() throws {
        let (server, links) = try Self.server()
        let link = try links.link(for: "dir/", expires: Self.inAnHour)
        #expect(link.hasPrefix("/files/dir/?expires="))
        let query = Self.query(link)
        #expect(try server.request("GET", link).status == 200)  // the listing itself
        #expect(try server.request("GET", "/files/dir/a.txt?\(query)").text == "alpha in dir\n")
        #expect(try server.request("HEAD", "/files/dir/a.txt?\(query)").status == 200)
        #expect(try server.request("GET", "/files/dir/a.txt?\(query)", headers: [("Range", "bytes=0-4")]).text == "alpha")
        #expect(try server.request("GET", "/files/dir/sub/b.txt?\(query)").text == "beta below\n")
        #expect(try server.request("GET", "/files/dir/sub/?\(query)").status == 200)
        #expect(try server.request("GET", "/search/dir/a.txt?q=alpha&\(query)").json["count"] as? Int == 1)
        // Other parameters around it do not matter (views, cache busters).
        #expect(try server.request("GET", "/files/dir/a.txt?lines=1&\(query)&v=2").status == 200)
        // Every spelling of a path below it.
        for target in ["/files/%64ir/a.txt", "/files/dir%2Fa.txt", "/files/dir//a.txt", "/files/./dir/a.txt"] {
            #expect(try server.request("GET", "\(target)?\(query)").text == "alpha in dir\n", "\(target)")
        }
        #expect(try server.request("GET", "/files/dir/missing.txt?\(query)").status == 404)
    }

    @Test func aDirectoryLinkGrantsNothingBesideOrAboveIt() throws {
        let (server, links) = try Self.server()
        let query = Self.query(try links.link(for: "dir/", expires: Self.inAnHour))
        for target in [
            "/files/dir2/c.txt", "/files/dir2/", "/files/dirx.txt", "/files/top.txt", "/files/", "/files/dir",
            "/files/dir/../top.txt", "/files/dir/%2e%2e/top.txt", "/files/dir%2F..%2Ftop.txt", "/search/dir2/c.txt?q=g",
            "/search/top.txt?q=t", "/metrics", "/nowhere", "/files/di", "/files/dir2"
        ] {
            let answer = try server.request("GET", target + (target.contains("?") ? "&" : "?") + query)
            #expect(answer.status == 403, "\(target)")
            #expect(!answer.text.contains("secret") && !answer.text.contains("gamma"))
        }
    }

    @Test func aFileLinkGrantsThatFileOnly() throws {
        let (server, links) = try Self.server()
        let link = try links.link(for: "dir/a.txt", expires: Self.inAnHour)
        #expect(link.hasPrefix("/files/dir/a.txt?expires="))
        let query = Self.query(link)
        #expect(try server.request("GET", link).text == "alpha in dir\n")
        #expect(try server.request("GET", "/search/dir/a.txt?q=in&\(query)").status == 200)
        for target in ["/files/dir/", "/files/dir/a.txt/", "/files/dir/a.txt2", "/files/dir/sub/b.txt", "/files/dir/a.tx"] {
            #expect(try server.request("GET", "\(target)?\(query)").status == 403, "\(target)")
        }
    }

    @Test func aRootLinkGrantsEveryFileButNotOtherRoutes() throws {
        let (server, links) = try Self.server()
        let link = try links.link(for: "/", expires: Self.inAnHour)
        #expect(link.hasPrefix("/files/?expires="))
        let query = Self.query(link)
        #expect(try server.request("GET", "/files/top.txt?\(query)").text == "top secret\n")
        #expect(try server.request("GET", "/files/dir2/c.txt?\(query)").status == 200)
        #expect(try server.request("GET", "/metrics?\(query)").status == 403)
    }

    @Test func alteredLinksAre403() throws {
        let (server, links) = try Self.server()
        let expires = Self.inAnHour
        let link = try links.link(for: "dir/a.txt", expires: expires)
        let signature = String(link[link.range(of: "signature=")!.upperBound...])
        let flipped = String(signature.dropLast()) + (signature.last == "0" ? "1" : "0")
        let altered = [
            "expires=\(expires + 1)&signature=\(signature)",  // stretched expiry
            "expires=\(expires + 86_400 * 365)&signature=\(signature)",
            "expires=0\(expires)&signature=\(signature)",  // another spelling of the same expiry
            "expires=\(expires)&signature=\(flipped)",
            "expires=\(expires)&signature=\(signature.uppercased())",
            "expires=\(expires)&signature=\(signature.dropLast(2))",
            "expires=\(expires)&signature=\(signature)&signature=\(signature)",
            "expires=\(expires)&expires=\(expires)&signature=\(signature)",
            "signature=\(signature)",
            "expires=\(expires)",
            "expires=\(expires)&signature="
        ]
        for query in altered {
            let answer = try server.request("GET", "/files/dir/a.txt?\(query)")
            #expect(answer.status == 403, "\(query)")
            #expect(answer.header("Content-Type") == "application/problem+json")
        }
        // The path itself altered, the link kept.
        #expect(try server.request("GET", "/files/dir/sub/b.txt?expires=\(expires)&signature=\(signature)").status == 403)
        #expect(try server.request("GET", "/files/top.txt?expires=\(expires)&signature=\(signature)").status == 403)
    }

    @Test func anExpiredLinkIs403() throws {
        let (server, links) = try Self.server()
        let link = try links.link(for: "dir/a.txt", expires: Int64(time(nil)) - 1)
        let answer = try server.request("GET", link)
        #expect(answer.status == 403)
        #expect(answer.text.contains("expired"))
    }

    @Test func aLinkFromAnotherKeyIs403() throws {
        let (server, _) = try Self.server()
        let other = try SignedLinks(keyFile: try Self.keyFile(Array("another key, also 32 bytes or more....".utf8)))
        #expect(try server.request("GET", try other.link(for: "dir/a.txt", expires: Self.inAnHour)).status == 403)
    }

    @Test(arguments: ["PATCH", "PUT", "DELETE", "POST", "OPTIONS"])
    func aLinkNeverGrantsAnotherMethod(method: String) throws {
        let (server, links) = try Self.server()
        let link = try links.link(for: "dir/", expires: Self.inAnHour)
        let answer = try server.request(
            method, "/files/dir/a.txt?\(Self.query(link))",
            headers: method == "PATCH" ? [("Content-Range", "bytes 0-4/*")] : [], body: method == "PATCH" ? Array("ALPHA".utf8) : [])
        #expect(answer.status == 403, "\(method)")
        #expect(try server.read("dir/a.txt") == Self.files["dir/a.txt"])
    }

    @Test func withoutALinkOrATokenReadingIs401AndATokenStillWorks() throws {
        let (server, _) = try Self.server()
        let refused = try server.request("GET", "/files/dir/a.txt")
        #expect(refused.status == 401)
        #expect(refused.header("WWW-Authenticate")?.hasPrefix("Bearer") == true)
        #expect(try server.request("GET", "/files/dir/a.txt", headers: [("Authorization", "Bearer \(Self.writeToken)")]).status == 200)
        #expect(try server.request("GET", "/healthz").status == 200)
    }

    /// The key is the file's bytes; one final newline is not part of it.
    @Test func aFinalNewlineIsNotPartOfTheKey() throws {
        let plain = try SignedLinks(keyFile: try Self.keyFile(Self.key))
        let withNewline = try SignedLinks(keyFile: try Self.keyFile(Self.key + [0x0A]))
        #expect(try plain.link(for: "a", expires: 100) == (try withNewline.link(for: "a", expires: 100)))
        let twoNewlines = try SignedLinks(keyFile: try Self.keyFile(Self.key + [0x0A, 0x0A]))
        #expect(try plain.link(for: "a", expires: 100) != (try twoNewlines.link(for: "a", expires: 100)))
    }

    @Test(arguments: [
        (Array(repeating: UInt8(ascii: "k"), count: 31), mode_t(0o600), "at least 32"),
        (Array(repeating: UInt8(ascii: "k"), count: 31) + [0x0A], 0o600, "at least 32"),
        ([], 0o600, "at least 32"),
        (Array(repeating: UInt8(ascii: "k"), count: 64), 0o644, "accessible by other users"),
        (Array(repeating: UInt8(ascii: "k"), count: 64), 0o604, "accessible by other users"),
        (Array(repeating: UInt8(ascii: "k"), count: 64), 0o602, "accessible by other users")
    ])
    func badKeyFilesAreRefused(bytes: [UInt8], mode: mode_t, reason: String) throws {
        let path = try Self.keyFile(bytes, mode: mode)
        #expect { try SignedLinks(keyFile: path) } throws: { ($0 as? SettingsError)?.description.contains(reason) == true }
    }

    @Test func aMissingKeyFileIsRefused() {
        #expect(throws: SettingsError.self) { try SignedLinks(keyFile: "/nonexistent/mmapd-key") }
        #expect(throws: SettingsError.self) { try SignedLinks(keyFile: "/tmp") }
    }
}
