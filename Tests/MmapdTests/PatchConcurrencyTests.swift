import Foundation
import Glibc
import Mmapd
import Testing

/// PATCH under concurrency: many writers and readers on one file, writers on different files,
/// a writer holding its file's turn, clients that stall or vanish mid-upload, slow readers,
/// and two mmapd processes sharing one root.
@Suite struct PatchConcurrencyTests {
    /// Starts a raw-form PATCH of `bytes` at `start` and sends only the first `sent` bytes of
    /// the body; the caller finishes it with `sendRaw` or drops the connection.
    static func startUpload(
        port: UInt16, _ target: String, start: Int, _ bytes: [UInt8], sending sent: Int,
        timeoutSeconds: Int = 30
    ) throws -> HTTPConnection {
        let connection = try HTTPConnection(port: port, timeoutSeconds: timeoutSeconds)
        let head =
            "PATCH \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Range: bytes \(start)-\(start + bytes.count - 1)/*\r\n"
            + "Content-Length: \(bytes.count)\r\n\r\n"
        try connection.sendRaw(Array(head.utf8) + bytes[..<sent])
        return connection
    }

    /// Waits until the first `count` bytes of an upload are in the file: its PATCH holds the turn.
    static func expectWriting(_ path: String, at offset: Int, _ bytes: [UInt8], count: Int = 4096) throws {
        let prefix = Array(bytes[..<count])
        let visible = try eventually { try readBytes(path, at: offset, count: count) == prefix }
        try #require(visible, "the upload's first bytes never reached the file")
    }

    // MARK: Writers and readers on one file

    /// Eight writers own eight 10,000-byte regions (not page-aligned: neighbours share pages) and
    /// fill theirs with the round number, round after round, in all three forms. Four readers GET
    /// the file meanwhile. Each byte a reader sees in a region must be a value that writer wrote:
    /// at least the last round acknowledged (204 received) before the GET was sent, at most the
    /// last round started by the time the GET's answer was read. Anything else (zero after an
    /// acknowledged write, a value from the future, a foreign value) breaks the rule in
    /// docs/PATCH.md.
    @Test func disjointWritersAndConcurrentReaders() throws {
        let writers = 8
        let readers = 4
        let rounds = 12
        let region = 10_000
        let readsPerReader = 25
        let size = writers * region
        let server = try TestServer(
            configure: {
                $0.writable = true
                $0.threads = 4
            }, files: ["shared.bin": fill(0, size)])
        let acknowledged = Shared([Int](repeating: 0, count: writers))
        let started = Shared([Int](repeating: 0, count: writers))
        let failures = Failures()
        let etags = Shared<[String]>([])
        let port = server.port
        onThreads(writers + readers) { thread in
            do {
                if thread < writers {
                    let offset = thread * region
                    for round in 1...rounds {
                        started.update { $0[thread] = round }
                        let bytes = fill(UInt8(round), region)
                        let connection = try HTTPConnection(port: port)
                        let response: HTTPResponse
                        switch round % 3 {
                        case 0:
                            response = try connection.send(
                                "PATCH", "/files/shared.bin",
                                headers: [("Content-Range", "bytes \(offset)-\(offset + region - 1)/*")], body: bytes)
                        case 1:
                            let half = region / 2
                            response = try connection.send(
                                "PATCH", "/files/shared.bin", headers: [("Content-Type", "multipart/byteranges; boundary=w\(thread)")],
                                body: multipartByteranges(
                                    [
                                        PatchWrite(start: offset + half, bytes: Array(bytes[half...])),
                                        PatchWrite(start: offset, bytes: Array(bytes[..<half]))
                                    ], boundary: "w\(thread)"))
                        default:
                            response = try connection.send(
                                "PATCH", "/files/shared.bin",
                                headers: [("Content-Range", "bytes \(offset)-\(offset + region - 1)/*"), ("Transfer-Encoding", "chunked")],
                                body: chunked(bytes, chunkSize: 4096))
                        }
                        guard response.status == 204, let etag = response.header("ETag") else {
                            failures.add("writer \(thread) round \(round): \(response.status) \(response.text)")
                            return
                        }
                        etags.update { $0.append(etag) }
                        acknowledged.update { $0[thread] = round }
                    }
                } else {
                    for read in 0..<readsPerReader {
                        let floor = acknowledged.current
                        let response = try HTTPConnection(port: port).send("GET", "/files/shared.bin")
                        let ceiling = started.current
                        guard response.status == 200, response.body.count == size, response.header("Content-Length") == "\(size)" else {
                            failures.add("reader \(thread) read \(read): \(response.status), \(response.body.count) bytes")
                            continue
                        }
                        for writer in 0..<writers {
                            let low = UInt8(floor[writer])
                            let high = UInt8(ceiling[writer])
                            if let bad = response.body[(writer * region)..<((writer + 1) * region)].firstIndex(where: {
                                $0 < low || $0 > high
                            }) {
                                failures.add(
                                    "reader \(thread) read \(read): byte \(bad) is \(response.body[bad]), expected \(low)...\(high)")
                                break
                            }
                        }
                    }
                }
            } catch {
                failures.add("thread \(thread): \(error)")
            }
        }
        #expect(failures.all.isEmpty, "\(failures.all.prefix(10))")
        #expect(try server.read("shared.bin") == fill(UInt8(rounds), size))
        #expect(etags.current.count == writers * rounds)
        #expect(Set(etags.current).count == writers * rounds, "every PATCH answers its own ETag")
        let get = try server.request("GET", "/files/shared.bin")
        #expect(get.body == fill(UInt8(rounds), size))
    }

    @Test func writersOnTwoFilesAtOnce() throws {
        let size = 40_000
        let writersPerFile = 4
        let rounds = 10
        let region = size / 4
        let server = try TestServer(
            configure: {
                $0.writable = true
                $0.threads = 4
            },
            files: ["a.bin": fill(0, size), "b.bin": fill(0, size)])
        let failures = Failures()
        let port = server.port
        @Sendable func bytes(_ file: Int, _ writer: Int, _ round: Int) -> [UInt8] {
            pseudoRandomBytes(count: region, seed: UInt64(file * 10_000 + writer * 100 + round))
        }
        onThreads(2 * writersPerFile) { thread in
            let file = thread % 2
            let writer = thread / 2
            for round in 0..<rounds {
                let offset = writer * region
                do {
                    let response = try HTTPConnection(port: port).send(
                        "PATCH", "/files/\(file == 0 ? "a" : "b").bin",
                        headers: [("Content-Range", "bytes \(offset)-\(offset + region - 1)/*")], body: bytes(file, writer, round))
                    if response.status != 204 { failures.add("file \(file) writer \(writer) round \(round): \(response.status)") }
                } catch {
                    failures.add("file \(file) writer \(writer) round \(round): \(error)")
                }
            }
        }
        #expect(failures.all.isEmpty, "\(failures.all)")
        for (file, name) in ["a.bin", "b.bin"].enumerated() {
            let expected = (0..<writersPerFile).flatMap { bytes(file, $0, rounds - 1) }
            #expect(try server.read(name) == expected, "\(name)")
        }
    }

    // MARK: The write turn

    /// While one PATCH holds a file's turn (its body half sent), a PATCH to another file goes
    /// through, and a second PATCH to the same file waits: it lands after the first completes,
    /// so its bytes are the ones left in the file.
    @Test func aHeldTurnBlocksItsFileOnly() throws {
        let size = 1 << 20
        let server = try TestServer(
            configure: { $0.writable = true },
            files: ["a.bin": fill(0, size), "b.bin": fill(0, 1000)])
        let first = pseudoRandomBytes(count: size, seed: 1)
        let holder = try Self.startUpload(port: server.port, "/files/a.bin", start: 0, first, sending: heldUpload)
        try Self.expectWriting(server.path("a.bin"), at: 0, first)

        let other = try HTTPConnection(port: server.port, timeoutSeconds: 20)
            .send("PATCH", "/files/b.bin", headers: [("Content-Range", "bytes 0-4/*")], body: Array("other".utf8))
        #expect(other.status == 204, "a writer to another file waited for a.bin's turn")
        #expect(try server.read("b.bin").prefix(5) == ArraySlice("other".utf8))
        // Reads of the busy file are served meanwhile.
        let read = try HTTPConnection(port: server.port, timeoutSeconds: 20).send("GET", "/files/a.bin")
        #expect(read.status == 200 && read.body.count == size)

        let second = pseudoRandomBytes(count: size, seed: 2)
        let waiter = try HTTPConnection(port: server.port)
        try waiter.sendRaw(
            Array("PATCH /files/a.bin HTTP/1.1\r\nHost: x\r\nContent-Range: bytes 0-\(size - 1)/*\r\nContent-Length: \(size)\r\n\r\n".utf8))
        // The waiter's body is not read while it waits and may not fit in the socket buffers:
        // each client sends on its own thread.
        let answers = Shared<[Int: HTTPResponse]>([:])
        let failures = Failures()
        let rest = Array(first[heldUpload...])
        let clients = Unchecked([holder, waiter])
        onThreads(2) { index in
            do {
                try clients.value[index].sendRaw(index == 0 ? rest : second)
                let answer = try clients.value[index].readResponse()
                answers.update { $0[index] = answer }
            } catch {
                failures.add("\(index == 0 ? "holder" : "waiter"): \(error)")
            }
        }
        #expect(failures.all.isEmpty, "\(failures.all)")
        let firstAnswer = try #require(answers.current[0])
        let secondAnswer = try #require(answers.current[1])
        #expect(firstAnswer.status == 204)
        #expect(secondAnswer.status == 204)
        #expect(firstAnswer.header("ETag") != secondAnswer.header("ETag"))
        #expect(try server.read("a.bin") == second, "the waiting PATCH was applied while the first one was still writing")
    }

    enum Abort: String, CaseIterable, Sendable {
        /// The upload overwrites bytes inside the file.
        case overwrite
        /// The upload appends past the end.
        case append
    }

    /// A client that vanishes in the middle of its body gives the turn back: the next PATCH to
    /// the file is answered. What the vanished upload leaves is what docs/PATCH.md says: the
    /// bytes received so far (a prefix of its range), and for a growing one possibly a longer
    /// file whose unwritten tail is zeros; nothing else changes.
    @Test(arguments: Abort.allCases)
    func aClientVanishingMidUploadReleasesTheTurn(_ abort: Abort) throws {
        let size = 2 << 20
        let original = pseudoRandomBytes(count: size, seed: 3)
        let server = try TestServer(configure: { $0.writable = true }, files: ["f.bin": original])
        let before = try #require(server.request("GET", "/files/f.bin").header("ETag"))
        let (start, length) = abort == .overwrite ? (0, 1 << 20) : (size, 2 << 20)
        let upload = pseudoRandomBytes(count: length, seed: 4)
        var connection: HTTPConnection? = try Self.startUpload(port: server.port, "/files/f.bin", start: start, upload, sending: heldUpload)
        try Self.expectWriting(server.path("f.bin"), at: start, upload)
        // The bytes changed, so the ETag did, although no answer was sent yet.
        #expect(try server.request("GET", "/files/f.bin").header("ETag") != before)
        connection = nil
        _ = connection

        let next = try HTTPConnection(port: server.port, timeoutSeconds: 20)
            .send("PATCH", "/files/f.bin", headers: [("Content-Range", "bytes \(size - 10)-\(size - 1)/*")], body: fill(0xAB, 10))
        #expect(next.status == 204, "the vanished upload kept the file's write turn")
        let after = try server.read("f.bin")
        #expect(after[(size - 10)..<size] == ArraySlice(fill(0xAB, 10)))
        #expect(after.count >= size && after.count <= max(size, start + length))
        // The vanished upload's range: a prefix of its bytes, then what was there before (zeros
        // past the old end).
        let limit = min(after.count, start + length)
        var written = 0
        while start + written < limit, after[start + written] == upload[written] { written += 1 }
        #expect(written >= 4096)
        for offset in (start + written)..<limit where after[offset] != (offset < size ? original[offset] : 0) {
            Issue.record("byte \(offset) is \(after[offset]): neither the upload's prefix, the original, nor zero")
            break
        }
        // Outside it, nothing moved.
        for offset in 0..<(size - 10) where !(start..<(start + length)).contains(offset) && after[offset] != original[offset] {
            Issue.record("byte \(offset) outside the vanished upload's range changed")
            break
        }
    }

    /// A PATCH that disconnects while it waits for the turn (its body partly sent) must not keep
    /// the turn once it is handed to it.
    @Test func aClientVanishingWhileWaitingReleasesTheTurn() throws {
        let size = 1 << 20
        let original = fill(0, size)
        let server = try TestServer(configure: { $0.writable = true }, files: ["f.bin": original])
        let first = fill(1, size)
        let holder = try Self.startUpload(port: server.port, "/files/f.bin", start: 0, first, sending: heldUpload)
        try Self.expectWriting(server.path("f.bin"), at: 0, first)
        var waiter: HTTPConnection? = try Self.startUpload(port: server.port, "/files/f.bin", start: 0, fill(2, size), sending: 1000)
        var silent: HTTPConnection? = try Self.startUpload(port: server.port, "/files/f.bin", start: 0, fill(3, size), sending: 0)
        waiter = nil
        silent = nil
        _ = (waiter, silent)
        try holder.sendRaw(Array(first[heldUpload...]))
        #expect(try holder.readResponse().status == 204)
        let last = try HTTPConnection(port: server.port, timeoutSeconds: 20)
            .send("PATCH", "/files/f.bin", headers: [("Content-Range", "bytes 0-9/*")], body: fill(4, 10))
        #expect(last.status == 204, "an abandoned waiter kept the file's write turn")
        let after = try server.read("f.bin")
        #expect(after.count == size)
        #expect(after[..<10] == ArraySlice(fill(4, 10)))
    }

    /// A client that stops sending mid-body is cut off by the connection timeout, and its turn
    /// passes to the PATCH waiting behind it.
    @Test func aStalledUploadTimesOutAndTheNextWriterProceeds() throws {
        let size = 1 << 20
        let server = try TestServer(
            configure: {
                $0.writable = true
                $0.connectionTimeout = 1
            }, files: ["f.bin": fill(0, size)])
        let stalled = try Self.startUpload(port: server.port, "/files/f.bin", start: 0, fill(1, size), sending: heldUpload)
        try Self.expectWriting(server.path("f.bin"), at: 0, fill(1, size))
        let next = try HTTPConnection(port: server.port, timeoutSeconds: 30)
            .send("PATCH", "/files/f.bin", headers: [("Content-Range", "bytes 0-9/*")], body: fill(2, 10))
        #expect(next.status == 204, "\(next.text)")
        #expect(try server.read("f.bin")[..<10] == ArraySlice(fill(2, 10)))
        #expect(stalled.isClosedByServer())
    }

    /// A reader that does not read its (large) answer holds the old mapping; writers never wait
    /// for it, also when they grow the file.
    @Test func aSlowReaderNeverBlocksAWriter() throws {
        let size = 48 << 20
        let server = try TestServer(configure: { $0.writable = true })
        let path = server.path("big.bin")
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        truncate(path, off_t(size))
        let reader = try HTTPConnection(port: server.port, timeoutSeconds: 30)
        try reader.sendRaw(Array("GET /files/big.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8))
        let received = try reader.readSome()

        let tail = fill(0x77, 4096)
        let overwrite = try HTTPConnection(port: server.port, timeoutSeconds: 20)
            .send("PATCH", "/files/big.bin", headers: [("Content-Range", "bytes \(size - 4096)-\(size - 1)/*")], body: tail)
        #expect(overwrite.status == 204)
        let append = try HTTPConnection(port: server.port, timeoutSeconds: 20)
            .send("PATCH", "/files/big.bin", headers: [("Content-Range", "bytes \(size)-\(size + 9)/*")], body: fill(0x78, 10))
        #expect(append.status == 204)
        #expect(try readBytes(path, at: size - 4096, count: 4106) == tail + fill(0x78, 10))

        // The stalled answer still completes with the length it announced; the patched tail shows
        // old or new bytes, nothing else. (Read and dropped as it comes: 48 MiB held here would
        // disturb the memory measurements of other tests in this process.)
        var count = received.count
        var last = received.suffix(4096)
        while true {
            let more = try reader.readSome()
            if more.isEmpty { break }
            count += more.count
            last = (last + more).suffix(4096)
        }
        let headerEnd = try #require(received.firstRange(of: [13, 10, 13, 10])).upperBound
        #expect(String(decoding: received[..<headerEnd], as: UTF8.self).contains("Content-Length: \(size)\r\n"))
        #expect(count - headerEnd == size)
        #expect(last.count == 4096 && last.allSatisfy { $0 == 0 || $0 == 0x77 })
    }

    /// Someone truncates the file while an upload streams into it: the rest of the body would
    /// land beyond the end of the file (regrowing it with a hole). The server must survive,
    /// refuse the PATCH, give the turn back and keep serving.
    @Test func aFileTruncatedUnderAnUploadFailsCleanly() throws {
        let size = 1 << 20
        let server = try TestServer(configure: { $0.writable = true }, files: ["f.bin": fill(0, size)])
        let upload = fill(1, size)
        let connection = try Self.startUpload(port: server.port, "/files/f.bin", start: 0, upload, sending: heldUpload)
        try Self.expectWriting(server.path("f.bin"), at: 0, upload)
        truncate(server.path("f.bin"), 4096)
        var answer: HTTPResponse?
        do {
            try connection.sendRaw(Array(upload[heldUpload...]))
            answer = try connection.readResponse()
        } catch {
            // Refused mid-body and closed; what matters is what follows.
        }
        if let answer { #expect(answer.status >= 400 && answer.status != 416, "\(answer.status) \(answer.text)") }
        #expect(try server.request("GET", "/healthz").status == 200)
        let next = try HTTPConnection(port: server.port, timeoutSeconds: 20)
            .send("PATCH", "/files/f.bin", headers: [("Content-Range", "bytes 0-9/*")], body: fill(2, 10))
        #expect(next.status == 204)
        let after = try server.read("f.bin")
        #expect(after.count == 4096)
        #expect(after.prefix(10) == ArraySlice(fill(2, 10)))
        #expect(try server.request("GET", "/files/f.bin").body == after)
    }

    // MARK: Stopping

    /// SIGTERM while one PATCH holds a file's turn (stalled mid-body) and another waits for it,
    /// suspended: the server stops within its grace and exits 0, as for any other request.
    /// libmicrohttpd 0.9.75 aborts in MHD_stop_daemon ("called while we have suspended
    /// connections") if a connection is still suspended when it stops. One network thread makes
    /// the case deterministic: with several, the holder's thread may stop first, and closing the
    /// holder hands the turn on and resumes the waiter just in time.
    @Test(arguments: [false, true])
    func sigtermWithPatchesInFlightExitsZero(withWaiter: Bool) throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("mmapd-stop-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        try Data(fill(0, 1 << 20)).write(to: root.appendingPathComponent("f.bin"))
        let server = try SpawnedServer(arguments: [
            "--port", "0", "--root", root.path, "--writable", "--shutdown-grace", "1",
            "--threads", "1", "--log-level", "error"
        ])
        _ = server.waitForStartup()
        let port = try #require(server.port)
        let upload = fill(1, 1 << 20)
        let holder = try Self.startUpload(port: port, "/files/f.bin", start: 0, upload, sending: heldUpload)
        try Self.expectWriting(root.appendingPathComponent("f.bin").path, at: 0, upload)
        var waiter: HTTPConnection?
        if withWaiter {
            waiter = try HTTPConnection(port: port)
            try waiter?.sendRaw(
                Array("PATCH /files/f.bin HTTP/1.1\r\nHost: x\r\nContent-Range: bytes 0-1/*\r\nContent-Length: 2\r\n\r\nzz".utf8))
            // The server answers other requests meanwhile, so the waiter's headers were read.
            #expect(try HTTPConnection(port: port).send("GET", "/healthz").status == 200)
        }
        server.signal(SIGTERM)
        let exit = server.waitForExit()
        let reason = server.process.terminationReason == .uncaughtSignal ? "signal" : "exit status"
        #expect(exit.status == 0, "\(reason) \(exit.status): \(exit.stderr.split(separator: "\n").prefix(2).joined(separator: " / "))")
        withExtendedLifetime((holder, waiter)) {}
    }

    // MARK: Two processes

    static func spawn(root: String) throws -> (SpawnedServer, UInt16) {
        let server = try SpawnedServer(arguments: ["--port", "0", "--root", root, "--writable", "--log-level", "error"])
        _ = server.waitForStartup()
        return (server, try #require(server.port, "no startup line: \(server.startupLine)"))
    }

    /// Two mmapd processes on one root share the page cache through their mappings: a PATCH
    /// through one is in the other's very next GET, growth included.
    @Test func twoProcessesSeeEachOthersWrites() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("mmapd-two-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        var expected = pseudoRandomBytes(count: 100_000, seed: 5)
        try Data(expected).write(to: root.appendingPathComponent("f.bin"))
        let (first, firstPort) = try Self.spawn(root: root.path)
        let (second, secondPort) = try Self.spawn(root: root.path)
        defer {
            first.signal(SIGTERM)
            second.signal(SIGTERM)
            #expect(first.waitForExit().status == 0)
            #expect(second.waitForExit().status == 0)
        }
        // Both have the file mapped before any write.
        #expect(try HTTPConnection(port: firstPort).send("GET", "/files/f.bin").body == expected)
        var etag = try #require(HTTPConnection(port: secondPort).send("GET", "/files/f.bin").header("ETag"))

        for round in 0..<10 {
            let (writer, reader) = round % 2 == 0 ? (firstPort, secondPort) : (secondPort, firstPort)
            let write =
                round % 3 == 2
                ? PatchWrite(start: expected.count, bytes: pseudoRandomBytes(count: 5000, seed: UInt64(round)))
                : PatchWrite(start: round * 7919, bytes: pseudoRandomBytes(count: 3000, seed: UInt64(round)))
            let response = try HTTPConnection(port: writer).send(
                "PATCH", "/files/f.bin", headers: [("Content-Range", write.contentRange)],
                body: write.bytes)
            #expect(response.status == 204)
            expected = applied(expected, write.bytes, at: write.start)
            let seen = try HTTPConnection(port: reader).send("GET", "/files/f.bin")
            #expect(seen.body == expected, "round \(round): the other process does not see the write")
            let seenETag = try #require(seen.header("ETag"))
            #expect(seenETag != etag, "round \(round): the other process kept its ETag")
            etag = seenETag
            let range = try HTTPConnection(port: reader).send("GET", "/files/f.bin", headers: [("Range", "bytes=\(write.start)-")])
            #expect(range.body == Array(expected[write.start...]))
        }
        #expect([UInt8](try Data(contentsOf: root.appendingPathComponent("f.bin"))) == expected)

        // Disjoint overwrites through both processes at once.
        let region = 10_000
        let failures = Failures()
        onThreads(2) { index in
            let port = index == 0 ? firstPort : secondPort
            for round in 0..<20 {
                let offset = index * region
                do {
                    let response = try HTTPConnection(port: port).send(
                        "PATCH", "/files/f.bin", headers: [("Content-Range", "bytes \(offset)-\(offset + region - 1)/*")],
                        body: fill(UInt8(index * 100 + round), region))
                    if response.status != 204 { failures.add("process \(index) round \(round): \(response.status)") }
                } catch {
                    failures.add("process \(index) round \(round): \(error)")
                }
            }
        }
        #expect(failures.all.isEmpty, "\(failures.all)")
        expected = applied(applied(expected, fill(19, region), at: 0), fill(119, region), at: region)
        #expect([UInt8](try Data(contentsOf: root.appendingPathComponent("f.bin"))) == expected)
        #expect(try HTTPConnection(port: firstPort).send("GET", "/files/f.bin").body == expected)
        #expect(try HTTPConnection(port: secondPort).send("GET", "/files/f.bin").body == expected)
    }
}
