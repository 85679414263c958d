import Foundation
import Glibc
import Mmapd
import Testing

/// PUT and DELETE end to end against the files on disk: status codes, ETags, permissions,
/// preconditions, every refusal leaving the root as it was, the reserved temporary names, and
/// the methods and PATCH types a writable server advertises.
@Suite struct PutDeleteTests {
    static func writableServer(_ files: [String: [UInt8]] = [:], configure: (inout Settings) -> Void = { _ in }) throws -> TestServer {
        try TestServer(
            configure: {
                $0.writable = true
                configure(&$0)
            }, files: files)
    }

    /// Every name in the directory, hidden ones included: a left-over temporary shows here.
    static func names(in directory: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
    }

    @Test func createThenReplaceAnswer201Then204WithTheETagAGetSends() throws {
        let server = try Self.writableServer()
        let created = try server.request("PUT", "/files/new.txt", body: Array("first".utf8))
        #expect(created.status == 201, "\(created.text)")
        #expect(try server.read("new.txt") == Array("first".utf8))
        let get = try server.request("GET", "/files/new.txt")
        #expect(get.body == Array("first".utf8))
        #expect(created.header("ETag") != nil && get.header("ETag") == created.header("ETag"))
        #expect(get.header("Last-Modified") == created.header("Last-Modified"))

        let replaced = try server.request("PUT", "/files/new.txt", body: Array("second, longer".utf8))
        #expect(replaced.status == 204)
        #expect(replaced.header("ETag") != created.header("ETag"))
        #expect(try server.read("new.txt") == Array("second, longer".utf8))
        #expect(try server.request("GET", "/files/new.txt").header("ETag") == replaced.header("ETag"))

        // Same bytes, same size, within one clock tick: still a new ETag each time.
        var etags: Set<String> = [try #require(replaced.header("ETag"))]
        for _ in 0..<5 {
            let again = try server.request("PUT", "/files/new.txt", body: Array("second, longer".utf8))
            #expect(again.status == 204)
            etags.insert(try #require(again.header("ETag")))
        }
        #expect(etags.count == 6)
        // An empty body makes an empty file; chunked bodies are taken.
        #expect(try server.request("PUT", "/files/empty", body: []).status == 201)
        #expect(try server.read("empty") == [])
        let body = pseudoRandomBytes(count: 70_000, seed: 3)
        let chunkedPut = try server.request(
            "PUT", "/files/dir-less-chunked.bin", headers: [("Transfer-Encoding", "chunked")],
            body: chunked(body, chunkSize: 4099))
        #expect(chunkedPut.status == 201)
        #expect(try server.read("dir-less-chunked.bin") == body)
        #expect(try Self.names(in: server.root.path) == ["dir-less-chunked.bin", "empty", "new.txt"])
    }

    @Test func newFilesGetTheConfiguredModeAndReplacedOnesKeepTheirs() throws {
        let server = try Self.writableServer(["kept.txt": [1]]) { $0.newFileMode = 0o640 }
        chmod(server.path("kept.txt"), 0o604)
        #expect(try server.request("PUT", "/files/made.txt", body: [2]).status == 201)
        #expect(try fileStatus(server.path("made.txt")).st_mode & 0o7777 == 0o640)
        #expect(try server.request("PUT", "/files/kept.txt", body: [3]).status == 204)
        #expect(try fileStatus(server.path("kept.txt")).st_mode & 0o7777 == 0o604)
        #expect(try server.read("kept.txt") == [3])
    }

    @Test func preconditionsAreHeldAgainstTheFileAsItIs() throws {
        let server = try Self.writableServer(["a.txt": Array("old".utf8)])
        let etag = try #require(try server.request("GET", "/files/a.txt").header("ETag"))
        let before = try FileSnapshot(server.path("a.txt"))
        let refusals: [(String, [(String, String)])] = [
            ("If-None-Match: * on an existing file", [("If-None-Match", "*")]),
            ("If-Match stale", [("If-Match", "\"stale\"")]),
            ("If-Match weak", [("If-Match", "W/" + etag)]),
            ("If-Unmodified-Since long ago", [("If-Unmodified-Since", "Sat, 01 Jan 2000 00:00:00 GMT")])
        ]
        for (name, headers) in refusals {
            let response = try server.request("PUT", "/files/a.txt", headers: headers, body: Array("new".utf8))
            #expect(response.status == 412, "\(name): \(response.text)")
            #expect(try FileSnapshot(server.path("a.txt")) == before, "\(name)")
            let delete = try server.request("DELETE", "/files/a.txt", headers: headers)
            #expect(delete.status == 412, "\(name): DELETE \(delete.text)")
            #expect(try FileSnapshot(server.path("a.txt")) == before, "\(name): DELETE")
        }
        // If-Match on a missing file fails; If-None-Match: * creates.
        #expect(try server.request("PUT", "/files/b.txt", headers: [("If-Match", "*")], body: [1]).status == 412)
        #expect(!FileManager.default.fileExists(atPath: server.path("b.txt")))
        #expect(try server.request("PUT", "/files/b.txt", headers: [("If-None-Match", "*")], body: [1]).status == 201)
        // The current ETag replaces; the one before that no longer does.
        let replaced = try server.request("PUT", "/files/a.txt", headers: [("If-Match", etag)], body: Array("new".utf8))
        #expect(replaced.status == 204)
        #expect(try server.request("PUT", "/files/a.txt", headers: [("If-Match", etag)], body: [9]).status == 412)
        let current = try #require(replaced.header("ETag"))
        #expect(try server.request("DELETE", "/files/a.txt", headers: [("If-Match", current)]).status == 204)
        #expect(!FileManager.default.fileExists(atPath: server.path("a.txt")))
    }

    /// Each refused PUT leaves every file under the root as it was, and no temporary behind.
    @Test func refusedPutsChangeNothing() throws {
        let server = try Self.writableServer(["dir/x.txt": Array("x".utf8), "f.txt": Array("f".utf8)]) { $0.maxBodyBytes = 1000 }
        let outside = FileManager.default.temporaryDirectory.appendingPathComponent("mmapd-outside-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: outside) }
        symlink(outside, server.path("out"))
        symlink(outside + "/nothing", server.path("dangling"))
        let snapshot = { () throws -> [String: FileSnapshot] in
            ["dir/x.txt": try FileSnapshot(server.path("dir/x.txt")), "f.txt": try FileSnapshot(server.path("f.txt"))]
        }
        let before = try snapshot()
        let cases: [(String, String, [(String, String)], [UInt8], Int)] = [
            ("missing parent", "/files/nowhere/new.txt", [], [1], 409),
            ("a file as parent", "/files/f.txt/new.txt", [], [1], 409),
            ("a directory", "/files/dir", [], [1], 409),
            ("a directory with a slash", "/files/dir/", [], [1], 409),
            ("the root", "/files/", [], [1], 409),
            ("through a link out of the root", "/files/out/new.txt", [], [1], 404),
            ("a dangling link", "/files/dangling", [], [1], 404),
            ("dot-dot", "/files/dir/../../x", [], [1], 404),
            ("Content-Range", "/files/f.txt", [("Content-Range", "bytes 0-0/*")], [1], 400),
            ("Content-Encoding", "/files/f.txt", [("Content-Encoding", "gzip")], [1], 415),
            ("declared too large", "/files/f.txt", [], fill(1, 1001), 413),
            ("chunked too large", "/files/f.txt", [("Transfer-Encoding", "chunked")], chunked(fill(1, 1500), chunkSize: 100), 413),
            ("a temporary's name", "/files/.mmapd-upload-0123456789abcdef0123456789abcdef.tmp", [], [1], 404)
        ]
        for (name, target, headers, body, status) in cases {
            let response = try server.request("PUT", target, headers: headers, body: body)
            #expect(response.status == status, "\(name): \(response.text)")
            #expect(response.header("Content-Type") == "application/problem+json", "\(name)")
            #expect(try snapshot() == before, "\(name) changed a file")
            // The temporary of a refused body goes with the refusal.
            #expect(try eventually { try Self.names(in: server.root.path) == ["dangling", "dir", "f.txt", "out"] }, "\(name)")
            #expect(try Self.names(in: outside).isEmpty, "\(name) wrote outside the root")
        }
        #expect(try Self.names(in: server.path("dir")) == ["x.txt"])
    }

    @Test func writesThroughALinkReplaceTheFileItNames() throws {
        let server = try Self.writableServer(["real/target.txt": Array("old".utf8)])
        symlink("real/target.txt", server.path("link.txt"))
        symlink("real", server.path("alias"))
        #expect(try server.request("PUT", "/files/link.txt", body: Array("via link".utf8)).status == 204)
        #expect(try server.read("real/target.txt") == Array("via link".utf8))
        var status = stat()
        #expect(lstat(server.path("link.txt"), &status) == 0 && status.st_mode & S_IFMT == S_IFLNK, "the link stays a link")
        #expect(try server.request("PUT", "/files/alias/made.txt", body: [7]).status == 201)
        #expect(try server.read("real/made.txt") == [7])
        #expect(try server.request("DELETE", "/files/alias/made.txt").status == 204)
        #expect(!FileManager.default.fileExists(atPath: server.path("real/made.txt")))
    }

    @Test func deleteRemovesFilesOnly() throws {
        let server = try Self.writableServer(["d/f.txt": [1], "g.txt": [2]])
        #expect(try server.request("DELETE", "/files/d").status == 409)
        #expect(try server.request("DELETE", "/files/d/").status == 409)
        #expect(try server.request("DELETE", "/files/missing").status == 404)
        #expect(try server.request("DELETE", "/files/nodir/missing").status == 404)
        #expect(try server.request("DELETE", "/files/g.txt", body: [1]).status == 400)
        #expect(FileManager.default.fileExists(atPath: server.path("g.txt")))
        let deleted = try server.request("DELETE", "/files/d/f.txt")
        #expect(deleted.status == 204)
        #expect(!FileManager.default.fileExists(atPath: server.path("d/f.txt")))
        #expect(try server.request("GET", "/files/d/f.txt").status == 404)
        #expect(try server.request("DELETE", "/files/d/f.txt").status == 404)
    }

    @Test func aReadOnlyServerRefusesWritesWith405() throws {
        let server = try TestServer(files: ["f.txt": [1]])
        for method in ["PUT", "DELETE", "PATCH"] {
            let response = try server.request(method, "/files/f.txt", headers: [("Content-Range", "bytes */0")])
            #expect(response.status == 405, "\(method)")
            #expect(response.header("Allow") == "GET, HEAD, OPTIONS", "\(method)")
        }
        #expect(try server.read("f.txt") == [1])
        #expect(try server.request("GET", "/files/f.txt").header("Accept-Patch") == nil)
    }

    @Test func aWritableServerNamesItsMethodsAndPatchTypes() throws {
        let server = try Self.writableServer(["f.txt": [1]])
        for method in ["GET", "HEAD", "OPTIONS"] {
            let response = try server.request(method, "/files/f.txt")
            #expect(response.header("Accept-Patch") == "message/byterange, multipart/byteranges", "\(method)")
        }
        #expect(try server.request("OPTIONS", "/files/f.txt").header("Allow") == "GET, HEAD, PUT, PATCH, DELETE, OPTIONS")
        #expect(try server.request("POST", "/files/f.txt").header("Allow") == "GET, HEAD, PUT, PATCH, DELETE, OPTIONS")
        #expect(try server.request("GET", "/files/").header("Accept-Patch") == nil, "listings take no PATCH")
    }

    /// Abandoned uploads leave nothing: a client that leaves mid-body.
    @Test func anUploadCutShortLeavesNoTemporaryAndTheTargetAsItWas() throws {
        let server = try Self.writableServer(["t.bin": Array("original".utf8)])
        let before = try FileSnapshot(server.path("t.bin"))
        for framing in ["Content-Length: 100000", "Transfer-Encoding: chunked"] {
            let connection = try HTTPConnection(port: server.port)
            try connection.sendRaw(Array("PUT /files/t.bin HTTP/1.1\r\nHost: x\r\n\(framing)\r\n\r\n".utf8))
            try connection.sendRaw(framing.hasPrefix("Transfer") ? Array("1000\r\n".utf8) + fill(7, 0x1000) + [13, 10] : fill(7, 30_000))
            // The temporary exists while the body arrives...
            #expect(try eventually { try Self.names(in: server.root.path).count == 2 }, "\(framing)")
            withExtendedLifetime(connection) {}
        }
        // ...and is gone once its client is.
        #expect(try eventually { try Self.names(in: server.root.path) == ["t.bin"] })
        #expect(try FileSnapshot(server.path("t.bin")) == before)
        #expect(try server.request("PUT", "/files/t.bin", body: [1]).status == 204, "the turn was given back")
    }

    /// A temporary left by a crash is removed at start; anything else, and a temporary another
    /// live process holds, stays. Temporary names are hidden from listings and requests.
    @Test func staleTemporariesAreSweptAtStart() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("mmapd-sweep-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root + "/a/b", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let stale = ["/.mmapd-upload-00000000000000000000000000000000.tmp", "/a/b/.mmapd-upload-0123456789abcdef0123456789abcdef.tmp"]
        let kept = [
            "/.mmapd-upload-short.tmp", "/.mmapd-upload-0123456789ABCDEF0123456789ABCDEF.tmp", "/a/user.tmp",
            "/a/.mmapd-upload-0123456789abcdef0123456789abcdef.tmp.bak"
        ]
        let held = "/a/.mmapd-upload-ffffffffffffffffffffffffffffffff.tmp"
        for path in stale + kept + [held] { try Data([1]).write(to: URL(fileURLWithPath: root + path)) }
        let holder = open(root + held, O_RDONLY)
        defer { close(holder) }
        #expect(flock(holder, LOCK_EX) == 0)

        let server = try TestServer(configure: {
            $0.writable = true
            $0.root = root
        })
        #expect(eventually { stale.allSatisfy { !FileManager.default.fileExists(atPath: root + $0) } })
        for path in kept + [held] { #expect(FileManager.default.fileExists(atPath: root + path), "\(path)") }
        #expect(try server.request("GET", "/files/a" + held.dropFirst(2)).status == 404)
        #expect(try server.request("DELETE", "/files/a" + held.dropFirst(2)).status == 404)
        let listing = try server.request("GET", "/files/a/?format=json").text
        #expect(!listing.contains(".mmapd-upload-ffff") && listing.contains("user.tmp"), "\(listing)")
        let search = try server.request("GET", "/search/?q=%01&hidden=true&binary=text").json
        #expect((search["files_searched"] as? Int) == 4, "\(search)")
    }

    /// curl -T: a 3 MiB upload with `Expect: 100-continue`, behind a token; DELETE by curl.
    @Test func curlUploadsAndDeletes() throws {
        let server = try Self.writableServer { $0.tokens = ["s3cret"] }
        let bytes = pseudoRandomBytes(count: 3 << 20, seed: 20)
        let file = try PatchTests.temporaryFile(bytes)
        defer { unlink(file) }
        let refused = try curl(["-T", file, "-w", "%{http_code}", "-o", "/dev/null", server.baseURL + "/files/up.bin"])
        #expect(refused.stdoutText == "401")
        #expect(!FileManager.default.fileExists(atPath: server.path("up.bin")))
        let created = try curl([
            "-v", "-T", file, "--oauth2-bearer", "s3cret", "-w", "%{http_code}", "-o", "/dev/null",
            server.baseURL + "/files/up.bin"
        ])
        #expect(created.stdoutText == "201", "\(created.stderr.suffix(2000))")
        #expect(created.stderr.contains("Expect: 100-continue"), "curl did not ask for 100-continue; the case is not exercised")
        #expect(try server.read("up.bin") == bytes)
        let deleted = try curl([
            "-X", "DELETE", "--oauth2-bearer", "s3cret", "-w", "%{http_code}", "-o", "/dev/null",
            server.baseURL + "/files/up.bin"
        ])
        #expect(deleted.stdoutText == "204")
        #expect(!FileManager.default.fileExists(atPath: server.path("up.bin")))
    }

    /// A 1 MiB tmpfs as the root, filled up: a PUT answers 507 (declared: before its body;
    /// chunked: when the disk fills), the target keeps its bytes, no temporary stays; a resize
    /// that needs blocks is 507 too; with space again, both work.
    @Test(.enabled("needs mount -t tmpfs: root with CAP_SYS_ADMIN") { Privileges.canMount })
    func aFullFilesystemAnswers507AndLeavesTheTarget() throws {
        let (scratch, reason) = ScratchMount.tmpfs(size: "1m")
        let mount = try #require(scratch, "\(reason)")
        defer { mount.unmount() }
        let original = pseudoRandomBytes(count: 100_000, seed: 21)
        try Data(original).write(to: URL(fileURLWithPath: mount.path + "/t.bin"))
        let server = try TestServer(configure: {
            $0.writable = true
            $0.root = mount.path
        })
        defer { withExtendedLifetime(server) {} }
        try PatchStorageTests.fillFilesystem(mount.path)
        let before = try FileSnapshot(mount.path + "/t.bin")
        let body = fill(0x50, 64 << 10)
        let attempts: [(String, [(String, String)], [UInt8], String)] = [
            ("declared", [], body, "/files/t.bin"),
            ("chunked", [("Transfer-Encoding", "chunked")], chunked(body, chunkSize: 8 << 10), "/files/t.bin"),
            ("declared, new file", [], body, "/files/new.bin")
        ]
        for (name, headers, body, target) in attempts {
            let response = try server.request("PUT", target, headers: headers, body: body)
            #expect(response.status == 507, "\(name): \(response.text)")
            #expect(response.header("Content-Type") == "application/problem+json", "\(name)")
            #expect(try FileSnapshot(mount.path + "/t.bin") == before, "\(name) changed the target")
            #expect(
                try eventually { try Self.names(in: mount.path) == ["filler", "t.bin"] },
                "\(name) left \((try? Self.names(in: mount.path)) ?? [])")
        }
        let resize = try server.request("PATCH", "/files/t.bin", headers: [("Content-Range", "bytes */\(original.count + (64 << 10))")])
        #expect(resize.status == 507, "\(resize.text)")
        #expect(try FileSnapshot(mount.path + "/t.bin") == before)
        unlink(mount.path + "/filler")
        #expect(try server.request("PUT", "/files/t.bin", body: fill(0x51, 300_000)).status == 204)
        #expect(try server.read(at: mount.path + "/t.bin") == fill(0x51, 300_000))
        #expect(try server.request("PATCH", "/files/t.bin", headers: [("Content-Range", "bytes */400000")]).status == 204)
        #expect(try server.read(at: mount.path + "/t.bin") == fill(0x51, 300_000) + fill(0, 100_000))
    }
}
