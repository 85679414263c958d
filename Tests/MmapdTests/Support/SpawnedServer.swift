import Foundation
import Glibc
import Testing

/// The real `mmapd` executable as a child process: for what only a process shows (the startup
/// line, exit codes, signals, environment variables).
final class SpawnedServer {
    let process = Process()
    private let output = Pipe()
    private let errors = Pipe()
    /// The first line the server printed on standard output.
    private(set) var startupLine = ""

    init(arguments: [String], environment: [String: String] = [:]) throws {
        process.executableURL = URL(fileURLWithPath: mmapdExecutable)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("MMAPD_") }
        env.merge(environment) { $1 }
        process.environment = env
        process.standardOutput = output
        process.standardError = errors
        try process.run()
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    /// A server over `root` that has printed its startup line, with its port: for tests that
    /// measure one mmapd process (memory, descriptors) apart from this busy test process. Stop it
    /// with `stop()`.
    static func started(root: String, _ arguments: [String]) throws -> (server: SpawnedServer, port: UInt16) {
        let server = try SpawnedServer(arguments: ["--port", "0", "--root", root, "--log-level", "warning"] + arguments)
        _ = server.waitForStartup()
        return (server, try #require(server.port))
    }

    /// SIGTERM, then waits for the exit.
    func stop() {
        signal(SIGTERM)
        _ = waitForExit()
    }

    /// Reads the startup line (blocks until the server prints it or exits).
    func waitForStartup() -> String {
        var line: [UInt8] = []
        let handle = output.fileHandleForReading
        while true {
            let byte = handle.readData(ofLength: 1)
            guard let first = byte.first, first != UInt8(ascii: "\n") else { break }
            line.append(first)
        }
        startupLine = String(decoding: line, as: UTF8.self)
        return startupLine
    }

    /// The port parsed from the startup line.
    var port: UInt16? {
        startupLine.split(separator: ":").last.flatMap { UInt16($0) }
    }

    func signal(_ signal: Int32) { kill(process.processIdentifier, signal) }

    /// Waits for exit; returns the status and everything written to standard error.
    func waitForExit() -> (status: Int32, stderr: String) {
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }
}
