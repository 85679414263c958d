import Foundation
import Glibc
import Logging
import Testing

@testable import Mmapd

/// The access log writes client text (method, target): it must not let a client forge or break
/// log lines.
@Suite struct AccessLogTests {
    @Test(arguments: [
        ("/files/a.txt", "/files/a.txt"),
        ("/files/a\u{1}b", "/files/a\\u{1}b"),
        ("/files/a\tb", "/files/a\\u{9}b"),
        ("/files/a\u{7f}", "/files/a\\u{7f}"),
        ("/files/a\u{85}", "/files/a\\u{85}"),
        ("/x\r\nfake line", "/x\\u{d}\\u{a}fake line"),
        ("/files/a\\u{1}", "/files/a\\\\u{1}"),
        ("/files/caf\u{e9}", "/files/caf\u{e9}")
    ])
    func controlCharactersAreEscaped(raw: String, logged: String) {
        #expect(AccessLog.escaped(raw) == logged)
    }

    @Test(
        "logged headers are cut to the bound, never inside a UTF-8 sequence, with their length",
        arguments: [
            ("bytes=0-", "bytes=0-"), ("bytes=0-99", "bytes=0-…(10 bytes)"), ("", ""), ("12345678", "12345678"),
            ("123456789", "12345678…(9 bytes)"),
            ("1234567é", "1234567…(9 bytes)"), ("123456é", "123456é"), ("\u{1}234567890", "\\u{1}2345678…(10 bytes)"),
            ("€€€", "€€…(9 bytes)")
        ])
    func truncation(value: String, logged: String) {
        let log = AccessLog(logger: Logger(label: "test"), headerBytes: 8)
        #expect(log.truncated(value) == logged)
    }

    /// A target with a control byte, sent raw, comes out escaped in the real log on standard error.
    @Test func theServerLogsARawControlByteEscaped() throws {
        let root = try LifecycleTests.makeRoot(["a.txt": "alpha"])
        let server = try SpawnedServer(arguments: ["--port", "0", "--root", root.path, "--log-level", "info"])
        _ = server.waitForStartup()
        let port = try #require(server.port)
        let socket = try RawSocket(port: port, timeoutSeconds: 5)
        socket.send(Array("GET /files/a\u{1}b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8))
        let answer = String(decoding: socket.receive(atLeast: Int.max), as: UTF8.self)
        #expect(answer.hasPrefix("HTTP/1.1 "), "no answer: \(answer.debugDescription)")
        server.signal(SIGTERM)
        let (status, log) = server.waitForExit()
        #expect(status == 0)
        #expect(log.contains("/files/a\\u{1}b"), "\(log)")
        #expect(!log.contains("\u{1}"))
        // The duration is measured from the request line: a few milliseconds at most here, never
        // negative or a clock's absolute value.
        let duration = log.split(separator: " ").first { $0.hasPrefix("ms=") }.flatMap { Double($0.dropFirst(3)) }
        #expect(duration.map { $0 >= 0 && $0 < 5000 } == true, "\(log)")
    }
}
