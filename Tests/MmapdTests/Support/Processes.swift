import Foundation

/// Output of a finished child process.
struct ProcessResult {
    let status: Int32
    let stdout: [UInt8]
    let stderr: String
    var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
}

/// Runs a program to completion (the real `curl`, shell tools) and captures its output.
func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws -> ProcessResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let environment { process.environment = environment }
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    // Read both pipes before waiting, so a chatty child never blocks on a full pipe.
    let errData = LockedData()
    let errReader = DispatchGroup()
    DispatchQueue.global().async(group: errReader) { errData.set(err.fileHandleForReading.readDataToEndOfFile()) }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    errReader.wait()
    return ProcessResult(
        status: process.terminationStatus, stdout: [UInt8](outData), stderr: String(decoding: errData.value, as: UTF8.self))
}

func curl(_ arguments: [String]) throws -> ProcessResult {
    try run("/usr/bin/curl", ["--silent", "--show-error", "--max-time", "60"] + arguments)
}

private final class LockedData: @unchecked Sendable {
    private let lock = NSLock()
    private var data: Data?
    func set(_ value: Data) { lock.withLock { data = value } }
    var value: Data { lock.withLock { data ?? Data() } }
}

/// The `mmapd` executable built next to the test bundle (SwiftPM builds executables for tests).
var mmapdExecutable: String {
    let testBinary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    var directory = testBinary.deletingLastPathComponent()
    while directory.path != "/" {
        let candidate = directory.appendingPathComponent("mmapd")
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate.path }
        directory = directory.deletingLastPathComponent()
    }
    return "mmapd"
}
