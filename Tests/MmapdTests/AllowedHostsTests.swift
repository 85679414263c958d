import Foundation
import Testing

@testable import Mmapd

/// `--allowed-hosts`: DNS rebinding defence for a server on loopback.
@Suite struct AllowedHostsTests {
    @Test func onlyListedHostsReachFilesAndSearch() throws {
        let server = try TestServer(
            configure: { $0.allowedHosts = ["localhost", "127.0.0.1"] },
            files: ["a.txt": Array("hello".utf8)])
        for host in ["127.0.0.1:\(server.port)", "LOCALHOST", "localhost:1"] {
            #expect(try raw(server, "GET /files/a.txt HTTP/1.1\r\nHost: \(host)\r\n").hasPrefix("HTTP/1.1 200"), "\(host)")
        }
        for target in ["/files/a.txt", "/search/a.txt?q=h", "/files/"] {
            let answer = try raw(server, "GET \(target) HTTP/1.1\r\nHost: rebound.example:\(server.port)\r\n")
            #expect(answer.hasPrefix("HTTP/1.1 421"), "\(target): \(answer.prefix(60))")
            #expect(answer.contains("application/problem+json"))
            #expect(!answer.contains("hello"))
        }
        // No Host at all (HTTP/1.0): not a listed name either.
        #expect(try raw(server, "GET /files/a.txt HTTP/1.0\r\n").hasPrefix("HTTP/1.1 421"))
        // Probes by address stay answered.
        #expect(try raw(server, "GET /healthz HTTP/1.1\r\nHost: 10.1.2.3:8080\r\n").hasPrefix("HTTP/1.1 200"))
        // curl, as a user runs it.
        let curl = try run("/usr/bin/curl", ["-s", "http://127.0.0.1:\(server.port)/files/a.txt"])
        #expect(curl.stdoutText == "hello")
    }

    @Test func byDefaultAnyHostIsServed() throws {
        let server = try TestServer(files: ["a.txt": Array("hello".utf8)])
        #expect(try raw(server, "GET /files/a.txt HTTP/1.1\r\nHost: anything.example\r\n").hasPrefix("HTTP/1.1 200"))
    }

    private func raw(_ server: TestServer, _ head: String) throws -> String {
        let socket = try RawSocket(port: server.port, timeoutSeconds: 5)
        socket.send(Array((head + "Connection: close\r\n\r\n").utf8))
        return String(decoding: socket.receive(atLeast: Int.max), as: UTF8.self)
    }
}
