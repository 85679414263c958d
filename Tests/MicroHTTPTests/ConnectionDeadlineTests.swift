import MicroHTTP
import Testing

/// Slow clients are cut off by the deadlines libmicrohttpd's idle timeout does not give.
extension MicroHTTPSuites {
    @Suite struct ConnectionDeadlineTests {
        /// A head that trickles in (a byte now and then resets libmicrohttpd's idle timer) is cut at
        /// the header deadline.
        @Test func anUnfinishedHeadIsCutAtTheHeaderDeadline() throws {
            let server = try startServer(headerTimeoutSeconds: 1) { _ in .respond(text("never")) }
            let connection = try HTTPConnection(port: server.port, timeoutSeconds: 20)
            try connection.sendRaw(Array("GET /slow HTTP/1.1\r\nHost: 127.0.0.1\r\n".utf8))
            let started = ContinuousClock.now
            #expect(try connection.readToEnd().isEmpty)
            #expect(ContinuousClock.now - started < .seconds(15))
            #expect(server.connectionsCutOff == 1)
            server.shutdown(grace: .seconds(1))
        }

        /// A complete request on a connection opened at the same time is answered: the deadline is
        /// per connection.
        @Test func aPromptClientIsUnaffected() throws {
            let server = try startServer(headerTimeoutSeconds: 1) { _ in .respond(text("ok")) }
            let slow = try HTTPConnection(port: server.port, timeoutSeconds: 20)
            try slow.sendRaw(Array("GET /slow HTTP/1.1\r\n".utf8))
            #expect(try HTTPConnection(port: server.port).send("GET", "/prompt").text == "ok")
            #expect(try slow.readToEnd().isEmpty)
            #expect(server.connectionsCutOff == 1)
            server.shutdown(grace: .seconds(1))
        }
    }
}
