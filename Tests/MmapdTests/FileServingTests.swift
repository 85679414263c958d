import Foundation
import Glibc
import MicroHTTP
import Testing

@testable import Mmapd

@Suite struct FileServingTests {
    static let sample = Array("hello, mapped world\n".utf8)

    @Test func wholeFileHasTheContractHeaders() throws {
        let server = try TestServer(files: ["hello.txt": Self.sample])
        let response = try server.request("GET", "/files/hello.txt")
        #expect(response.status == 200)
        #expect(response.body == Self.sample)
        #expect(response.header("Content-Length") == "\(Self.sample.count)")
        #expect(response.header("Content-Type") == "text/plain; charset=utf-8")
        #expect(response.header("Accept-Ranges") == "bytes")
        let etag = try #require(response.header("ETag"))
        #expect(etag.hasPrefix("\"") && etag.hasSuffix("\"") && !etag.hasPrefix("W/"))
        #expect(response.header("Last-Modified")?.hasSuffix(" GMT") == true)
    }

    @Test func headAnswersGetsHeadersWithoutBody() throws {
        let server = try TestServer(files: ["hello.txt": Self.sample])
        let get = try server.request("GET", "/files/hello.txt")
        let head = try server.request("HEAD", "/files/hello.txt")
        #expect(head.status == 200)
        #expect(head.body.isEmpty)
        for name in ["Content-Length", "Content-Type", "ETag", "Last-Modified", "Accept-Ranges"] {
            #expect(head.header(name) == get.header(name), "\(name)")
        }
    }

    @Test func unknownExtensionIsOctetStream() throws {
        let server = try TestServer(files: ["blob.weird": [0, 1, 2]])
        #expect(try server.request("GET", "/files/blob.weird").header("Content-Type") == "application/octet-stream")
    }

    @Test func emptyFileIsServed() throws {
        let server = try TestServer(files: ["empty": []])
        let response = try server.request("GET", "/files/empty")
        #expect(response.status == 200)
        #expect(response.header("Content-Length") == "0")
        #expect(response.body.isEmpty)
    }

    @Test func missingFileIsProblemJSON() throws {
        let server = try TestServer()
        let response = try server.request("GET", "/files/nope.txt")
        #expect(response.status == 404)
        #expect(response.header("Content-Type") == "application/problem+json")
        #expect(response.json["status"] as? Int == 404)
        #expect(response.json["title"] is String)
        #expect(response.json["detail"] is String)
    }

    @Test func unsupportedMethodIs405WithAllow() throws {
        let server = try TestServer(files: ["a": [1]])
        let response = try server.request("POST", "/files/a")
        #expect(response.status == 405)
        #expect(response.header("Allow")?.contains("GET") == true)
        #expect(response.header("Content-Type") == "application/problem+json")
    }

    @Test func patchOnAReadOnlyServerIs405() throws {
        let server = try TestServer(files: ["a": [1]])
        let response = try server.request("PATCH", "/files/a", headers: [("Content-Range", "bytes 0-0/*")], body: [2])
        #expect(response.status == 405)
        #expect(response.header("Allow") != nil)
        #expect(try server.read("a") == [1])
    }

    @Test func healthz() throws {
        let server = try TestServer()
        let response = try server.request("GET", "/healthz")
        #expect(response.status == 200)
    }

    @Test func unknownRouteIs404() throws {
        let server = try TestServer()
        #expect(try server.request("GET", "/elsewhere").status == 404)
    }

    @Test func keepAliveServesSeveralRequestsOnOneConnection() throws {
        let server = try TestServer(files: ["a.txt": Self.sample])
        let connection = try HTTPConnection(port: server.port)
        for _ in 0..<5 {
            let response = try connection.send("GET", "/files/a.txt")
            #expect(response.status == 200)
            #expect(response.body == Self.sample)
            #expect(response.header("Connection")?.lowercased() != "close")
        }
    }

    @Test func namesWithSpacesAndUTF8() throws {
        let server = try TestServer(files: ["dir with space/été ☃.txt": Self.sample])
        let response = try server.request("GET", "/files/dir%20with%20space/%C3%A9t%C3%A9%20%E2%98%83.txt")
        #expect(response.status == 200)
        #expect(response.body == Self.sample)
    }

    @Test func directoryListing() throws {
        let server = try TestServer(files: ["d/one.txt": [1, 2, 3], "d/sub/two": [4]])
        let response = try server.request("GET", "/files/d/", headers: [("Accept", "application/json")])
        #expect(response.status == 200)
        #expect(response.header("Content-Type") == "application/json")
        let entries = try #require(response.json["entries"] as? [[String: Any]])
        #expect(entries.map { $0["name"] as? String } == ["one.txt", "sub"])
        #expect(entries.first?["type"] as? String == "file")
        #expect(entries.first?["size"] as? Int == 3)
        #expect(entries.last?["type"] as? String == "directory")
    }

    @Test func directoryWithoutSlashRedirects() throws {
        let server = try TestServer(files: ["d/one.txt": [1]])
        let response = try server.request("GET", "/files/d")
        #expect(response.status == 301)
        #expect(response.header("Location") == "/files/d/")
    }

    @Test func listingsCanBeTurnedOff() throws {
        let server = try TestServer(configure: { $0.listings = false }, files: ["d/one.txt": [1]])
        #expect(try server.request("GET", "/files/d/").status == 404)
    }

    @Test func twoHundredConcurrentGetsAreByteCorrect() throws {
        let files = (0..<8).reduce(into: [String: [UInt8]]()) { files, index in
            files["f\(index).bin"] = pseudoRandomBytes(count: 10_000 + index * 7919, seed: UInt64(index))
        }
        let server = try TestServer(files: files)
        let failures = Failures()
        DispatchQueue.concurrentPerform(iterations: 200) { index in
            let name = "f\(index % 8).bin"
            do {
                let response = try server.request("GET", "/files/\(name)")
                if response.status != 200 || response.body != files[name] { failures.add("\(name): \(response.status)") }
            } catch {
                failures.add("\(name): \(error)")
            }
        }
        #expect(failures.all.isEmpty)
    }

    @Test func replacedTruncatedAndGrownFilesShowTheirNewContent() throws {
        let server = try TestServer(files: ["f.txt": Array("original content".utf8)])
        let first = try server.request("GET", "/files/f.txt")
        #expect(first.text == "original content")

        // Replace by rename with the same size and mtime, as rsync -a does: the inode changes.
        try server.write("f.tmp", Array("replaced content".utf8))
        var times = [timespec(tv_sec: 1_700_000_000, tv_nsec: 0), timespec(tv_sec: 1_700_000_000, tv_nsec: 0)]
        utimensat(AT_FDCWD, server.path("f.txt"), &times, 0)
        utimensat(AT_FDCWD, server.path("f.tmp"), &times, 0)
        let original = try server.request("GET", "/files/f.txt")
        rename(server.path("f.tmp"), server.path("f.txt"))
        let replaced = try server.request("GET", "/files/f.txt")
        #expect(replaced.text == "replaced content")
        #expect(replaced.header("ETag") != original.header("ETag"))

        truncate(server.path("f.txt"), 3)
        let truncated = try server.request("GET", "/files/f.txt")
        #expect(truncated.text == "rep")
        #expect(truncated.header("Content-Length") == "3")

        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: server.path("f.txt")))
        handle.seekToEndOfFile()
        handle.write(Data(" grown".utf8))
        try handle.close()
        #expect(try server.request("GET", "/files/f.txt").text == "rep grown")
        #expect(try server.request("GET", "/healthz").status == 200)
    }

    @Test func curlShowsTheHeaders() throws {
        let server = try TestServer(files: ["sample.txt": Self.sample])
        let result = try curl(["-i", "\(server.baseURL)/files/sample.txt"])
        #expect(result.status == 0)
        let output = result.stdoutText
        #expect(output.hasPrefix("HTTP/1.1 200"))
        for header in [
            "Content-Length: 20", "Content-Type: text/plain; charset=utf-8", "ETag: \"", "Last-Modified: ", "Accept-Ranges: bytes"
        ] {
            #expect(output.contains(header), "\(header)")
        }
        #expect(output.hasSuffix("hello, mapped world\n"))
    }

    /// With `--sendfile-threshold 1 MiB`, bodies from 1 MiB go out with sendfile from a descriptor,
    /// smaller ones from the mapping (and with the default, 0, every one from the mapping): both
    /// sides of the threshold, whole and ranged, must carry exactly the file's bytes, and the
    /// descriptors must be closed once the answers are sent.
    @Test(arguments: [((1 << 20) - 1, 1 << 20), (1 << 20, 1 << 20), (5 << 20, 1 << 20), (5 << 20, 0)])
    func largeBodiesAreExactOnBothSidesOfTheSendfileThreshold(size: Int, threshold: Int) throws {
        let bytes = pseudoRandomBytes(count: size + 4096, seed: UInt64(size))
        let server = try TestServer(configure: { $0.sendfileThreshold = threshold }, files: ["big.bin": bytes])
        let connection = try HTTPConnection(port: server.port)
        let whole = try connection.send("GET", "/files/big.bin")
        #expect(whole.status == 200)
        #expect(whole.header("Content-Length") == "\(bytes.count)")
        #expect(whole.body == bytes)
        let range = try connection.send("GET", "/files/big.bin", headers: [("Range", "bytes=1000-\(1000 + size - 1)")])
        #expect(range.status == 206)
        #expect(range.header("Content-Range") == "bytes 1000-\(1000 + size - 1)/\(bytes.count)")
        #expect(range.body[...] == bytes[1000..<(1000 + size)])
        let head = try connection.send("HEAD", "/files/big.bin")
        #expect(head.header("Content-Length") == "\(bytes.count)" && head.body.isEmpty)
        // Each answer, from the mapping, the prepared whole file or sendfile, carries the file's
        // shared fields exactly once and alike.
        for name in ["ETag", "Last-Modified", "Accept-Ranges", "Content-Type"] {
            let values = [whole, range, head].map { answer in
                answer.headers.filter { $0.name.lowercased() == name.lowercased() }.map(\.value)
            }
            #expect(values.allSatisfy { $0.count == 1 && $0 == values[0] }, "\(name): \(values)")
        }
        #expect(range.headers.filter { $0.name.lowercased() == "content-range" }.count == 1)
        _ = try connection.send("GET", "/healthz")  // the previous answers are finished and freed
        #expect(descriptors(naming: server.path("big.bin")) == 0, "descriptors opened for sendfile must be closed")
    }

    /// 0 turns sendfile off without TLS; with TLS there is no sendfile whatever the setting (every
    /// body is copied from the mapping under the fault guard; `TLSTests` shows a truncation).
    @Test func theThresholdInEffectIsNeverADescriptorWithTLS() {
        let mib = 1 << 20
        #expect(FileReads.descriptorThreshold(configured: 0, tls: false) == nil)
        #expect(FileReads.descriptorThreshold(configured: 4096, tls: false) == 4096)
        #expect(FileReads.descriptorThreshold(configured: 64 * mib, tls: false) == UInt64(64 * mib))
        #expect(FileReads.descriptorThreshold(configured: 0, tls: true) == nil)
        #expect(FileReads.descriptorThreshold(configured: 4096, tls: true) == nil)
        #expect(FileReads.descriptorThreshold(configured: 64 * mib, tls: true) == nil)
        #expect(Settings().sendfileThreshold == 0)
    }

    /// A sendfile answer dropped before it is queued (the client left between libmicrohttpd's two
    /// calls) must not leak its descriptor.
    @Test func aDescriptorNeverHandedOverIsClosed() throws {
        let server = try TestServer(files: ["f": [1, 2, 3]])
        let path = server.path("f")
        do {
            let body = Response.Body.file(OpenFile(descriptor: open(path, O_RDONLY)), offset: 0, count: 3)
            #expect(descriptors(naming: path) == 1)
            withExtendedLifetime(body) {}
        }
        #expect(descriptors(naming: path) == 0)
    }

    /// Every body shape that borrows a mapping (the prepared whole file, a single range, a
    /// multipart answer) is held by its request until completion, and only until then.
    @Test func noLeaseOutlivesItsResponse() throws {
        let server = try TestServer(files: ["a": pseudoRandomBytes(count: 512 << 10, seed: 9)])
        let connection = try HTTPConnection(port: server.port)
        for _ in 0..<10 {
            #expect(try connection.send("GET", "/files/a").status == 200)
            #expect(try connection.send("GET", "/files/a", headers: [("Range", "bytes=10-99")]).status == 206)
            #expect(try connection.send("GET", "/files/a", headers: [("Range", "bytes=0-9,500-599")]).status == 206)
            #expect(try connection.send("HEAD", "/files/a", headers: [("Range", "bytes=10-99")]).status == 206)
        }
        // libmicrohttpd reads the next request on a connection only after it has finished (and
        // freed) the previous response, so this answer proves the first one is gone.
        _ = try connection.send("GET", "/healthz")
        #expect(server.service.responsesHoldingMemory == 0)
    }
}

/// Thread-safe collection of failure messages from concurrent work.
final class Failures: @unchecked Sendable {
    private let lock = NSLock()
    private var messages: [String] = []
    func add(_ message: String) { lock.withLock { messages.append(message) } }
    var all: [String] { lock.withLock { messages } }
}

/// Descriptors of this process (the test server runs in it) open on `path`. Counting all of them
/// would race with the tests running in parallel.
func descriptors(naming path: String) -> Int {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
    let resolved = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
    return entries.filter { (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\($0)")) == resolved }.count
}
