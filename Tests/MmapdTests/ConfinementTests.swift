import Foundation
import Glibc
import Testing

@testable import Mmapd

/// Every way out of the root must look exactly like a missing file: same status, same body.
@Suite struct ConfinementTests {
    static let escapes = [
        "/files/../secret.txt",
        "/files/%2e%2e/secret.txt",
        "/files/%2E%2e/secret.txt",
        "/files/.%2e/secret.txt",
        "/files/sub/../../secret.txt",
        "/files/sub/%2e%2e/%2e%2e/secret.txt",
        "/files/..%2fsecret.txt",
        "/files/sub%2f..%2f..%2fsecret.txt",
        "/files/inside.txt%00.jpg",
        "/files/%00",
        "/files/escape-link",
        "/files/escape-dir/secret.txt",
        // A symlink to a directory outside: no redirect to it, no listing of it.
        "/files/escape-dir",
        "/files/escape-dir/",
        "/search/escape-dir?q=a",
        "/files//etc/passwd",
        "/files/%2fetc%2fpasswd"
    ]

    @Test(arguments: escapes)
    func escapesAnswerLikeAMissingFile(target: String) throws {
        let outside = FileManager.default.temporaryDirectory.appendingPathComponent("outside-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: outside) }
        try Data("top secret".utf8).write(to: outside.appendingPathComponent("secret.txt"))

        let server = try TestServer(files: ["inside.txt": Array("inside".utf8), "sub/x": [1]])
        // The root itself lives next to `outside`, so "../secret.txt" resolved naively would hit it.
        try? FileManager.default.copyItem(
            at: outside.appendingPathComponent("secret.txt"),
            to: server.root.deletingLastPathComponent().appendingPathComponent("secret.txt"))
        symlink(outside.appendingPathComponent("secret.txt").path, server.path("escape-link"))
        symlink(outside.path, server.path("escape-dir"))

        let missing = try server.request("GET", "/files/definitely-missing")
        let response = try server.request("GET", target)
        #expect(response.status == 404)
        #expect(!response.text.contains("top secret"))
        #expect(response.header("Content-Type") == "application/problem+json")
        #expect(response.body == missing.body, "body must not differ from a missing file's")
    }

    @Test func symlinkWithinTheRootIsServed() throws {
        let server = try TestServer(files: ["real.txt": Array("real".utf8)])
        symlink("real.txt", server.path("alias.txt"))
        #expect(try server.request("GET", "/files/alias.txt").text == "real")
    }

    @Test func symlinkToADirectoryWithinTheRootRedirects() throws {
        let server = try TestServer(files: ["real/a.txt": Array("a".utf8)])
        symlink("real", server.path("alias"))
        let response = try server.request("GET", "/files/alias")
        #expect(response.status == 301)
        #expect(response.header("Location") == "/files/alias/")
    }

    @Test func errorBodiesRevealNoServerPath() throws {
        let server = try TestServer()
        for target in ["/files/missing", "/files/../x", "/files/%zz", "/search/missing?q=a"] {
            let response = try server.request("GET", target)
            #expect(!response.text.contains(server.root.path), "\(target)")
            #expect(!response.text.contains("/tmp"), "\(target)")
        }
    }

    @Test func badPercentEscapeIs400() throws {
        let server = try TestServer()
        let response = try server.request("GET", "/files/a%zz")
        #expect(response.status == 400)
        #expect(response.header("Content-Type") == "application/problem+json")
    }
}
