import Dispatch
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
            let body = StreamingBody(capacity: 4096, stallTimeout: .milliseconds(300))
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
}
}
