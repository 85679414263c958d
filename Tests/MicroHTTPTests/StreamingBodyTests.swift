import Dispatch
import Glibc
import MicroHTTP
import Synchronization
import Testing

/// A body produced while it is sent: every byte arrives in order through a pipe far smaller
/// than the body (the reader suspends on an empty pipe, the producer blocks on a full one), and
/// a client that leaves stops the producer.
extension MicroHTTPSuites {
    @Suite struct StreamingBodyTests {
        static func line(_ number: Int) -> [UInt8] { Array("line \(number) of the stream, padded to be long enough\n".utf8) }

        @Test(arguments: [64, 1024, 64 * 1024])
        func everyByteArrivesInOrder(capacity: Int) throws {
            let count = 2_000
            let server = try startServer { _ in
                let body = StreamingBody(capacity: capacity)
                onOwnThread {
                    for number in 0..<count { guard body.write(Self.line(number)) else { return } }
                    body.finish()
                }
                return .respond(Response(status: 200, headers: [("Content-Type", "text/plain")], body: .stream(body)))
            }
            let response = try HTTPConnection(port: server.port).send("GET", "/stream")
            #expect(response.status == 200)
            #expect(response.header("Transfer-Encoding")?.lowercased() == "chunked")
            #expect(response.body == (0..<count).flatMap(Self.line))
            server.shutdown(grace: .seconds(1))
        }

        /// The client reads a little and goes away: the producer's next writes return false and
        /// `onCancel` runs, so the work behind the stream can stop.
        @Test func aDepartedClientStopsTheProducer() throws {
            let cancelled = DispatchSemaphore(value: 0)
            let stopped = DispatchSemaphore(value: 0)
            let written = Atomic<Int>(0)
            let server = try startServer { _ in
                let body = StreamingBody(capacity: 4096, onCancel: { cancelled.signal() })
                onOwnThread {
                    while body.write(Self.line(0)) { written.add(1, ordering: .relaxed) }
                    stopped.signal()
                }
                return .respond(Response(status: 200, body: .stream(body)))
            }
            do {
                let connection = try HTTPConnection(port: server.port)
                try connection.sendRaw(Array("GET /endless HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8))
                #expect(try !connection.readSome().isEmpty)
            }  // closed here
            #expect(cancelled.arrived())
            #expect(stopped.arrived())
            let count = written.load(ordering: .relaxed)
            #expect(count > 0)
            server.shutdown(grace: .seconds(1))
        }

        /// A reader that takes nothing for the stall timeout has its stream cut: the producer gets
        /// false instead of waiting forever, and `wasCut` says why.
        @Test func aStalledReaderIsCut() throws {
            let stopped = DispatchSemaphore(value: 0)
            let cut = Atomic<Bool>(false)
            let server = try startServer { _ in
                let body = StreamingBody(capacity: 4096, pace: ReaderPace(stallTimeout: .milliseconds(300), minimumRate: 1))
                onOwnThread {
                    let chunk = [UInt8](repeating: 0x61, count: 64 * 1024)
                    while body.write(chunk) {}
                    cut.store(body.wasCut, ordering: .relaxed)
                    stopped.signal()
                }
                return .respond(Response(status: 200, body: .stream(body)))
            }
            // A small receive window and no reads: the socket buffers fill, then the pipe.
            let connection = try HTTPConnection(port: server.port, receiveBuffer: 4096)
            try connection.sendRaw(Array("GET /stalled HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8))
            #expect(stopped.arrived())
            let wasCut = cut.load(ordering: .relaxed)
            #expect(wasCut)
            withExtendedLifetime(connection) {}
            server.shutdown(grace: .seconds(1))
        }

        /// A reader that takes up to 64 KiB every 20 ms (at most ~3 MB/s) keeps libmicrohttpd
        /// pulling from the pipe in every window, so a rule that only cuts a reader that takes
        /// nothing never cuts it, and it held the producer for as long as it liked. Against a pace of
        /// 8 MiB/s it is cut: the producer stops while the reader is still reading (what the kernel
        /// had queued keeps arriving after the cut, so the end of the stream is no signal). A reader
        /// that takes everything as fast as it comes gets the whole body at the same pace.
        @Test(arguments: [false, true])
        func aReaderBelowThePaceIsCut(keepsUp: Bool) throws {
            let chunk = [UInt8](repeating: 0x61, count: 64 * 1024)
            let total = keepsUp ? 256 : 4096  // chunks: 16 MiB read at once, or 256 MiB at a trickle
            let cut = Atomic<Bool>(false)
            let stopped = DispatchSemaphore(value: 0)
            let server = try startServer { _ in
                let body = StreamingBody(capacity: 4096, pace: ReaderPace(stallTimeout: .seconds(1), minimumRate: 8 << 20))
                onOwnThread {
                    var sent = 0
                    while sent < total, body.write(chunk) { sent += 1 }
                    cut.store(body.wasCut, ordering: .relaxed)
                    body.finish()
                    stopped.signal()
                }
                return .respond(Response(status: 200, body: .stream(body)))
            }
            if keepsUp {
                let response = try HTTPConnection(port: server.port).send("GET", "/whole")
                #expect(response.body.count == total * chunk.count)
                #expect(stopped.arrived())
            } else {
                let connection = try HTTPConnection(port: server.port, receiveBuffer: 64 << 10)
                try connection.sendRaw(Array("GET /trickle HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8))
                var producerStopped = false
                let deadline = ContinuousClock.now + .seconds(10)
                while !producerStopped, ContinuousClock.now < deadline {
                    #expect(try !connection.readSome().isEmpty, "the stream ended before the producer stopped")
                    usleep(20_000)  // the reader's pace, not a synchronisation
                    producerStopped = stopped.wait(timeout: .now()) == .success
                }
                #expect(producerStopped, "the producer still wrote for the trickling reader after 10 s")
                withExtendedLifetime(connection) {}
            }
            #expect(cut.load(ordering: .relaxed) == !keepsUp)
            server.shutdown(grace: .seconds(1))
        }
    }
}
