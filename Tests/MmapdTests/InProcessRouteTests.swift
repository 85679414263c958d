import Foundation
import Logging
import MicroHTTPTesting
import Mmapd
import Testing

/// mmapd's routes driven in process (`InProcessExchange`, no daemon, no socket) answer exactly
/// as the live server does: reads with ranges and conditionals, problems, searches (deferred and
/// streamed), and a PATCH through its turn, paused body and group flush.
@Suite struct InProcessRouteTests {
    static let text = Array((0..<2_000).map { "line \($0): the quick brown fox\n" }.joined().utf8)
    static let token = "in-process-token"

    /// A live server and the same routes in process, over one root.
    final class Pair: @unchecked Sendable {
        let live: TestServer
        let local: InProcessExchange

        init() throws {
            let configure: (inout Settings) -> Void = { settings in
                settings.writable = true
                settings.tokens = [InProcessRouteTests.token]
            }
            live = try TestServer(configure: configure, files: ["a.txt": InProcessRouteTests.text, "dir/b.txt": Array("fox\n".utf8)])
            var settings = live.service.settings
            configure(&settings)
            var logger = Logger(label: "mmapd-in-process")
            logger.logLevel = .error
            local = InProcessExchange(handler: try MmapdService.handler(settings: settings, logger: logger))
        }
    }

    /// Requests whose answers do not depend on which side answers first.
    static let reads: [(String, String, [(String, String)])] = [
        ("GET", "/files/a.txt", []),
        ("HEAD", "/files/a.txt", []),
        ("GET", "/files/a.txt", [("Range", "bytes=100-199")]),
        ("GET", "/files/a.txt", [("Range", "bytes=0-9,50-59")]),
        ("GET", "/files/a.txt", [("Range", "bytes=-5")]),
        ("GET", "/files/a.txt", [("Range", "bytes=999999-")]),
        ("GET", "/files/missing.txt", []),
        ("GET", "/files/../etc/passwd", []),
        ("DELETE", "/files/a.txt", []),
        ("GET", "/search/a.txt?q=fox&limit=3", []),
        ("GET", "/search/a.txt?q=f.x&regex=true&limit=2", [("Accept", "application/x-ndjson")]),
        ("GET", "/search/?q=fox&limit=5", [("Accept", "application/x-ndjson")]),
        ("GET", "/search/a.txt?q=", []),
        ("GET", "/files/dir/", [("Accept", "application/json")])
    ]

    @Test(arguments: 0..<reads.count)
    func answersAsTheLiveServerDoes(index: Int) throws {
        let (method, target, headers) = Self.reads[index]
        let pair = try Pair()
        let live = try pair.live.request(method, target, headers: headers)
        let local = try #require(try pair.local.perform(method, target, headers: headers))
        #expect(local.status == live.status, "\(method) \(target)")
        #expect(Self.withoutBoundary(local.body, local) == Self.withoutBoundary(live.body, live), "\(method) \(target)")
        for name in ["Content-Type", "Content-Range", "ETag", "Last-Modified", "Accept-Ranges"] {
            let (localValue, liveValue) = (local.header(name), live.header(name))
            #expect(
                localValue.map { Self.withoutBoundary($0, local) } == liveValue.map { Self.withoutBoundary($0, live) },
                "\(name) of \(method) \(target)")
        }
    }

    /// A multipart answer's boundary is random: replaced by a fixed word before comparing.
    static func withoutBoundary(_ text: String, _ response: HTTPResponse) -> String {
        guard let boundary = response.header("Content-Type")?.split(separator: "boundary=").last, boundary.count > 8 else { return text }
        return text.replacingOccurrences(of: String(boundary), with: "BOUNDARY")
    }

    static func withoutBoundary(_ body: [UInt8], _ response: HTTPResponse) -> String {
        withoutBoundary(String(decoding: body, as: UTF8.self), response)
    }

    /// Conditionals in process: a matching If-None-Match is a 304 without a body, a stale
    /// If-Match a 412.
    @Test func conditionalsHold() throws {
        let pair = try Pair()
        let etag = try #require(try pair.local.perform("GET", "/files/a.txt")?.header("ETag"))
        let notModified = try #require(try pair.local.perform("GET", "/files/a.txt", headers: [("If-None-Match", etag)]))
        #expect(notModified.status == 304)
        #expect(notModified.body.isEmpty)
        let stale = try #require(try pair.local.perform("GET", "/files/a.txt", headers: [("If-Match", "\"stale\"")]))
        #expect(stale.status == 412)
        #expect(stale.header("Content-Type") == "application/problem+json")
    }

    /// A PATCH in process goes through the file's turn, its body in chunks and the group flush;
    /// the live server then reads the bytes it wrote, and its new ETag.
    @Test func aPatchInProcessIsReadBackLive() throws {
        let pair = try Pair()
        let before = try pair.live.request("GET", "/files/a.txt").header("ETag")
        let patch = Array("HELLO".utf8)
        let answer = try #require(
            try pair.local.perform(
                "PATCH", "/files/a.txt",
                headers: [
                    ("Authorization", "Bearer \(Self.token)"), ("Content-Type", "application/octet-stream"),
                    ("Content-Range", "bytes 10-14/*")
                ], body: patch))
        #expect(answer.status == 204)
        let read = try pair.live.request("GET", "/files/a.txt", headers: [("Range", "bytes=0-19")])
        #expect(read.body == Array(Self.text[0..<10]) + patch + Array(Self.text[15..<20]))
        #expect(try pair.live.read("a.txt") == Array(Self.text[0..<10]) + patch + Array(Self.text[15...]))
        #expect(answer.header("ETag") != nil)
        #expect(answer.header("ETag") != before)
        // The write generation is the in-process application's own: its reads name the new version.
        #expect(try pair.local.perform("GET", "/files/a.txt")?.header("ETag") == answer.header("ETag"))
    }
}
