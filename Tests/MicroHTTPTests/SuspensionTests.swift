import Dispatch
import MicroHTTP
import Synchronization
import Testing

/// Deferred work runs with its connection suspended: the network thread is free meanwhile, and
/// shutdown ends a suspended connection instead of aborting on it.
extension MicroHTTPSuites {
    @Suite struct SuspensionTests {
        /// One network thread: a request answered while another's work is still running proves the
        /// waiting connection holds no thread.
        @Test func deferredWorkLeavesTheOnlyNetworkThreadFree() throws {
            let started = DispatchSemaphore(value: 0)
            let gate = DispatchSemaphore(value: 0)
            let server = try startServer(threads: 1) { request in
                guard request.target == "/slow" else { return .respond(text("fast")) }
                return .deferred {
                    started.signal()
                    gate.wait()
                    return text("slow")
                }
            }
            let port = server.port
            // The blocking client runs on a dispatch thread, not in a Task: with the suites run in
            // parallel (and slowed by ASan) blocked tests can hold every cooperative thread, and
            // the Task did not start within the 30 s allowed.
            let slowText = Mutex<String?>(nil)
            let slowDone = DispatchSemaphore(value: 0)
            DispatchQueue.global().async {
                let text = try? HTTPConnection(port: port).send("GET", "/slow").text
                slowText.withLock { $0 = text }
                slowDone.signal()
            }
            #expect(started.arrived())
            #expect(try HTTPConnection(port: port).send("GET", "/fast").text == "fast")
            gate.signal()
            #expect(slowDone.arrived())
            #expect(slowText.withLock { $0 } == "slow")
            server.shutdown(grace: .seconds(1))
        }

        /// The answer of deferred work resumes the connection, which then serves the next request
        /// (keep-alive survives the suspension).
        @Test func aResumedConnectionKeepsServing() throws {
            let server = try startServer { request in
                request.target == "/deferred" ? .deferred { text("later") } : .respond(text("now"))
            }
            let connection = try HTTPConnection(port: server.port)
            for _ in 0..<3 {
                #expect(try connection.send("GET", "/deferred").text == "later")
                #expect(try connection.send("GET", "/plain").text == "now")
            }
            server.shutdown(grace: .seconds(1))
        }

        /// libmicrohttpd aborts the process when stopped with a connection still suspended; the
        /// server cancels every suspension first, and the work's late answer touches nothing.
        @Test func shutdownEndsASuspendedConnection() throws {
            let started = DispatchSemaphore(value: 0)
            let gate = DispatchSemaphore(value: 0)
            let finished = DispatchSemaphore(value: 0)
            let server = try startServer { _ in
                .deferred {
                    started.signal()
                    gate.wait()
                    defer { finished.signal() }
                    return text("too late")
                }
            }
            let connection = try HTTPConnection(port: server.port, timeoutSeconds: 10)
            try connection.sendRaw(Array("GET /x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8))
            #expect(started.arrived())
            server.shutdown(grace: .zero)
            #expect(try connection.readToEnd().isEmpty)  // closed without an answer
            gate.signal()
            #expect(finished.arrived())
            #expect(server.requestsInFlight == 0)
        }
    }
}
