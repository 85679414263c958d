import Foundation
import Glibc
import Mmapd
import Testing

/// Duplicate names in the process environment (issue 16, item 10): `Dictionary(uniqueKeysWithValues:)`
/// trapped at start on an environment holding a name twice. The first entry wins, as with glibc's
/// getenv.
@Suite struct EnvironmentTests {
    @Test(
        "first entry wins, like getenv",
        arguments: [
            (["A=1", "A=2"], ["A": "1"]),
            (["A=1", "B=x", "A=2", "B=y"], ["A": "1", "B": "x"]),
            (["A=", "A=2"], ["A": ""]),
            (["A=b=c"], ["A": "b=c"]),
            (["NOEQUALS", "=v", "C=3"], ["": "v", "C": "3"]),
            ([], [:])
        ] as [([String], [String: String])])
    func firstWins(entries: [String], expected: [String: String]) {
        #expect(ProcessEnvironment.variables(entries) == expected)
    }

    /// glibc's own answer for the same environment, so the rule above is checked against getenv
    /// rather than against our reading of its source.
    @Test func getenvAgrees() throws {
        // (A shell would not do: dash builds its own table, in which the last one wins.)
        let program =
            "import ctypes; g = ctypes.CDLL(None).getenv; g.restype = ctypes.c_char_p; print(g(b'MMAPD_DUPLICATE').decode(), end='')"
        let result = try Self.spawn("/usr/bin/python3", ["-c", program], environment: ["MMAPD_DUPLICATE=first", "MMAPD_DUPLICATE=second"])
        #expect(result.status == 0)
        #expect(result.output == "first")
    }

    /// The real binary, started through execve with MMAPD_ROOT twice: it starts (no trap), and
    /// serves the first root; in the other order the first, missing root is what it refuses.
    @Test func theServerStartsWithANameTwiceAndUsesTheFirst() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("mmapd-env-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        try Data("first root\n".utf8).write(to: root.appendingPathComponent("which.txt"))
        let missing = root.path + "-missing"

        let started = try Self.spawn(
            mmapdExecutable, ["--port", "0", "--log-level", "error"],
            environment: ["MMAPD_ROOT=\(root.path)", "MMAPD_ROOT=\(missing)"], stopAfterFirstLine: true)
        let port = try #require(
            started.output.split(separator: ":").last.flatMap { UInt16($0.trimmingCharacters(in: .whitespacesAndNewlines)) },
            "no startup line: \(started.output)")
        let answer = try HTTPConnection(port: port).send("GET", "/files/which.txt")
        #expect(answer.text == "first root\n")
        started.stop()

        let refused = try Self.spawn(mmapdExecutable, ["--port", "0"], environment: ["MMAPD_ROOT=\(missing)", "MMAPD_ROOT=\(root.path)"])
        #expect(refused.status == 2, "\(refused.output)")
    }

    struct Spawned {
        let pid: pid_t
        let output: String
        let status: Int32

        /// SIGTERM, then reaps the process.
        func stop() {
            kill(pid, SIGTERM)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
    }

    /// posix_spawn with exactly `environment` as the new program's environ (Foundation's Process
    /// takes a dictionary, which cannot hold a name twice). Standard output and error go to one
    /// pipe. With `stopAfterFirstLine`, returns once the first line arrived, the process still
    /// running; otherwise waits for the exit.
    static func spawn(_ path: String, _ arguments: [String], environment: [String], stopAfterFirstLine: Bool = false) throws -> Spawned {
        var pipeEnds: [Int32] = [0, 0]
        guard pipe(&pipeEnds) == 0 else { throw HTTPTestError(description: "pipe: \(errno)") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, pipeEnds[1], STDOUT_FILENO)
        posix_spawn_file_actions_adddup2(&actions, pipeEnds[1], STDERR_FILENO)
        posix_spawn_file_actions_addclose(&actions, pipeEnds[0])
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup($0) } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, path, &actions, nil, argv, envp)
        close(pipeEnds[1])
        guard spawned == 0 else {
            close(pipeEnds[0])
            throw HTTPTestError(description: "posix_spawn \(path): \(spawned)")
        }
        defer { close(pipeEnds[0]) }
        var output: [UInt8] = []
        var byte: UInt8 = 0
        while read(pipeEnds[0], &byte, 1) == 1 {
            output.append(byte)
            if stopAfterFirstLine, byte == UInt8(ascii: "\n") { break }
        }
        var status: Int32 = 0
        if !stopAfterFirstLine {
            waitpid(pid, &status, 0)
            status = (status >> 8) & 0xFF
        }
        return Spawned(pid: pid, output: String(decoding: output, as: UTF8.self), status: status)
    }
}
