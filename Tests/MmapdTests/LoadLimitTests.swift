import Foundation
import Glibc
import Testing
@testable import Mmapd

/// Connection-level limits (issue 7 §4) against the in-process server: slow clients are cut off by
/// `--connection-timeout` while others keep being served, and the per-IP and total connection
/// limits hold. (Tests/load/run does the same under wrk load.)
@Suite struct LoadLimitTests {
    // MARK: Slow clients

    /// Eight connections that stall in the middle of their request head, and two PATCHes that stall
    /// in the middle of their body, are closed by the server once `--connection-timeout` (2 s) of
    /// silence has passed; a normal client is answered promptly all the while, and the stalled
    /// PATCHes give their files' write turns back.
    @Test func stalledHeadersAndBodiesAreCutOffWhileOthersAreServed() throws {
        let server = try TestServer(configure: { $0.connectionTimeout = 2; $0.writable = true },
                                    files: ["a.txt": Array("hello".utf8), "w0.bin": fill(0, 1000), "w1.bin": fill(0, 1000)])
        let started = ContinuousClock.now
        var slow: [RawSocket] = []
        for index in 0..<8 {
            let socket = try RawSocket(port: server.port)
            // Half a request head: no blank line, ever.
            #expect(socket.send("GET /files/a.txt HTTP/1.1\r\nHost: x\r\nX-Slow-\(index): "))
            slow.append(socket)
        }
        for file in ["w0.bin", "w1.bin"] {
            let socket = try RawSocket(port: server.port)
            #expect(socket.send("PATCH /files/\(file) HTTP/1.1\r\nHost: x\r\nContent-Range: bytes 0-999/*\r\nContent-Length: 1000\r\n\r\n0123456789"))
            slow.append(socket)
        }

        // A normal client meanwhile: every request answered, none slowly.
        let normal = try HTTPConnection(port: server.port, timeoutSeconds: 5)
        var worst = Duration.zero
        var served = 0
        var checkedEarly = false
        while ContinuousClock.now - started < .milliseconds(2500) {
            if !checkedEarly, ContinuousClock.now - started > .seconds(1) {
                // One second in, nobody is cut off yet: the timeout is 2 s of silence.
                #expect(slow.allSatisfy { $0.isOpenNow() }, "a slow connection was closed before the timeout")
                checkedEarly = true
            }
            let before = ContinuousClock.now
            let fresh = served % 2 == 0 ? normal : try HTTPConnection(port: server.port, timeoutSeconds: 5)
            #expect(try fresh.send("GET", "/files/a.txt").text == "hello")
            worst = max(worst, ContinuousClock.now - before)
            served += 1
            usleep(50_000)
        }
        #expect(worst < .seconds(1), "a normal request took \(worst) while slow clients were connected")

        // Every slow client is closed by the server (EOF or reset), at 2 s of silence, not before.
        for socket in slow {
            #expect(socket.isClosedByPeer(), "a stalled connection is still open")
            socket.close(reset: false)
        }
        let elapsed = ContinuousClock.now - started
        #expect(checkedEarly && elapsed < .seconds(8), "cut off after \(elapsed)")
        // The stalled PATCHes released their turns: new writes go through at once.
        for file in ["w0.bin", "w1.bin"] {
            let response = try HTTPConnection(port: server.port, timeoutSeconds: 5)
                .send("PATCH", "/files/\(file)", headers: [("Content-Range", "bytes 0-0/*")], body: [1])
            #expect(response.status == 204)
        }
    }

    /// A client that trickles its request head one byte every 0.5 s never falls silent for the
    /// 2 s timeout. libmicrohttpd's `MHD_OPTION_CONNECTION_TIMEOUT` is an idle timeout with no
    /// deadline for a complete request, so such a connection is held as long as the client keeps
    /// trickling (until the header buffer, `--max-header-bytes`, is full). This records that
    /// residual risk (docs/SECURITY.md); what the limits guarantee is that such clients cannot take
    /// more than `--max-connections-per-ip` connections, and that others are still served.
    @Test func tricklingHeadersAreBoundedByTheConnectionLimitsNotTheTimeout() throws {
        let server = try TestServer(configure: { $0.connectionTimeout = 2; $0.maxConnectionsPerIP = 6 },
                                    files: ["a.txt": Array("hello".utf8)])
        var trickling: [RawSocket] = []
        for _ in 0..<4 {
            let socket = try RawSocket(port: server.port)
            #expect(socket.send("GET /files/a.txt HTTP/1.1\r\nHost: x\r\nX-Trickle: "))
            trickling.append(socket)
        }
        let started = ContinuousClock.now
        var open = trickling.count
        while ContinuousClock.now - started < .seconds(5) {
            usleep(500_000)
            open = trickling.filter { $0.send("a") }.count
            #expect(try HTTPConnection(port: server.port, timeoutSeconds: 5).send("GET", "/files/a.txt").status == 200)
        }
        // Still open after 5 s, 2.5 times the timeout: the known gap. Recorded, not hidden.
        withKnownIssue("libmicrohttpd's connection timeout is idle-only: a trickling request head is never cut off", isIntermittent: true) {
            #expect(open == 0, "\(open) of \(trickling.count) trickling connections still open after 5 s with a 2 s timeout")
        }
        for socket in trickling { socket.close(reset: true) }
    }

    // MARK: Connection limits

    /// `--max-connections-per-ip 4`: four keep-alive connections from 127.0.0.1 are served; a
    /// fifth is closed without an answer while they stay open; the four keep working; once one
    /// closes, a new connection is served again.
    @Test func perIPLimitHolds() throws {
        let server = try TestServer(configure: { $0.maxConnectionsPerIP = 4; $0.maxConnections = 100 },
                                    files: ["a.txt": Array("hello".utf8)])
        try expectLimit(of: 4, on: server)
    }

    /// `--max-connections 4` (no per-IP limit) holds the same way, with the default two network
    /// threads, among which libmicrohttpd shares the limit.
    @Test func totalLimitHolds() throws {
        let server = try TestServer(configure: { $0.maxConnections = 4; $0.maxConnectionsPerIP = 0 },
                                    files: ["a.txt": Array("hello".utf8)])
        try expectLimit(of: 4, on: server)
    }

    private func expectLimit(of limit: Int, on server: TestServer, sourceLocation: SourceLocation = #_sourceLocation) throws {
        var open: [HTTPConnection] = []
        for index in 0..<limit {
            let connection = try HTTPConnection(port: server.port, timeoutSeconds: 5)
            let response = try? connection.send("GET", "/files/a.txt")
            #expect(response?.status == 200, "connection \(index + 1) of \(limit) was refused", sourceLocation: sourceLocation)
            open.append(connection)
        }
        let extra = try RawSocket(port: server.port)
        _ = extra.send("GET /files/a.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        let answer = extra.receive(atLeast: 1)
        #expect(answer.isEmpty, "connection \(limit + 1) got an answer: \(String(decoding: answer.prefix(40), as: UTF8.self))",
                sourceLocation: sourceLocation)
        extra.close(reset: false)
        for (index, connection) in open.enumerated() {
            #expect((try? connection.send("GET", "/files/a.txt"))?.status == 200, "connection \(index + 1) stopped working",
                    sourceLocation: sourceLocation)
        }
        open.removeFirst()
        // The server notices the close asynchronously: poll (bounded) for the freed place.
        let freed = eventually(within: 5) {
            (try? HTTPConnection(port: server.port, timeoutSeconds: 2).send("GET", "/files/a.txt"))?.status == 200
        }
        #expect(freed, "no connection was accepted after one of \(limit) closed", sourceLocation: sourceLocation)
        withExtendedLifetime(open) {}
    }
}
