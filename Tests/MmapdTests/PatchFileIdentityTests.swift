import Foundation
import Glibc
import Mmapd
import Testing

/// The write turn belongs to the file (device and inode), not to the path it was reached by: a
/// hard link or a symlink inside the root names the same file, and a PATCH through it waits
/// behind a PATCH through the other name.
@Suite struct PatchFileIdentityTests {
    enum SecondName: String, CaseIterable, Sendable {
        case hardLink, symlink

        func make(_ link: String, to target: String, in server: TestServer) throws {
            switch self {
            case .hardLink: try #require(Glibc.link(server.path(target), server.path(link)) == 0)
            case .symlink: try #require(Glibc.symlink(target, server.path(link)) == 0)
            }
        }
    }

    /// A PATCH through `f.bin` holds the turn, its body half sent. A PATCH through the other
    /// name with `If-Match` of the ETag read meanwhile must wait for it, and then find the file
    /// changed (412). With a turn per path it ran at once, in the middle of the first write, and
    /// got a 204 for a validator the first write was about to invalidate.
    @Test(arguments: SecondName.allCases)
    func aSecondNameWaitsForTheSameTurn(_ name: SecondName) throws {
        let size = 1 << 20
        let server = try TestServer(configure: { $0.writable = true }, files: ["f.bin": fill(0, size)])
        try name.make("other.bin", to: "f.bin", in: server)
        let first = pseudoRandomBytes(count: size, seed: 11)
        let holder = try PatchConcurrencyTests.startUpload(port: server.port, "/files/f.bin", start: 0, first, sending: heldUpload)
        try PatchConcurrencyTests.expectWriting(server.path("f.bin"), at: 0, first)
        let etag = try #require(server.request("GET", "/files/other.bin").header("ETag"))

        let racer = try HTTPConnection(port: server.port, timeoutSeconds: 20)
        try racer.sendRaw(
            Array(
                ("PATCH /files/other.bin HTTP/1.1\r\nHost: x\r\nIf-Match: \(etag)\r\n"
                    + "Content-Range: bytes 0-4/*\r\nContent-Length: 5\r\n\r\nother").utf8))
        try holder.sendRaw(Array(first[heldUpload...]))
        #expect(try holder.readResponse().status == 204)
        let raced = try racer.readResponse()
        #expect(raced.status == 412, "a PATCH through the \(name) ran beside the one holding the file's turn: \(raced.status)")
        #expect(try server.read("f.bin") == first)
    }

    /// Writers through three names of one file, each reading the file's ETag and size and then
    /// appending one record there with `If-Match`: with one turn per file, a validator admits at
    /// most one write, so every 204 left its own whole record. With a turn per path two writers
    /// could pass the same If-Match at once and write over each other.
    @Test func appendsThroughThreeNamesAdmitOneWriterPerValidator() throws {
        let record = 4096
        let writers = 6
        let attempts = 12
        let server = try TestServer(
            configure: {
                $0.writable = true
                $0.threads = 4
            }, files: ["log.bin": []])
        try SecondName.hardLink.make("hard.bin", to: "log.bin", in: server)
        try SecondName.symlink.make("soft.bin", to: "log.bin", in: server)
        let names = ["log.bin", "hard.bin", "soft.bin"]
        let failures = Failures()
        let acknowledged = Shared<[UInt8]>([])
        let port = server.port
        onThreads(writers) { writer in
            do {
                for attempt in 0..<attempts {
                    let target = "/files/\(names[(writer + attempt) % names.count])"
                    let connection = try HTTPConnection(port: port, timeoutSeconds: 30)
                    let head = try connection.send("HEAD", target)
                    let size = Int(head.header("Content-Length") ?? "") ?? -1
                    guard let etag = head.header("ETag"), size >= 0 else {
                        failures.add("writer \(writer): HEAD \(head.status)")
                        return
                    }
                    let value = UInt8(1 + writer * attempts + attempt)
                    let answer = try connection.send(
                        "PATCH", target,
                        headers: [
                            ("If-Match", etag), ("Content-Range", "bytes \(size)-\(size + record - 1)/*")
                        ], body: fill(value, record))
                    switch answer.status {
                    case 204: acknowledged.update { $0.append(value) }
                    case 412: continue  // another writer got there first
                    default:
                        failures.add("writer \(writer): \(answer.status) \(answer.text)")
                        return
                    }
                }
            } catch {
                failures.add("writer \(writer): \(error)")
            }
        }
        #expect(failures.all.isEmpty, "\(failures.all)")
        let file = try server.read("log.bin")
        let records = stride(from: 0, to: file.count, by: record).map { Set(file[$0..<min(file.count, $0 + record)]) }
        #expect(records.allSatisfy { $0.count == 1 }, "a record mixes two writers' bytes")
        #expect(
            records.compactMap(\.first).sorted() == acknowledged.current.sorted(),
            "two acknowledged appends landed on one offset (or one is missing)")
    }

    /// A symlink re-pointed while its PATCH waits: the turn it was granted is for the file it
    /// named then, so it gives that back and waits for the new target's turn, here held by
    /// another upload, and lands after it. Its body, already sent, survives the second wait.
    @Test func aPathPointedElsewhereWaitsForTheNewFilesTurn() throws {
        let size = 1 << 20
        let server = try TestServer(
            configure: { $0.writable = true },
            files: ["a.bin": fill(0, size), "b.bin": fill(0, size)])
        try SecondName.symlink.make("current", to: "a.bin", in: server)
        let forA = fill(1, size)
        let forB = fill(2, size)
        let holdingA = try PatchConcurrencyTests.startUpload(port: server.port, "/files/a.bin", start: 0, forA, sending: heldUpload)
        try PatchConcurrencyTests.expectWriting(server.path("a.bin"), at: 0, forA)
        let holdingB = try PatchConcurrencyTests.startUpload(port: server.port, "/files/b.bin", start: 0, forB, sending: heldUpload)
        try PatchConcurrencyTests.expectWriting(server.path("b.bin"), at: 0, forB)

        let waiter = try HTTPConnection(port: server.port, timeoutSeconds: 20)
        try waiter.sendRaw(
            Array("PATCH /files/current HTTP/1.1\r\nHost: x\r\nContent-Range: bytes 0-4/*\r\nContent-Length: 5\r\n\r\nthird".utf8))
        // Re-pointed only once the waiter is queued for a.bin's turn.
        try #require(
            try eventually { try server.request("GET", "/metrics").text.contains("mmapd_writers_waiting 1") },
            "the waiting PATCH never queued")
        try #require(rename(server.path("current"), server.path("old-link")) == 0)
        try SecondName.symlink.make("current", to: "b.bin", in: server)

        try holdingA.sendRaw(Array(forA[heldUpload...]))
        #expect(try holdingA.readResponse().status == 204)
        try holdingB.sendRaw(Array(forB[heldUpload...]))
        #expect(try holdingB.readResponse().status == 204)
        #expect(try waiter.readResponse().status == 204)
        #expect(try server.read("a.bin") == forA, "the re-pointed PATCH wrote the file it no longer names")
        #expect(try server.read("b.bin") == Array("third".utf8) + forB[5...], "the re-pointed PATCH did not land after b.bin's writer")
    }
}
