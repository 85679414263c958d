import Foundation
import Glibc
import Mmapd
import Testing

/// Message framing on a live server (issue 16, item 2): a request that carries both
/// Content-Length and Transfer-Encoding, a transfer coding that does not end in chunked, or
/// disagreeing lengths is refused with problem+json before any handler or libmicrohttpd's own
/// body reader sees it, changes nothing, and its connection is closed (RFC 9112 §6.3).
@Suite struct PatchFramingTests {
    static let original = pseudoRandomBytes(count: 20, seed: 0xF4A3)

    static func server() throws -> TestServer {
        try TestServer(configure: { $0.writable = true }, files: ["a.bin": original])
    }

    /// Sends `head` alone (the server must answer from the head: it must not read a body it
    /// cannot frame) and returns the answer and whether the server closed the connection after it.
    static func exchange(_ server: TestServer, _ head: String, hasBody: Bool = true) throws -> (HTTPResponse, closed: Bool) {
        let connection = try HTTPConnection(port: server.port, timeoutSeconds: 10)
        try connection.sendRaw(Array(head.utf8))
        let response = try connection.readResponse(hasBody: hasBody)
        return (response, connection.isClosedByServer())
    }

    static func patchHead(_ fields: [String]) -> String {
        (["PATCH /files/a.bin HTTP/1.1", "Host: 127.0.0.1", "Content-Range: bytes 20-29/*"] + fields).joined(separator: "\r\n") + "\r\n\r\n"
    }

    @Test(
        "Content-Length with any Transfer-Encoding: 400, nothing written, closed",
        arguments: ["chunked", "identity", "gzip, chunked", "Chunked", "chunked, identity"])
    func bothFieldsAreRefused(coding: String) throws {
        let server = try Self.server()
        let before = try FileSnapshot(server.path("a.bin"))
        let (response, closed) = try Self.exchange(server, Self.patchHead(["Content-Length: 10", "Transfer-Encoding: \(coding)"]))
        #expect(response.status == 400, "\(response.text)")
        #expect(response.header("Content-Type") == "application/problem+json")
        #expect(response.text.contains("both Content-Length and Transfer-Encoding"))
        #expect(closed)
        #expect(try FileSnapshot(server.path("a.bin")) == before)
    }

    /// The order of the two fields, and a field repeated on its own line, change nothing.
    @Test func bothFieldsInEitherOrderOrRepeatedAreRefused() throws {
        let server = try Self.server()
        let before = try FileSnapshot(server.path("a.bin"))
        for fields in [
            ["Transfer-Encoding: chunked", "Content-Length: 10"],
            ["Content-Length: 10", "Content-Length: 10", "Transfer-Encoding: identity"],
            ["Transfer-Encoding: chunked", "Transfer-Encoding: chunked"],
            ["Transfer-Encoding: chunked", "Transfer-Encoding: gzip"],
            ["Content-Length: 10", "Content-Length: 11"]
        ] {
            let (response, closed) = try Self.exchange(server, Self.patchHead(fields))
            #expect(response.status == 400, "\(fields): \(response.text)")
            #expect(closed, "\(fields)")
        }
        #expect(try FileSnapshot(server.path("a.bin")) == before)
    }

    @Test func aCodingOtherThanChunkedIsRefused() throws {
        let server = try Self.server()
        let before = try FileSnapshot(server.path("a.bin"))
        let (identity, identityClosed) = try Self.exchange(server, Self.patchHead(["Transfer-Encoding: identity"]))
        #expect(identity.status == 400)
        #expect(identityClosed)
        let (gzip, gzipClosed) = try Self.exchange(server, Self.patchHead(["Transfer-Encoding: gzip, chunked"]))
        #expect(gzip.status == 501)
        #expect(gzip.header("Content-Type") == "application/problem+json")
        #expect(gzipClosed)
        #expect(try FileSnapshot(server.path("a.bin")) == before)
    }

    /// Not only PATCH: a GET with both fields was drained by its Content-Length while
    /// libmicrohttpd read the body until the client closed, and nobody answered.
    @Test func everyMethodIsRefused() throws {
        let server = try Self.server()
        for method in ["GET", "HEAD", "OPTIONS", "DELETE"] {
            let (response, closed) = try Self.exchange(
                server, "\(method) /files/a.bin HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\nTransfer-Encoding: identity\r\n\r\n",
                hasBody: method != "HEAD")
            #expect(response.status == 400, "\(method)")
            #expect(closed, "\(method)")
        }
    }

    /// The same PATCH, framed one way only, still works: chunked alone, and equal repeated lengths.
    @Test func aBodyFramedOneWayIsWritten() throws {
        let server = try Self.server()
        let connection = try HTTPConnection(port: server.port)
        let chunkedBody = chunked(Array("0123456789".utf8), chunkSize: 3)
        try connection.sendRaw(Array(Self.patchHead(["Transfer-Encoding: chunked"]).utf8) + chunkedBody)
        #expect(try connection.readResponse().status == 204)
        try connection.sendRaw(
            Array(
                "PATCH /files/a.bin HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Range: bytes 30-31/*\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nab"
                    .utf8))
        #expect(try connection.readResponse().status == 204)
        #expect(try server.read("a.bin") == Self.original + Array("0123456789ab".utf8))
    }
}
