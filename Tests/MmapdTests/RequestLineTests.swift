import Foundation
import Glibc
import Mmapd
import Testing

/// Malformed request lines on a live server (issue 16, item 11): each is answered 400 or closed
/// at once, never left waiting for the header deadline, and none reaches a file under a name
/// other than the one sent. libmicrohttpd 0.9.75 dropped a line that starts with NUL as an empty
/// line and let a NUL inside the method or target cut them short.
@Suite struct RequestLineTests {
    static let file = Array("the file's bytes\n".utf8)

    /// A server whose header deadline is far beyond the time allowed for an answer, so waiting
    /// for the deadline cannot pass for answering promptly.
    static func server() throws -> TestServer {
        try TestServer(configure: { $0.headerTimeout = 30 }, files: ["a.txt": file])
    }

    /// Within this long of sending, the server has answered or closed.
    static let prompt: Duration = .seconds(3)

    struct Outcome {
        /// The answer's status; nil when the server closed without one.
        let status: Int?
        let response: HTTPResponse?
        let closed: Bool
        let elapsed: Duration
    }

    /// Sends `bytes` on a new connection and reads until the server has answered (a whole
    /// response) or closed the connection (FIN or RST), failing when neither comes within 5 s.
    static func exchange(_ server: TestServer, _ bytes: [UInt8]) throws -> Outcome {
        let socket = try RawSocket(port: server.port, timeoutSeconds: 5)
        defer { socket.close(reset: false) }
        let start = ContinuousClock.now
        socket.send(bytes)
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var closed = false
        while (try? parse(received, complete: true)) == nil {
            let got = chunk.withUnsafeMutableBytes { recv(socket.fd, $0.baseAddress, $0.count, 0) }
            if got > 0 {
                received += chunk[..<got]
                continue
            }
            guard got == 0 || errno == ECONNRESET else {
                throw HTTPTestError(description: "no answer and no close within 5 s (errno \(errno))")
            }
            closed = true
            break
        }
        let elapsed = ContinuousClock.now - start
        let response = try? parse(received, complete: false)
        return Outcome(status: response?.status, response: response, closed: closed, elapsed: elapsed)
    }

    /// The response in `bytes`; with `complete`, only once its whole Content-Length body is there.
    static func parse(_ bytes: [UInt8], complete: Bool) throws -> HTTPResponse {
        guard let headEnd = bytes.firstRange(of: [13, 10, 13, 10]) else { throw HTTPTestError(description: "no response head") }
        var lines = String(decoding: bytes[..<headEnd.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { throw HTTPTestError(description: "bad status line") }
        let headers = lines.compactMap { line -> (String, String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        let response = HTTPResponse(status: status, headers: headers, body: Array(bytes[headEnd.upperBound...]))
        if complete, response.body.count < response.header("Content-Length").flatMap(Int.init) ?? Int.max {
            throw HTTPTestError(description: "body incomplete")
        }
        return response
    }

    @Test("A request line of binary junk is answered 400 at once")
    func binaryJunkIsAnsweredAtOnce() throws {
        let server = try Self.server()
        let outcome = try Self.exchange(server, [0x00, 0x01, 0x02, 0x03, 0x20, 0xFF, 0xFE] + Array(" HTTP/1.1\r\n\r\n".utf8))
        #expect(outcome.elapsed < Self.prompt, "\(outcome.elapsed)")
        #expect(outcome.status == 400)
        #expect(outcome.response?.header("Content-Type") == "application/problem+json")
    }

    @Test(
        "A line that starts with NUL after empty lines, or is NUL alone, is answered or closed at once",
        arguments: [
            Array("\r\n\r\n".utf8) + [0] + Array("GET /files/a.txt HTTP/1.1\r\nHost: x\r\n\r\n".utf8),
            Array("\n".utf8) + [0, 0x41] + Array(" /files/a.txt HTTP/1.1\r\n\r\n".utf8),
            [0] + Array("\r\n\r\n".utf8)
        ])
    func leadingNULIsNotAnEmptyLine(bytes: [UInt8]) throws {
        let server = try Self.server()
        let outcome = try Self.exchange(server, bytes)
        #expect(outcome.elapsed < Self.prompt, "\(outcome.elapsed)")
        #expect(outcome.status == nil || outcome.status == 400, "\(String(describing: outcome.status))")
    }

    /// Before: `/files/a.txt` was served for a target that went on after a NUL.
    @Test(
        "A NUL inside the target or the method is 400, not a shorter name",
        arguments: [
            ("GET /files/a.txt\u{0}.secret HTTP/1.1", "target"),
            ("GET /files/a.txt\u{0} HTTP/1.1", "target"),
            ("GET /files/a.txt?x=\u{0}y HTTP/1.1", "target"),
            ("GE\u{0}T /files/a.txt HTTP/1.1", "method"),
            ("GET\u{0}X  /files/a.txt HTTP/1.1", "method")
        ])
    func hiddenNULIsRefused(line: String, part: String) throws {
        let server = try Self.server()
        let outcome = try Self.exchange(server, Array((line + "\r\nHost: x\r\n\r\n").utf8))
        #expect(outcome.elapsed < Self.prompt)
        #expect(outcome.status == 400, "\(line.debugDescription): \(outcome.response?.text ?? "no answer")")
        #expect(outcome.response?.text.contains("\(part) contains a NUL byte") == true, "\(outcome.response?.text ?? "")")
    }

    /// Found while writing FuzzRequestLine: the target's length was taken from its decoded string, in which
    /// each byte that is not UTF-8 counts three, so such a target was refused as holding a NUL.
    @Test(
        "A target byte that is not UTF-8 is not mistaken for a NUL",
        arguments: [[0xFF], [0xC3], [0xE2, 0x82], [0x80, 0x80, 0x80]] as [[UInt8]])
    func invalidUTF8IsNotANUL(bytes: [UInt8]) throws {
        let server = try Self.server()
        let outcome = try Self.exchange(server, Array("GET /files/a".utf8) + bytes + Array(".txt HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
        #expect(outcome.elapsed < Self.prompt)
        #expect(outcome.status == 400 || outcome.status == 404, "\(String(describing: outcome.status))")
        #expect(outcome.response?.text.contains("NUL") == false, "\(outcome.response?.text ?? "")")
    }

    @Test(
        "Malformed lines get a prompt 4xx or a close",
        arguments: [
            "GET /files/a.txt\r\nHost: x\r\n\r\n",  // no version
            "GET\r\n\r\n",  // method alone
            "GET /files/a.txt HTTP/1.1\rHost: x\r\n\r\n",  // CR without LF
            "GET /files/a.txt HTTP/9.9\r\nHost: x\r\n\r\n",  // unknown version
            "GET /files/a.txt HTTP/1.1 extra\r\nHost: x\r\n\r\n",
            "GET /files/a b.txt HTTP/1.1\r\nHost: x\r\n\r\n",  // space in the target
            "G(T /files/a.txt HTTP/1.1\r\nHost: x\r\n\r\n",  // a method that is not a token
            "G\u{1}T /files/a.txt HTTP/1.1\r\nHost: x\r\n\r\n",
            "\u{7F} /files/a.txt HTTP/1.1\r\nHost: x\r\n\r\n",
            "GET files/a.txt HTTP/1.1\r\nHost: x\r\n\r\n"
        ])  // not origin-form
    func malformedLinesAreAnsweredPromptly(request: String) throws {
        let server = try Self.server()
        try Self.expectPromptRefusal(server, request)
    }

    /// A method or target larger than the head buffer (--max-header-bytes, 16 KiB here).
    @Test func oversizedMethodOrTargetIsAnsweredPromptly() throws {
        let server = try Self.server()
        try Self.expectPromptRefusal(server, String(repeating: "A", count: 20_000) + " /files/a.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        try Self.expectPromptRefusal(server, "GET /files/" + String(repeating: "a", count: 20_000) + " HTTP/1.1\r\nHost: x\r\n\r\n")
    }

    static func expectPromptRefusal(_ server: TestServer, _ request: String) throws {
        let outcome = try exchange(server, Array(request.utf8))
        let label = String(request.prefix(60)).debugDescription
        #expect(outcome.elapsed < prompt, "\(label): \(outcome.elapsed)")
        if let status = outcome.status { #expect((400..<500).contains(status) || status == 505, "\(label): \(status)") }
    }

    /// libmicrohttpd 0.9.75 stored each query argument in the connection's memory pool: 300 of
    /// them (1.2 KB) exhausted it and the request went unanswered until the head timeout.
    @Test func manyQueryArgumentsAreAnswered() throws {
        let server = try Self.server()
        let read = try Self.exchange(
            server, Array(("GET /files/a.txt?" + String(repeating: "x=1&", count: 3000) + " HTTP/1.1\r\nHost: x\r\n\r\n").utf8))
        #expect(read.elapsed < Self.prompt, "\(read.elapsed)")
        #expect(read.status == 200)
        #expect(read.response?.body == Self.file)
        let globs = String(repeating: "glob=**/*a*b*.txt&", count: 300)
        let search = try Self.exchange(server, Array("GET /search/?q=file&\(globs) HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
        #expect(search.elapsed < Self.prompt, "\(search.elapsed)")
        #expect(search.status == 200)
        #expect(search.response?.text.contains("\"count\":0") == true, "\(search.response?.text ?? "")")
    }

    /// A token that is no standard method is a method all the same: 405 with Allow, not 400.
    @Test func anUnknownTokenMethodIs405() throws {
        let server = try Self.server()
        let response = try server.request(String(repeating: "X", count: 1000), "/files/a.txt")
        #expect(response.status == 405)
    }

    /// Bare LF line ends are accepted, as nginx accepts them.
    @Test func bareLineFeedsAreServed() throws {
        let server = try Self.server()
        let connection = try HTTPConnection(port: server.port, timeoutSeconds: 5)
        try connection.sendRaw(Array("GET /files/a.txt HTTP/1.1\nHost: x\n\n".utf8))
        let response = try connection.readResponse()
        #expect(response.status == 200)
        #expect(response.body == Self.file)
    }

    /// The checks hold on a keep-alive connection's later requests too, and a good request on the
    /// same connection before the bad one is unaffected.
    @Test func aLaterRequestOnTheConnectionIsCheckedToo() throws {
        let server = try Self.server()
        let connection = try HTTPConnection(port: server.port, timeoutSeconds: 5)
        #expect(try connection.send("GET", "/files/a.txt").status == 200)
        try connection.sendRaw(Array("GET /files/a.txt\u{0}x HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
        let refused = try connection.readResponse()
        #expect(refused.status == 400)
        #expect(connection.isClosedByServer())
        #expect(try server.request("GET", "/files/a.txt").body == Self.file)
    }
}
