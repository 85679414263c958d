import Foundation
import Glibc
import Synchronization
import Testing

/// Helpers for the fault battery: a spawned mmapd over a scratch root, the process's descriptors
/// and mappings as /proc shows them, abrupt client disconnects, and a thread-safe tally.

/// A scratch root with the real `mmapd` serving it, so that a crash is a failed expectation
/// (the process is gone, with its signal) instead of the death of the test runner.
final class FaultServer: @unchecked Sendable {
    let root: String
    private(set) var server: SpawnedServer
    private(set) var port: UInt16
    let arguments: [String]

    init(files: [String: [UInt8]], arguments: [String] = []) throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("mmapd-fault-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        for (name, bytes) in files {
            try Data(bytes).write(to: URL(fileURLWithPath: "\(root)/\(name)"))
        }
        self.arguments = ["--port", "0", "--root", root, "--log-level", "error"] + arguments
        (server, port) = try Self.start(arguments: self.arguments)
    }

    deinit {
        if server.process.isRunning {
            server.signal(SIGTERM)
            _ = server.waitForExit()
        }
        try? FileManager.default.removeItem(atPath: root)
    }

    private static func start(arguments: [String]) throws -> (SpawnedServer, UInt16) {
        let server = try SpawnedServer(arguments: arguments)
        let line = server.waitForStartup()
        guard let port = server.port else { throw HTTPTestError(description: "mmapd did not start: '\(line)'") }
        return (server, port)
    }

    var pid: Int32 { server.process.processIdentifier }

    /// SIGKILL, then a new process on the same root and arguments (a new port).
    func killAndRestart() throws {
        if server.process.isRunning { server.signal(SIGKILL) }
        server.process.waitUntilExit()
        (server, port) = try Self.start(arguments: arguments)
    }

    /// Why the server is gone, or nil while it runs.
    var death: String? {
        guard !server.process.isRunning else { return nil }
        let status = server.process.terminationStatus
        let how = server.process.terminationReason == .uncaughtSignal ? "killed by signal \(status)" : "exited with \(status)"
        let stderr = server.waitForExit().stderr.split(separator: "\n").suffix(5).joined(separator: " / ")
        return "mmapd \(how): \(stderr)"
    }

    func path(_ name: String) -> String { "\(root)/\(name)" }

    func connect(timeoutSeconds: Int = 30) throws -> HTTPConnection {
        try HTTPConnection(port: port, timeoutSeconds: timeoutSeconds)
    }

    func request(_ method: String = "GET", _ target: String, headers: [(String, String)] = [], body: [UInt8] = []) throws -> HTTPResponse {
        try connect().send(method, target, headers: headers, body: body)
    }

    /// Open descriptors of the server process that the server opened.
    func descriptorCount() throws -> Int {
        _ = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")  // throws if the process is gone
        return descriptorTargets().count
    }

    /// What each open descriptor is (`socket:[…]`, a path, `anon_inode:[eventfd]`…), to tell a
    /// failure what was left open.
    ///
    /// Pipes to a child process are left out: mmapd starts none, but a sanitizer build starts
    /// llvm-symbolizer the first time it symbolizes a stack (a suppressed ThreadSanitizer report
    /// does) and keeps two pipes to it for the rest of the run. Those are the runtime's; counted,
    /// they looked like two descriptors leaked by whatever test was running at that moment.
    func descriptorTargets() -> [String] {
        let directory = "/proc/\(pid)/fd"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        let runtimePipes = pipesOfChildren()
        return names.sorted { (Int($0) ?? 0) < (Int($1) ?? 0) }.compactMap { name in
            let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: directory + "/" + name)) ?? "?"
            return runtimePipes.contains(target) ? nil : "\(name)→\(target)"
        }
    }

    /// The pipes the server's child processes hold (`pipe:[inode]`, the same text at both ends).
    private func pipesOfChildren() -> Set<String> {
        var pipes = Set<String>()
        for task in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? [] {
            let children = (try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/children", encoding: .utf8)) ?? ""
            for child in children.split(separator: " ") {
                let directory = "/proc/\(child)/fd"
                for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] {
                    if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "\(directory)/\(name)"),
                        target.hasPrefix("pipe:")
                    {
                        pipes.insert(target)
                    }
                }
            }
        }
        return pipes
    }

    /// The server's mappings of files under the root, one line per VMA (`(deleted)` marks a file
    /// that was replaced or removed while still mapped).
    func rootMappings() throws -> [String] {
        let maps = try String(contentsOfFile: "/proc/\(pid)/maps", encoding: .utf8)
        return maps.split(separator: "\n").filter { $0.contains(root) }.map(String.init)
    }
}

extension HTTPConnection {
    /// Sends a request head (and optionally the first bytes of a body) without reading anything.
    func sendHead(_ method: String, _ target: String, headers: [(String, String)] = [], body: [UInt8] = []) throws {
        var head = "\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        try sendRaw(Array((head + "\r\n").utf8) + body)
    }
}

/// A connection the test drops abruptly: with `reset`, SO_LINGER 0 makes close() send RST instead
/// of FIN, the way a killed client or a middlebox timeout ends a connection.
final class RawSocket {
    let fd: Int32

    init(port: UInt16, receiveBuffer: Int32? = nil, timeoutSeconds: Int = 20) throws {
        fd = try connectToLoopback(port: port, timeoutSeconds: timeoutSeconds, receiveBuffer: receiveBuffer)
    }

    /// Sends all of `bytes`; false if the server closed the connection.
    @discardableResult
    func send(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { return false }
            offset += sent
        }
        return true
    }

    func send(_ text: String) -> Bool { send(Array(text.utf8)) }

    /// Reads until at least `count` bytes arrived (or EOF / error / timeout); returns them.
    func receive(atLeast count: Int) -> [UInt8] {
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while received.count < count {
            let got = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard got > 0 else { break }
            received += chunk[..<got]
        }
        return received
    }

    /// Reads at most `count` bytes in one call.
    func receiveSome(upTo count: Int) -> Int {
        var chunk = [UInt8](repeating: 0, count: count)
        return chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
    }

    /// Whether the peer has closed: a read returns EOF or a reset within the receive timeout.
    func isClosedByPeer() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let got = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if got == 0 { return true }
            if got < 0 { return errno == ECONNRESET || errno == EPIPE }
        }
    }

    /// Whether the connection is open with nothing to read right now (a non-blocking peek).
    func isOpenNow() -> Bool {
        var byte: UInt8 = 0
        let got = recv(fd, &byte, 1, Int32(MSG_DONTWAIT | MSG_PEEK))
        return got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)
    }

    func close(reset: Bool) {
        if reset {
            var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        }
        Glibc.close(fd)
    }
}

/// Counts outcomes by name from many threads; `summary` for failure messages and the report.
final class Tally: Sendable {
    private let counts = Mutex<[String: Int]>([:])

    func add(_ key: String, _ amount: Int = 1) { counts.withLock { $0[key, default: 0] += amount } }

    subscript(key: String) -> Int { counts.withLock { $0[key] ?? 0 } }
    /// Everything counted so far, under every key.
    var total: Int { counts.withLock { $0.values.reduce(0, +) } }

    var summary: String {
        counts.withLock { $0.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ") }
    }
}

/// Whether a file's bytes as served are, byte for byte, either the original or zero: what a
/// reader may see of a file truncated and re-extended (zero-filled) under it.
func isOriginalOrZero(_ body: ArraySlice<UInt8>, original: [UInt8], at offset: Int) -> Bool {
    for (index, byte) in body.enumerated() {
        let position = offset + index
        guard position < original.count else { return false }
        if byte != 0 && byte != original[position] { return false }
    }
    return true
}

/// Deterministic pseudo-random bytes, eight at a time (SplitMix64): megabytes in a debug build
/// without the per-byte cost of `pseudoRandomBytes`.
func fastRandomBytes(count: Int, seed: UInt64) -> [UInt8] {
    var generator = SeededRandom(seed: seed)
    var bytes = [UInt8](repeating: 0, count: count)
    bytes.withUnsafeMutableBytes { buffer in
        var offset = 0
        while offset + 8 <= count {
            buffer.storeBytes(of: generator.next(), toByteOffset: offset, as: UInt64.self)
            offset += 8
        }
        while offset < count {
            buffer[offset] = UInt8(truncatingIfNeeded: generator.next())
            offset += 1
        }
    }
    return bytes
}

/// Reads what a RawSocket receives until a deadline: for a connection that may be answered late.
struct RawSocketReader {
    let socket: RawSocket
    init(_ socket: RawSocket) { self.socket = socket }

    /// The text received within `seconds` (up to the end of the first response head), "" if none.
    func response(within seconds: Double) -> String {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while ContinuousClock.now < deadline, received.firstRange(of: [13, 10, 13, 10]) == nil {
            let got = chunk.withUnsafeMutableBytes { recv(socket.fd, $0.baseAddress, $0.count, 0) }
            if got == 0 { break }
            if got > 0 { received += chunk[..<got] }
        }
        return String(decoding: received, as: UTF8.self)
    }
}
