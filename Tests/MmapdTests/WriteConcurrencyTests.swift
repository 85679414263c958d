import Foundation
import Glibc
import Testing

/// PUT, DELETE and resize against concurrent clients and crashes, on the real binary (a SIGBUS
/// would show as a dead process): racing creators, readers during replacements, durability over
/// SIGKILL, downloads and searches of files deleted or resized under them. Serialized: each test
/// loads the machine with several client threads.
@Suite(.serialized) struct WriteConcurrencyTests {
    /// Two creators (eight, in fact) racing with `If-None-Match: *` for each of ten new names:
    /// the heads all arrive before any body, and exactly one per name is 201, the rest 412.
    @Test func racingCreatorsWithIfNoneMatchStarOneWins() throws {
        let server = try FaultServer(files: [:], arguments: ["--writable"])
        let racers = 8
        for round in 0..<10 {
            let name = "/files/race-\(round).bin"
            let connections = try (0..<racers).map { _ in try server.connect() }
            for connection in connections {
                try connection.sendHead("PUT", name, headers: [("If-None-Match", "*"), ("Content-Length", "4")])
            }
            let statuses = Shared<[Int]>([])
            let shared = Unchecked(connections)
            onThreads(racers) { index in
                let connection = shared.value[index]
                try? connection.sendRaw(Array("r\(index % 10)..".utf8))
                let status = (try? connection.readResponse().status) ?? -1
                statuses.update { $0.append(status) }
            }
            let sorted = statuses.current.sorted()
            #expect(sorted == [201] + Array(repeating: 412, count: racers - 1), "round \(round): \(sorted)")
            let content = try Data(contentsOf: URL(fileURLWithPath: server.path("race-\(round).bin")))
            #expect(content.count == 4)
        }
        #expect(server.death == nil)
    }

    /// Every GET during repeated replacements of a 32 MiB file returns one whole version: the
    /// length and every byte of one of the versions PUT, never a mix. Each next PUT waits until
    /// a GET has seen the version before, so readers overlap every replacement.
    @Test func readersSeeOneWholeVersionDuringReplacements() throws {
        let size = 32 << 20
        let versions = 5
        let contents = (0...versions).map { fill(UInt8($0), size) }
        let server = try FaultServer(files: ["v.bin": contents[0]], arguments: ["--writable"])
        let stop = Shared(false)
        let failures = Failures()
        let tally = Tally()
        onThreads(4) { index in
            guard index > 0 else {
                for version in 1...versions {
                    let response = try? server.request("PUT", "/files/v.bin", body: contents[version])
                    if response?.status != 204 { failures.add("PUT \(version): \(response?.status ?? -1)") }
                    if !eventually(within: 60, { tally["get of version \(version)"] > 0 }) { failures.add("no GET saw version \(version)") }
                }
                stop.update { $0 = true }
                return
            }
            while !stop.current {
                guard let response = try? server.connect(timeoutSeconds: 60).send("GET", "/files/v.bin") else {
                    failures.add("a GET failed")
                    continue
                }
                let first = Int(response.body.first ?? 0xFF)
                // memcmp: a byte loop over 32 MiB is slow in a debug build.
                if response.status != 200 || first > versions || memcmp(response.body, contents[first], size) != 0 {
                    failures.add("GET: \(response.status), \(response.body.count) bytes, not one version (first byte \(first))")
                    continue
                }
                tally.add("get of version \(first)")
            }
        }
        #expect(failures.all.isEmpty, "\(failures.all.prefix(5))")
        print("replacement readers: \(tally.summary)")
        #expect(try server.request("GET", "/files/v.bin").body == contents[versions])
        #expect(server.death == nil)
    }

    /// An acknowledged PUT, DELETE or resize survives SIGKILL of the server right after the
    /// answer (the bytes and the directory entry were fsynced before it); an upload killed
    /// midway leaves the old file, and its temporary is swept by the next start.
    @Test func acknowledgedWritesSurviveSIGKILL() throws {
        let server = try FaultServer(
            files: ["keep.bin": Array("old".utf8), "gone.bin": [1], "sized.bin": fill(9, 1000)],
            arguments: ["--writable"])
        let body = fastRandomBytes(count: 3 << 20, seed: 91)
        #expect(try server.request("PUT", "/files/new.bin", body: body).status == 201)
        #expect(try server.request("PUT", "/files/keep.bin", body: Array("new".utf8)).status == 204)
        #expect(try server.request("DELETE", "/files/gone.bin").status == 204)
        #expect(try server.request("PATCH", "/files/sized.bin", headers: [("Content-Range", "bytes */10")]).status == 204)
        // An upload cut by the kill: the head and half its body are in.
        let cut = try server.connect()
        try cut.sendHead("PUT", "/files/keep.bin", headers: [("Content-Length", "100000")], body: fill(5, 50_000))
        #expect(
            try eventually { try FileManager.default.contentsOfDirectory(atPath: server.root).contains { $0.hasPrefix(".mmapd-upload-") } })
        try server.killAndRestart()

        #expect(try server.request("GET", "/files/new.bin").body == body)
        #expect(try server.request("GET", "/files/keep.bin").body == Array("new".utf8))
        #expect(try server.request("GET", "/files/gone.bin").status == 404)
        #expect(try server.request("GET", "/files/sized.bin").body == fill(9, 10))
        #expect(
            try eventually {
                try FileManager.default.contentsOfDirectory(atPath: server.root).sorted() == ["keep.bin", "new.bin", "sized.bin"]
            })
    }

    /// Downloads and searches of a file deleted under them: a download in flight finishes with
    /// every old byte, searches answer 200 or 404, never anything else; once the downloads are
    /// done the server maps no deleted file.
    @Test func deleteDuringDownloadsAndSearches() throws {
        let old = fastRandomBytes(count: 8 << 20, seed: 92)
        let text = Array((0..<20_000).map { "line \($0) with a needle\n" }.joined().utf8)
        let server = try FaultServer(files: ["f.bin": old, "t.txt": text], arguments: ["--writable"])
        let download = try RawSocket(port: server.port, receiveBuffer: 16 << 10)
        #expect(download.send("GET /files/f.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
        var received = download.receive(atLeast: 100_000)
        #expect(try server.request("DELETE", "/files/f.bin").status == 204)
        #expect(try server.request("GET", "/files/f.bin").status == 404)
        while true {
            let more = download.receive(atLeast: 1 << 20)
            if more.isEmpty { break }
            received += more
        }
        let response = try parseResponse(received)
        #expect(response.status == 200 && response.body == old, "the download in flight lost its bytes")

        let stop = Shared(false)
        let failures = Failures()
        let tally = Tally()
        onThreads(3) { index in
            guard index > 0 else {
                for _ in 0..<30 {
                    let put = try? server.request("PUT", "/files/t.txt", body: text)
                    let delete = try? server.request("DELETE", "/files/t.txt")
                    if put?.status != 201 && put?.status != 204 || delete?.status != 204 {
                        failures.add("PUT \(put?.status ?? -1), DELETE \(delete?.status ?? -1)")
                    }
                }
                stop.update { $0 = true }
                return
            }
            while !stop.current {
                let target = index == 1 ? "/search/t.txt?q=needle&limit=0" : "/files/t.txt"
                guard let answer = try? server.request("GET", target) else {
                    failures.add("GET \(target) failed")
                    continue
                }
                switch answer.status {
                case 200 where index == 1:
                    if answer.json["count"] as? Int != 20_000 { failures.add("search counted \(answer.json["count"] ?? "-")") }
                case 200:
                    if answer.body != text { failures.add("GET served \(answer.body.count) bytes that are not the file") }
                case 404: break
                default: failures.add("GET \(target): \(answer.status) \(answer.text.prefix(100))")
                }
                tally.add("\(index == 1 ? "search" : "get") \(answer.status)")
            }
        }
        #expect(failures.all.isEmpty, "\(failures.all.prefix(5))")
        print("delete under readers: \(tally.summary)")
        #expect(server.death == nil)
        #expect(
            try eventually { try server.rootMappings().allSatisfy { !$0.contains("(deleted)") } }, "\((try? server.rootMappings()) ?? [])")
    }

    /// Resizes through PATCH (shrink, extend with zeros, back to full length) while downloads,
    /// ranges and searches run: every answer is whole or cut short, every byte the file's or a
    /// zero, and the server never dies of SIGBUS.
    @Test func resizeUnderDownloadsAndSearches() throws {
        let original = Array((0..<100_000).map { "line \($0) needle\n" }.joined().utf8)
        let server = try FaultServer(files: ["r.txt": original], arguments: ["--writable"])
        let stop = Shared(false)
        let failures = Failures()
        let tally = Tally()
        onThreads(4) { index in
            switch index {
            case 0:
                var generator = SeededRandom(seed: 93)
                for cycle in 0..<60 {
                    // Paced by the readers: each resize lands among answers in progress.
                    let seen = tally.total
                    _ = eventually(within: 10) { tally.total >= seen + 3 }
                    let length = cycle % 3 == 2 ? original.count : Int.random(in: 0...(original.count * 2), using: &generator)
                    let response = try? server.request("PATCH", "/files/r.txt", headers: [("Content-Range", "bytes */\(length)")])
                    if response?.status != 204 { failures.add("resize to \(length): \(response?.status ?? -1)") }
                    if cycle % 10 == 9, (try? server.request("PUT", "/files/r.txt", body: original))?.status != 204 {
                        failures.add("restoring PUT failed")
                    }
                }
                stop.update { $0 = true }
            case 1:
                while !stop.current {
                    guard let socket = try? RawSocket(port: server.port, receiveBuffer: 16 << 10),
                        socket.send("GET /files/r.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    else { continue }
                    var received: [UInt8] = []
                    while true {
                        let more = socket.receive(atLeast: 64 << 10)
                        if more.isEmpty { break }
                        received += more
                    }
                    guard let response = try? parseResponse(received, allowShort: true) else {
                        tally.add("download cut before headers")
                        continue
                    }
                    if response.status != 200 || !Self.originalOrZero(response.body, original, at: 0) {
                        failures.add("download: \(response.status), bytes neither the file's nor zero")
                    }
                    tally.add("download")
                }
            default:
                while !stop.current {
                    let target = index == 2 ? "/search/r.txt?q=needle&limit=0" : "/files/r.txt"
                    let headers = index == 2 ? [] : [("Range", "bytes=1000-200000")]
                    guard let answer = try? server.connect(timeoutSeconds: 20).send("GET", target, headers: headers) else {
                        tally.add("cut")
                        continue
                    }
                    switch answer.status {
                    case 200, 416: break
                    case 206:
                        if !Self.originalOrZero(answer.body, original, at: 1000) { failures.add("range: foreign bytes") }
                    case 409, 503:
                        if answer.header("Content-Type") != "application/problem+json" { failures.add("\(answer.status) not a problem") }
                    default: failures.add("GET \(target): \(answer.status)")
                    }
                    tally.add("\(index == 2 ? "search" : "range") \(answer.status)")
                }
            }
        }
        #expect(server.death == nil, "\(server.death ?? "")")
        #expect(failures.all.isEmpty, "\(failures.all.prefix(5))")
        print("resize under readers: \(tally.summary)")
        #expect(try server.request("GET", "/files/r.txt").body.count == original.count)
    }

    /// What a file resized under a reader may show: its original bytes or zeros, and only zeros
    /// past the original's end (where a resize extended it).
    static func originalOrZero(_ body: [UInt8], _ original: [UInt8], at offset: Int) -> Bool {
        let inside = max(0, min(body.count, original.count - offset))
        return isOriginalOrZero(body[..<inside], original: original, at: offset) && !body[inside...].contains { $0 != 0 }
    }
}
