import Foundation
import Glibc
import Mmapd
import Testing

/// `--revalidate-milliseconds`: how long a cached file's stat is trusted.
@Suite struct RevalidationTests {
    /// The default stats on every request: a file replaced on disk is served new at once.
    @Test func byDefaultAReplacementIsSeenAtOnce() throws {
        let server = try TestServer(files: ["f.txt": Array("old!".utf8)])
        #expect(try server.request("GET", "/files/f.txt").text == "old!")
        try replace(server, "f.txt", with: "new!")
        #expect(try server.request("GET", "/files/f.txt").text == "new!")
    }

    /// Within a long interval a replacement by someone else is not seen (the old version is served
    /// whole, with its own validators), but a PATCH through this server is, with new validators.
    @Test func withAnIntervalOwnWritesAreSeenAtOnceOthersLater() throws {
        let server = try TestServer(
            configure: {
                $0.writable = true
                $0.revalidateMilliseconds = 3_600_000
            },
            files: ["f.txt": Array("old!".utf8), "g.txt": Array("abcd".utf8)])
        let first = try server.request("GET", "/files/f.txt")
        try replace(server, "f.txt", with: "new!")
        let trusted = try server.request("GET", "/files/f.txt")
        #expect(trusted.text == "old!")
        #expect(trusted.header("ETag") == first.header("ETag"))

        let before = try server.request("GET", "/files/g.txt")
        #expect(
            try server.request("PATCH", "/files/g.txt", headers: [("Content-Range", "bytes 1-2/*")], body: Array("XY".utf8)).status == 204)
        let after = try server.request("GET", "/files/g.txt")
        #expect(after.text == "aXYd")
        #expect(after.header("ETag") != before.header("ETag"))
    }

    private func replace(_ server: TestServer, _ name: String, with text: String) throws {
        let staging = server.path(".\(name).new")
        try Data(text.utf8).write(to: URL(fileURLWithPath: staging))
        #expect(rename(staging, server.path(name)) == 0)
    }
}
