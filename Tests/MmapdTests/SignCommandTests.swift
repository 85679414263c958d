import Foundation
import Glibc
import Testing

/// `mmapd sign`: the subcommand of the server's own executable, reading the same configuration
/// sources, whose link a server with the same key accepts.
@Suite struct SignCommandTests {
    static let key = Array("sign-command-key-0123456789abcdef0123456789".utf8)
    static var cleanEnvironment: [String: String] { ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("MMAPD_") } }

    static func sign(_ arguments: [String], environment: [String: String] = [:]) throws -> ProcessResult {
        try run(mmapdExecutable, ["sign"] + arguments, environment: cleanEnvironment.merging(environment) { $1 })
    }

    @Test func printsALinkThatTheServerAccepts() throws {
        let keyFile = try SignedLinkAccessTests.keyFile(Self.key)
        let root = try LifecycleTests.makeRoot(["other.txt": "no"])
        try FileManager.default.createDirectory(at: root.appendingPathComponent("dir"), withIntermediateDirectories: true)
        try Data("signed".utf8).write(to: root.appendingPathComponent("dir/a b.txt"))
        let before = Int64(time(nil))
        let signed = try Self.sign(["dir/a b.txt", "--expires", "120", "--signing-key-file", keyFile])
        #expect(signed.status == 0, "\(signed.stderr)")
        let link = signed.stdoutText.trimmingCharacters(in: .newlines)
        #expect(link.hasPrefix("/files/dir/a%20b.txt?expires="), "\(link)")
        #expect(link.range(of: #"\?expires=[0-9]+&signature=[0-9a-f]{64}$"#, options: .regularExpression) != nil, "\(link)")
        let expires = Int64(link.split(separator: "=")[1].split(separator: "&")[0])!
        #expect(expires >= before + 120 && expires <= Int64(time(nil)) + 120)

        let (server, port) = try SpawnedServer.started(root: root.path, ["--signing-key-file", keyFile])
        #expect(try HTTPConnection(port: port).send("GET", link).text == "signed")
        #expect(try HTTPConnection(port: port).send("GET", "/files/other.txt?" + link.split(separator: "?")[1]).status == 403)
        #expect(try HTTPConnection(port: port).send("GET", "/files/other.txt").status == 401)
        server.stop()
    }

    @Test func readsTheKeyFromTheEnvironmentAndTheConfigFile() throws {
        let keyFile = try SignedLinkAccessTests.keyFile(Self.key)
        let fromFlag = try Self.sign(["dir/", "--signing-key-file", keyFile]).stdoutText
        let fromEnvironment = try Self.sign(["dir/"], environment: ["MMAPD_SIGNING_KEY_FILE": keyFile])
        #expect(fromEnvironment.status == 0, "\(fromEnvironment.stderr)")
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("mmapd-sign-\(UUID().uuidString).json")
        try Data(#"{"signingKeyFile": "\#(keyFile)"}"#.utf8).write(to: config)
        let fromConfig = try Self.sign(["dir/", "--config", config.path])
        #expect(fromConfig.status == 0, "\(fromConfig.stderr)")
        // Same key, same path: the same link unless a second ticked between the runs.
        for other in [fromEnvironment.stdoutText, fromConfig.stdoutText] {
            #expect(other.hasPrefix("/files/dir/?expires=") && fromFlag.hasPrefix("/files/dir/?expires="))
        }
        let fromEnvironmentConfig = try Self.sign(["dir/"], environment: ["MMAPD_CONFIG": config.path])
        #expect(fromEnvironmentConfig.status == 0)
    }

    @Test(arguments: [
        (["x.txt"], "signingKeyFile"),
        (["../x", "--signing-key-file", "KEY"], "cannot sign"),
        (["x", "--expires", "0", "--signing-key-file", "KEY"], "--expires"),
        (["x", "--signing-key-file", "/nonexistent/key"], "signingKeyFile"),
        (["x", "--no-such-option", "1", "--signing-key-file", "KEY"], "unknown option")
    ])
    func refusalsAreOneLine(arguments: [String], mentions: String) throws {
        let keyFile = try SignedLinkAccessTests.keyFile(Self.key)
        let result = try Self.sign(arguments.map { $0 == "KEY" ? keyFile : $0 })
        #expect(result.status != 0)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.contains(mentions), "\(result.stderr)")
        #expect(result.stderr.filter { $0 == "\n" }.count == 1, "\(result.stderr)")
    }
}
