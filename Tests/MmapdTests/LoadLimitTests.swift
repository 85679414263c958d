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
        let server = try TestServer(
            configure: {
                $0.connectionTimeout = 2
                $0.writable = true
            },
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
            #expect(
                socket.send(
                    "PATCH /files/\(file) HTTP/1.1\r\nHost: x\r\nContent-Range: bytes 0-999/*\r\nContent-Length: 1000\r\n\r\n0123456789"))
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

    /// A client that trickles its request head one byte every 0.5 s never falls silent long enough
    /// for the idle timeout (libmicrohttpd's only one); `--header-timeout 2` cuts it off anyway,
    /// while other clients keep being served.
    @Test func tricklingHeadersAreCutOffByTheHeaderTimeout() throws {
        let server = try TestServer(
            configure: {
                $0.connectionTimeout = 30
                $0.headerTimeout = 2
                $0.maxConnectionsPerIP = 6
            },
            files: ["a.txt": Array("hello".utf8)])
        var trickling: [RawSocket] = []
        for _ in 0..<4 {
            let socket = try RawSocket(port: server.port)
            #expect(socket.send("GET /files/a.txt HTTP/1.1\r\nHost: x\r\nX-Trickle: "))
            trickling.append(socket)
        }
        let started = ContinuousClock.now
        var open = trickling.count
        while open > 0, ContinuousClock.now - started < .seconds(8) {
            usleep(500_000)
            open = trickling.filter { $0.send("a") }.count
            #expect(try HTTPConnection(port: server.port, timeoutSeconds: 5).send("GET", "/files/a.txt").status == 200)
        }
        let lasted = ContinuousClock.now - started
        #expect(open == 0, "\(open) of \(trickling.count) trickling connections still open after \(lasted) with a 2 s header timeout")
        #expect(lasted >= .seconds(1), "cut off before the header timeout: \(lasted)")
        #expect(try cutOff(server) >= 4)
        for socket in trickling { socket.close(reset: true) }
    }

    /// A PATCH whose body trickles at 20 bytes per second (below `--min-body-rate 1024`) is cut off
    /// after its 2 s grace, and gives back its file's write turn: the next writer goes through.
    @Test func tricklingBodiesAreCutOffAndReleaseTheWriteTurn() throws {
        let server = try TestServer(
            configure: {
                $0.writable = true
                $0.connectionTimeout = 30
                $0.headerTimeout = 2
            },
            files: ["w.bin": [UInt8](repeating: 0, count: 4096)])
        let upload = try RawSocket(port: server.port)
        #expect(upload.send("PATCH /files/w.bin HTTP/1.1\r\nHost: x\r\nContent-Range: bytes 0-99999/*\r\nContent-Length: 100000\r\n\r\n"))
        let started = ContinuousClock.now
        var sending = true
        while sending, ContinuousClock.now - started < .seconds(8) {
            usleep(500_000)
            sending = upload.send([UInt8](repeating: 7, count: 10))
        }
        let lasted = ContinuousClock.now - started
        #expect(!sending, "a 20 B/s body was still accepted after \(lasted)")
        #expect(lasted >= .seconds(1), "cut off before the grace: \(lasted)")
        let next = try HTTPConnection(port: server.port, timeoutSeconds: 5)
            .send("PATCH", "/files/w.bin", headers: [("Content-Range", "bytes 0-0/*")], body: [1])
        #expect(next.status == 204)
        upload.close(reset: true)
    }

    /// The head deadline of a keep-alive connection starts after the idle allowance: a client that
    /// waits 3 s between requests (header timeout 1 s, idle timeout 30 s) is not cut off.
    @Test func idleKeepAliveIsGovernedByTheIdleTimeoutNotTheHeaderTimeout() throws {
        let server = try TestServer(
            configure: {
                $0.connectionTimeout = 30
                $0.headerTimeout = 1
            },
            files: ["a.txt": Array("hello".utf8)])
        let connection = try HTTPConnection(port: server.port, timeoutSeconds: 5)
        #expect(try connection.send("GET", "/files/a.txt").status == 200)
        usleep(3_000_000)
        #expect(try connection.send("GET", "/files/a.txt").status == 200)
        #expect(try cutOff(server) == 0)
    }

    private func cutOff(_ server: TestServer) throws -> Int {
        let metrics = try server.request("GET", "/metrics").text
        let line = metrics.split(separator: "\n").first { $0.hasPrefix("mmapd_connections_cut_off_total ") }
        return line.flatMap { Int($0.split(separator: " ").last ?? "") } ?? -1
    }

    // MARK: Connection limits

    /// `--max-connections-per-ip 4`: four keep-alive connections from 127.0.0.1 are served; a
    /// fifth is accepted and closed at once, without an answer, while they stay open; the four
    /// keep working; once one closes, a new connection is served again.
    @Test func perIPLimitHolds() throws {
        let server = try TestServer(
            configure: {
                $0.maxConnectionsPerIP = 4
                $0.maxConnections = 100
            },
            files: ["a.txt": Array("hello".utf8)])
        var open = try openServed(4, on: server)
        let extra = try RawSocket(port: server.port, timeoutSeconds: 5)
        _ = extra.send("GET /files/a.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        let answer = extra.receive(atLeast: 1)
        #expect(answer.isEmpty, "connection 5 got an answer: \(String(decoding: answer.prefix(40), as: UTF8.self))")
        #expect(extra.isClosedByPeer(), "connection 5 was not closed by the server")
        extra.close(reset: false)
        try expectStillServed(open)
        open.removeFirst()
        // The server notices the close asynchronously: poll (bounded) for the freed place.
        let freed = eventually(within: 5) {
            (try? HTTPConnection(port: server.port, timeoutSeconds: 2).send("GET", "/files/a.txt"))?.status == 200
        }
        #expect(freed, "no connection was accepted after one of 4 closed")
        withExtendedLifetime(open) {}
    }

    /// `--max-connections 4` (no per-IP limit), with the default two network threads among which
    /// libmicrohttpd shares the limit: a fifth connection is not served while four are open (it
    /// waits in the listen backlog, unanswered), the four keep working, and once one of them
    /// closes the waiting one is served.
    @Test func totalLimitHolds() throws {
        let server = try TestServer(
            configure: {
                $0.maxConnections = 4
                $0.maxConnectionsPerIP = 0
            },
            files: ["a.txt": Array("hello".utf8)])
        var open = try openServed(4, on: server)
        let extra = try RawSocket(port: server.port, timeoutSeconds: 2)
        _ = extra.send("GET /files/a.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        let early = extra.receive(atLeast: 1)  // 2 s without an answer (or closed: refused)
        #expect(early.isEmpty, "connection 5 was served beyond the limit: \(String(decoding: early.prefix(40), as: UTF8.self))")
        try expectStillServed(open)
        open.removeFirst()
        let late = RawSocketReader(extra).response(within: 5)
        #expect(
            late.hasPrefix("HTTP/1.1 200") || late.isEmpty,
            "connection 5 after a place freed: \(late.prefix(40))")
        if late.isEmpty {
            // Refused rather than queued (a libmicrohttpd worker at its share accepts and closes):
            // a new connection must be served now.
            #expect((try? HTTPConnection(port: server.port, timeoutSeconds: 5).send("GET", "/files/a.txt"))?.status == 200)
        }
        print(
            "limits: with 4 of --max-connections 4 open, a 5th connection was \(late.isEmpty ? "refused" : "queued, then served when one closed")"
        )
        extra.close(reset: false)
        withExtendedLifetime(open) {}
    }

    // MARK: Client-controlled sizes

    /// `--max-header-bytes` bounds the request line and headers: within it a request is served,
    /// beyond it the head is refused with 431 (headers) or 414 (request line) and the server goes
    /// on serving. libmicrohttpd keeps its own answers for these, outside problem+json (documented
    /// in docs/SECURITY.md).
    @Test(arguments: [8192, 16384])
    func requestHeadsAreBoundedByMaxHeaderBytes(limit: Int) throws {
        let server = try TestServer(configure: { $0.maxHeaderBytes = limit }, files: ["a.txt": Array("hello".utf8)])
        // The pool also holds the answer's own head, so a little less than the limit fits.
        let fits = String(repeating: "a", count: limit - 1024)
        let tooBig = String(repeating: "a", count: limit + 100)
        #expect(try server.request("GET", "/files/a.txt", headers: [("X-Padding", fits)]).status == 200)
        #expect(try server.request("GET", "/files/a.txt", headers: [("X-Padding", tooBig)]).status == 431)
        #expect(try server.request("GET", "/files/a.txt?" + tooBig).status == 414)
        #expect(try server.request("GET", "/files/a.txt").text == "hello")
    }

    /// The request method is client text: 200 requests with 200 invented methods must not make
    /// 200 time series (memory and /metrics output grow with every new label value, unbounded):
    /// the label is the method when mmapd knows it, "other" otherwise.
    @Test func inventedMethodsDoNotGrowTheMetrics() throws {
        let server = try TestServer(files: ["a.txt": Array("hello".utf8)])
        for index in 0..<200 {
            let connection = try RawSocket(port: server.port, timeoutSeconds: 5)
            _ = connection.send("M\(index)XYZ /files/a.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            _ = connection.receive(atLeast: Int.max)
            connection.close(reset: false)
        }
        let metrics = try server.request("GET", "/metrics").text
        let series = metrics.split(separator: "\n").filter { $0.hasPrefix("mmapd_requests_total{") }
        #expect(series.count <= 10, "\(series.count) request series after 200 invented methods")
        #expect(series.contains { $0.contains(#"method="other""#) })
    }

    private func openServed(_ count: Int, on server: TestServer) throws -> [HTTPConnection] {
        var open: [HTTPConnection] = []
        for index in 0..<count {
            let connection = try HTTPConnection(port: server.port, timeoutSeconds: 5)
            let response = try? connection.send("GET", "/files/a.txt")
            #expect(response?.status == 200, "connection \(index + 1) of \(count) was refused")
            open.append(connection)
        }
        return open
    }

    private func expectStillServed(_ open: [HTTPConnection]) throws {
        for (index, connection) in open.enumerated() {
            #expect((try? connection.send("GET", "/files/a.txt"))?.status == 200, "connection \(index + 1) stopped working")
        }
    }
}
