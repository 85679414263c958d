import Foundation
import Glibc

/// A parsed HTTP/1.1 response.
public struct HTTPResponse: Sendable {
    public let status: Int
    public let headers: [(name: String, value: String)]
    public let body: [UInt8]

    public init(status: Int, headers: [(name: String, value: String)], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    public var text: String { String(decoding: body, as: UTF8.self) }

    /// The body as a JSON object (problem details, listings, search results).
    public var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:]
    }
}

public struct HTTPTestError: Error, CustomStringConvertible {
    public let description: String
    public init(description: String) { self.description = description }
}

/// A raw HTTP/1.1 client over one blocking socket with receive timeouts, so a misbehaving
/// server fails the test instead of hanging it. Raw bytes go out exactly as given: targets like
/// `/files/%2e%2e/x` reach the server unnormalised, which URL-based clients would not allow.
public final class HTTPConnection {
    private let socket: Int32
    private var buffer: [UInt8] = []

    /// `receiveBuffer`: a small SO_RCVBUF, for tests of readers that stall.
    public init(port: UInt16, timeoutSeconds: Int = 30, receiveBuffer: Int32? = nil) throws {
        socket = try connectToLoopback(port: port, timeoutSeconds: timeoutSeconds, receiveBuffer: receiveBuffer)
    }

    deinit { close(socket) }

    public func sendRaw(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { throw HTTPTestError(description: "send failed: errno \(errno)") }
            offset += sent
        }
    }

    public func send(
        _ method: String, _ target: String, headers: [(String, String)] = [], body: [UInt8] = [],
        expectBody: Bool? = nil
    ) throws -> HTTPResponse {
        var head = "\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if !body.isEmpty || method == "PATCH" || method == "POST" || method == "PUT" {
            if !headers.contains(where: { $0.0.lowercased() == "content-length" || $0.0.lowercased() == "transfer-encoding" }) {
                head += "Content-Length: \(body.count)\r\n"
            }
        }
        head += "\r\n"
        try sendRaw(Array(head.utf8) + body)
        return try readResponse(hasBody: expectBody ?? (method != "HEAD"))
    }

    /// Reads one response; `hasBody` false for HEAD, where Content-Length describes a body not sent.
    public func readResponse(hasBody: Bool = true) throws -> HTTPResponse {
        let headEnd = try fill(until: { buffer in buffer.firstRange(of: [13, 10, 13, 10])?.upperBound })
        let head = String(decoding: buffer[..<(headEnd - 4)], as: UTF8.self)
        buffer.removeFirst(headEnd)
        var lines = head.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { throw HTTPTestError(description: "bad status line: \(head)") }
        let headers = lines.compactMap { line -> (String, String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        let response = HTTPResponse(status: status, headers: headers, body: [])
        guard hasBody, status != 204, status != 304, !(100..<200).contains(status) else { return response }
        var body: [UInt8]
        if let length = response.header("Content-Length").flatMap(Int.init) {
            _ = try fill(until: { $0.count >= length ? length : nil })
            body = Array(buffer[..<length])
            buffer.removeFirst(length)
        } else if response.header("Transfer-Encoding")?.lowercased().contains("chunked") == true {
            body = []
            while true {
                let lineEnd = try fill(until: { $0.firstRange(of: [13, 10])?.upperBound })
                let sizeText = String(decoding: buffer[..<(lineEnd - 2)], as: UTF8.self).split(separator: ";")[0]
                buffer.removeFirst(lineEnd)
                guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16) else {
                    throw HTTPTestError(description: "bad chunk size")
                }
                _ = try fill(until: { $0.count >= size + 2 ? size + 2 : nil })
                body += buffer[..<size]
                buffer.removeFirst(size + 2)
                if size == 0 { break }
            }
        } else {
            body = try readToEnd()
        }
        return HTTPResponse(status: status, headers: headers, body: body)
    }

    /// Whatever bytes arrive next (at least one), for tests that must not read a whole body.
    public func readSome() throws -> [UInt8] {
        if buffer.isEmpty { guard try receiveMore() else { return [] } }
        defer { buffer.removeAll() }
        return buffer
    }

    /// Everything until the server closes the connection.
    public func readToEnd() throws -> [UInt8] {
        while try receiveMore() {}
        defer { buffer.removeAll() }
        return buffer
    }

    /// Whether the server has closed the connection (reads until EOF or the timeout).
    public func isClosedByServer() -> Bool {
        (try? readToEnd()) != nil
    }

    private func fill(until done: ([UInt8]) -> Int?) throws -> Int {
        while true {
            if let index = done(buffer) { return index }
            guard try receiveMore() else { throw HTTPTestError(description: "connection closed early after \(buffer.count) bytes") }
        }
    }

    private func receiveMore() throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 256 * 1024)
        let received = chunk.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
        if received < 0 { throw HTTPTestError(description: "recv failed or timed out: errno \(errno)") }
        if received == 0 { return false }
        buffer += chunk[..<received]
        return true
    }
}

/// A TCP socket connected to 127.0.0.1:`port`, reads timing out after `timeoutSeconds`; with
/// `receiveBuffer`, SO_RCVBUF is set before connecting, so the window the server sees is small
/// from the start.
public func connectToLoopback(port: UInt16, timeoutSeconds: Int, receiveBuffer: Int32? = nil) throws -> Int32 {
    let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw HTTPTestError(description: "socket: \(errno)") }
    if var size = receiveBuffer {
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
    }
    var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else {
        let code = errno
        Glibc.close(fd)
        throw HTTPTestError(description: "connect to port \(port): errno \(code)")
    }
    return fd
}
