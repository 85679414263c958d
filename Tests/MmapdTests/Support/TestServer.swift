import Foundation
import Logging
import Mmapd

/// A live mmapd on an ephemeral port over a fresh temporary root, one per test so tests run in
/// parallel without sharing state. Stopped (gracefully) when the test releases it.
final class TestServer: @unchecked Sendable {
    let root: URL
    let service: MmapdService
    var port: UInt16 { service.port }

    init(configure: (inout Settings) -> Void = { _ in }, files: [String: [UInt8]] = [:]) throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("mmapd-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        for (path, bytes) in files { try Self.write(path, bytes, under: root) }
        var settings = Settings()
        settings.port = 0
        settings.root = root.path
        settings.threads = 2
        settings.shutdownGrace = 2
        configure(&settings)
        var logger = Logger(label: "mmapd-test")
        logger.logLevel = .error
        service = try MmapdService(settings: settings, logger: logger)
    }

    deinit {
        service.shutdown()
        try? FileManager.default.removeItem(at: root)
    }

    func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }

    func write(_ relative: String, _ bytes: [UInt8]) throws {
        try Self.write(relative, bytes, under: root)
    }

    private static func write(_ relative: String, _ bytes: [UInt8], under root: URL) throws {
        let url = root.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(bytes).write(to: url)
    }

    func read(_ relative: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: root.appendingPathComponent(relative)))
    }

    /// One request on a new connection.
    func request(_ method: String = "GET", _ target: String, headers: [(String, String)] = [], body: [UInt8] = []) throws -> HTTPResponse {
        let connection = try HTTPConnection(port: port)
        return try connection.send(method, target, headers: headers, body: body)
    }

    var baseURL: String { "http://127.0.0.1:\(port)" }
}

/// Deterministic pseudo-random bytes, so a failing case can be reproduced from its seed.
func pseudoRandomBytes(count: Int, seed: UInt64) -> [UInt8] {
    var state = seed &+ 0x9E37_79B9_7F4A_7C15
    var bytes = [UInt8](repeating: 0, count: count)
    for index in 0..<count {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        bytes[index] = UInt8(truncatingIfNeeded: state >> 33)
    }
    return bytes
}
