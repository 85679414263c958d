import Foundation
import Glibc
import Mmapd
import Testing

/// PATCH against the storage underneath: a body far larger than any buffer streams into the
/// mapping, a full filesystem answers 507 instead of a SIGBUS, changing nothing, and the answer
/// is sent only after the flush. Serialized: two tests here measure this process's memory.
@Suite(.serialized) struct PatchStorageTests {
    /// Chunk `index` of the large upload: one pseudo-random MiB with every 4 KiB page stamped
    /// with its chunk and page number, so a misplaced page cannot pass for a right one.
    static func chunk(_ index: Int, base: [UInt8]) -> [UInt8] {
        var bytes = base
        bytes.withUnsafeMutableBytes { raw in
            for page in stride(from: 0, to: raw.count, by: 4096) {
                raw.storeBytes(of: UInt64(index) << 32 | UInt64(page), toByteOffset: page, as: UInt64.self)
            }
        }
        return bytes
    }

    /// 64 MiB in one raw PATCH, sent 1 MiB at a time, landing after a 4-byte head (so not
    /// page-aligned) and growing the file. The server's anonymous memory (heap, where a buffered
    /// body would sit) must not grow by anything like the body. Measured on a separate mmapd
    /// process: this test process's own memory moves with every test running beside it.
    /// `RssAnon`, not `VmRSS`: the file pages written through the shared mapping are resident
    /// by design and would count in `VmRSS`.
    @Test func a64MiBStreamedPatchLandsWithoutBeingBuffered() throws {
        let chunkSize = 1 << 20
        let chunks = 64
        let total = chunks * chunkSize
        let server = try TestServer(files: ["big.bin": Array("head".utf8)])
        let (spawned, port) = try SpawnedServer.started(root: server.root.path, ["--writable"])
        let pid = spawned.process.processIdentifier
        defer { spawned.stop() }
        let base = pseudoRandomBytes(count: chunkSize, seed: 64)
        let connection = try HTTPConnection(port: port, timeoutSeconds: 120)
        #expect(try connection.send("GET", "/healthz").status == 200)
        let before = try anonymousResidentBytes(pid: pid)
        var peak = before
        try connection.sendRaw(
            Array(
                "PATCH /files/big.bin HTTP/1.1\r\nHost: x\r\nContent-Range: bytes 4-\(4 + total - 1)/*\r\nContent-Length: \(total)\r\n\r\n"
                    .utf8))
        for index in 0..<chunks {
            try connection.sendRaw(Self.chunk(index, base: base))
            peak = max(peak, try anonymousResidentBytes(pid: pid))
        }
        let response = try connection.readResponse()
        peak = max(peak, try anonymousResidentBytes(pid: pid))
        #expect(response.status == 204, "\(response.text)")
        let growth = peak > before ? peak - before : 0
        #expect(growth < 32 << 20, "anonymous memory grew by \(growth >> 20) MiB during a \(total >> 20) MiB PATCH")

        let path = server.path("big.bin")
        #expect(try fileStatus(path).st_size == off_t(4 + total))
        #expect(try readBytes(path, at: 0, count: 4) == Array("head".utf8))
        for index in 0..<chunks where try readBytes(path, at: 4 + index * chunkSize, count: chunkSize) != Self.chunk(index, base: base) {
            Issue.record("chunk \(index) is not what was sent")
            break
        }
        // And it is what a GET serves: the last MiB by range.
        let tail = try server.request("GET", "/files/big.bin", headers: [("Range", "bytes=-\(chunkSize)")])
        #expect(tail.body == Self.chunk(chunks - 1, base: base))
    }

    /// The same 64 MiB as a chunked body with a small in-memory limit. A chunked raw body has no
    /// declared length, so the server cannot stream it and still refuse a short one with nothing
    /// written: it must either refuse it (413) or take it without holding it whole in memory.
    @Test func a64MiBChunkedPatchIsNotHeldInMemory() throws {
        let chunkSize = 1 << 20
        let chunks = 64
        let total = chunks * chunkSize
        let server = try TestServer(
            configure: {
                $0.writable = true
                $0.maxBufferedBodyBytes = 8 << 20
            }, files: ["big.bin": []])
        let base = pseudoRandomBytes(count: chunkSize, seed: 65)
        let connection = try HTTPConnection(port: server.port, timeoutSeconds: 120)
        let before = try anonymousResidentBytes()
        var peak = before
        try connection.sendRaw(
            Array(
                ("PATCH /files/big.bin HTTP/1.1\r\nHost: x\r\nContent-Range: bytes 0-\(total - 1)/*\r\n"
                    + "Transfer-Encoding: chunked\r\n\r\n").utf8))
        do {
            for index in 0..<chunks {
                try connection.sendRaw(Array("\(String(chunkSize, radix: 16))\r\n".utf8) + Self.chunk(index, base: base) + [13, 10])
                peak = max(peak, try anonymousResidentBytes())
            }
            try connection.sendRaw(Array("0\r\n\r\n".utf8))
        } catch {
            // Refused early and closed: the answer is already on its way.
        }
        let response = try connection.readResponse()
        peak = max(peak, try anonymousResidentBytes())
        let growth = peak > before ? peak - before : 0
        #expect([204, 413].contains(response.status), "\(response.text)")
        if response.status == 204 {
            #expect(
                growth < 32 << 20,
                "the chunked body was held in memory: anonymous memory grew by \(growth >> 20) MiB for a \(total >> 20) MiB PATCH, with maxBufferedBodyBytes 8 MiB"
            )
            #expect(try readBytes(server.path("big.bin"), at: total - chunkSize, count: chunkSize) == Self.chunk(chunks - 1, base: base))
        } else {
            #expect(try fileStatus(server.path("big.bin")).st_size == 0)
        }
    }

    /// Watches the real binary's system calls under strace: each 204 is sent only after an
    /// fdatasync returned (the only flush: it writes back the stored blocks, see docs/PATCH.md),
    /// after the bytes were stored by pwrite and with no futimens (which slows the flush down), and, when the PATCH grew the file, after fallocate before the write.
    @Test(.enabled("needs /usr/bin/strace and ptrace") { FileManager.default.isExecutableFile(atPath: "/usr/bin/strace") })
    func theAnswerComesAfterTheFlush() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("mmapd-strace-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        try Data(pseudoRandomBytes(count: 10_000, seed: 8)).write(to: root.appendingPathComponent("f.bin"))
        let trace = root.path + ".trace"
        defer { unlink(trace) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/strace")
        process.arguments = [
            "-f", "-qq", "-s", "24", "-e", "trace=msync,fdatasync,fsync,fallocate,pwrite64,utimensat,sendto,sendmsg,writev", "-o", trace,
            mmapdExecutable, "--port", "0", "--root", root.path, "--writable", "--log-level", "error"
        ]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line: [UInt8] = []
        while let byte = output.fileHandleForReading.readData(ofLength: 1).first, byte != UInt8(ascii: "\n") { line.append(byte) }
        let startup = String(decoding: line, as: UTF8.self)
        let port = try #require(startup.split(separator: ":").last.flatMap { UInt16($0) }, "no startup line under strace: \(startup)")
        defer {
            // strace's child is mmapd: stop it, and strace follows.
            let children =
                (try? String(
                    contentsOfFile: "/proc/\(process.processIdentifier)/task/\(process.processIdentifier)/children",
                    encoding: .utf8)) ?? ""
            for child in children.split(separator: " ").compactMap({ Int32($0) }) { kill(child, SIGTERM) }
            process.waitUntilExit()
        }

        let requests: [(name: String, headers: [(String, String)], body: [UInt8], grows: Bool)] = [
            ("overwrite", [("Content-Range", "bytes 5000-5099/*")], fill(1, 100), false),
            ("append", [("Content-Range", "bytes 10000-10099/*")], fill(2, 100), true),
            (
                "multipart", [("Content-Type", "multipart/byteranges; boundary=s")],
                multipartByteranges(
                    [PatchWrite(start: 100, bytes: fill(3, 10)), PatchWrite(start: 9000, bytes: fill(4, 10))], boundary: "s"), false
            ),
            (
                "multipart growing", [("Content-Type", "multipart/byteranges; boundary=s")],
                multipartByteranges(
                    [PatchWrite(start: 0, bytes: fill(5, 10)), PatchWrite(start: 10_100, bytes: fill(6, 5000))], boundary: "s"), true
            )
        ]
        for request in requests {
            let response = try HTTPConnection(port: port).send("PATCH", "/files/f.bin", headers: request.headers, body: request.body)
            #expect(response.status == 204, "\(request.name)")
        }

        // The trace so far, as events: resumed halves of interrupted lines are left out (the
        // call's name and arguments are on the first half).
        let text = try String(contentsOfFile: trace, encoding: .utf8)
        var segments: [[String]] = [[]]
        for line in text.split(separator: "\n") where !line.contains("resumed>") {
            if line.contains("HTTP/1.1 204") {
                segments[segments.count - 1].append("204")
                segments.append([])
            } else if let name = ["msync", "fdatasync", "fsync", "fallocate", "pwrite64", "utimensat"].first(where: {
                line.contains(" \($0)(")
            }) {
                #expect(!line.contains("= -1"), "\(line)")
                if name == "msync" { #expect(line.contains("MS_SYNC"), "\(line)") }
                segments[segments.count - 1].append(name)
            }
        }
        segments.removeLast()
        try #require(segments.count == requests.count, "\(segments)")
        for (request, events) in zip(requests, segments) {
            let sync = try #require(events.lastIndex(of: "fdatasync"), "\(request.name): no fdatasync before the 204: \(events)")
            #expect(!events.contains("msync") && !events.contains("utimensat"), "\(request.name): \(events)")
            let store = try #require(events.firstIndex(of: "pwrite64"), "\(request.name): no pwrite: \(events)")
            #expect(store < sync, "\(request.name): \(events)")
            if request.grows {
                let reserve = try #require(events.firstIndex(of: "fallocate"), "\(request.name): \(events)")
                #expect(reserve < sync, "\(request.name): \(events)")
            }
        }
    }

    /// Fills `directory`'s filesystem with a file named `name` until ENOSPC.
    static func fillFilesystem(_ directory: String, name: String = "filler") throws {
        let fd = open(directory + "/" + name, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw HTTPTestError(description: "open filler: errno \(errno)") }
        defer { close(fd) }
        let block = fill(0x46, 4096)
        while true {
            let written = block.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if written < 0 {
                guard errno == ENOSPC else { throw HTTPTestError(description: "filling: errno \(errno)") }
                return
            }
            if written < block.count { continue }
        }
    }

    /// A 1 MiB tmpfs as the root, filled up: every PATCH that needs new blocks answers 507 and
    /// changes nothing (the blocks are reserved before the first byte is written, so a full disk
    /// is a clean error, not a SIGBUS in the middle of a copy); overwrites of existing blocks
    /// still work; freeing space lets growth through again.
    @Test(.enabled("needs mount -t tmpfs: root with CAP_SYS_ADMIN") { Privileges.canMount })
    func aFullFilesystemAnswers507AndChangesNothing() throws {
        let (scratch, reason) = ScratchMount.tmpfs(size: "1m")
        let mount = try #require(scratch, "\(reason)")
        defer { mount.unmount() }
        let original = pseudoRandomBytes(count: 8192, seed: 507)
        let path = mount.path + "/f.bin"
        try Data(original).write(to: URL(fileURLWithPath: path))
        let server = try TestServer(configure: {
            $0.writable = true
            $0.root = mount.path
        })
        defer { withExtendedLifetime(server) {} }
        try Self.fillFilesystem(mount.path)
        let before = try FileSnapshot(path)
        let etag = try server.request("GET", "/files/f.bin").header("ETag")

        let growing = fill(0x47, 64 << 10)
        let attempts: [(String, [(String, String)], [UInt8])] = [
            ("raw append", [("Content-Range", "bytes 8192-\(8192 + growing.count - 1)/*")], growing),
            ("raw growth", [("Content-Range", "bytes 8000-\(8000 + growing.count - 1)/*")], growing),
            (
                "chunked raw append", [("Content-Range", "bytes 8192-\(8192 + growing.count - 1)/*"), ("Transfer-Encoding", "chunked")],
                chunked(growing, chunkSize: 10_000)
            ),
            (
                "multipart with a growing part", [("Content-Type", "multipart/byteranges; boundary=full")],
                multipartByteranges([PatchWrite(start: 0, bytes: [1, 2, 3]), PatchWrite(start: 8192, bytes: growing)], boundary: "full")
            ),
            (
                "message/byterange append", [("Content-Type", "message/byterange")],
                messageByterange(PatchWrite(start: 8192, bytes: growing))
            )
        ]
        for (name, headers, body) in attempts {
            let response = try server.request("PATCH", "/files/f.bin", headers: headers, body: body)
            #expect(response.status == 507, "\(name): \(response.text)")
            #expect(response.header("Content-Type") == "application/problem+json", "\(name)")
            #expect(try FileSnapshot(path) == before, "\(name) changed the file")
        }
        #expect(try server.request("GET", "/files/f.bin").header("ETag") == etag)

        // Existing blocks need no space.
        let overwrite = try server.request("PATCH", "/files/f.bin", headers: [("Content-Range", "bytes 100-199/*")], body: fill(0x48, 100))
        #expect(overwrite.status == 204)
        #expect(try server.read(at: path) == applied(original, fill(0x48, 100), at: 100))

        unlink(mount.path + "/filler")
        let append = try server.request(
            "PATCH", "/files/f.bin", headers: [("Content-Range", "bytes 8192-\(8192 + growing.count - 1)/*")],
            body: growing)
        #expect(append.status == 204)
        #expect(try server.read(at: path) == applied(applied(original, fill(0x48, 100), at: 100), growing, at: 8192))
    }
}

extension TestServer {
    /// The bytes of a file by absolute path (for servers whose root is not their own directory).
    func read(at path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }
}
