import Foundation
import Glibc
import Mmapd
import Testing

/// The executable as an operator meets it: startup line, configuration layers, bad
/// configuration, graceful stop.
@Suite struct LifecycleTests {
    static func makeRoot(_ files: [String: String]) throws -> URL {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("mmapd-life-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        for (name, text) in files { try Data(text.utf8).write(to: root.appendingPathComponent(name)) }
        return root
    }

    @Test func printsTheStartupLineServesAndExitsZeroOnSIGTERM() throws {
        let root = try Self.makeRoot(["a.txt": "alpha"])
        let server = try SpawnedServer(arguments: ["--port", "0", "--root", root.path])
        let line = server.waitForStartup()
        #expect(line.hasPrefix("mmapd listening on http://127.0.0.1:"))
        let port = try #require(server.port)
        #expect(port != 0)
        let response = try HTTPConnection(port: port).send("GET", "/files/a.txt")
        #expect(response.text == "alpha")
        server.signal(SIGTERM)
        #expect(server.waitForExit().status == 0)
    }

    @Test func sigintAlsoStopsCleanly() throws {
        let root = try Self.makeRoot([:])
        let server = try SpawnedServer(arguments: ["--port", "0", "--root", root.path])
        _ = server.waitForStartup()
        server.signal(SIGINT)
        #expect(server.waitForExit().status == 0)
    }

    /// A spawned server over `files` plus a sparse 256 MiB `big.bin`, with a GET of all of it in
    /// flight: the connection read only the head, so the response cannot finish.
    private static func serverWithADownloadInFlight(
        _ files: [String: String], grace: Int
    ) throws -> (server: SpawnedServer, port: UInt16, download: HTTPConnection) {
        let root = try makeRoot(files)
        let big = root.appendingPathComponent("big.bin")
        _ = FileManager.default.createFile(atPath: big.path, contents: nil)
        truncate(big.path, 256 << 20)
        let server = try SpawnedServer(arguments: ["--port", "0", "--root", root.path, "--shutdown-grace", "\(grace)"])
        _ = server.waitForStartup()
        let port = try #require(server.port)
        let download = try HTTPConnection(port: port)
        try download.sendRaw(Array("GET /files/big.bin HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
        _ = try download.readSome()
        return (server, port, download)
    }

    @Test func shutdownWaitsForAnInFlightDownloadAtMostTheGrace() throws {
        let (server, _, download) = try Self.serverWithADownloadInFlight([:], grace: 1)
        let started = ContinuousClock.now
        server.signal(SIGTERM)
        #expect(server.waitForExit().status == 0)
        // Bounded: the grace (1 s) plus start-up slack, never the time to drain 256 MiB to nobody.
        #expect(ContinuousClock.now - started < .seconds(15))
        withExtendedLifetime(download) {}
    }

    /// While shutdown waits for an in-flight download, a new request is answered 503 (problem+json,
    /// `Retry-After`) and its connection closed, rather than served or left hanging.
    @Test func requestsDuringShutdownAreAnswered503() throws {
        let (server, port, download) = try Self.serverWithADownloadInFlight(["a.txt": "alpha"], grace: 5)
        server.signal(SIGTERM)
        // The signal is handled asynchronously: ask until the answer says the server is stopping.
        var refusal: HTTPResponse?
        let refused = eventually(within: 5) {
            guard let response = try? HTTPConnection(port: port, timeoutSeconds: 2).send("GET", "/files/a.txt") else { return false }
            refusal = response
            return response.status == 503
        }
        #expect(refused, "no 503 while shutting down; last answer \(refusal?.status ?? 0)")
        #expect(refusal?.header("Content-Type") == "application/problem+json")
        #expect(refusal?.header("Connection")?.lowercased() == "close")
        #expect(refusal?.header("Retry-After") == "1")
        #expect(server.waitForExit().status == 0)
        withExtendedLifetime(download) {}
    }

    @Test(arguments: [
        (["--port", "70000"], "port"),
        (["--port", "eighty"], "port"),
        (["--root", "/nonexistent/mmapd-root"], "root"),
        (["--config", "/nonexistent/mmapd.json"], "config"),
        (["--bogus-option", "1"], "bogus"),
        (["--max-ranges", "0"], "maxRanges"),
        (["--max-header-bytes", "1024"], "maxHeaderBytes"),
        (["--literal-search-threads", "0"], "literalSearchThreads"),
        (["--log-level", "chatty"], "logLevel")
    ])
    func badConfigurationExitsNonZeroWithOneClearLine(arguments: [String], mentions: String) throws {
        let root = try Self.makeRoot([:])
        var all = ["--port", "0", "--root", root.path]
        all += arguments
        let server = try SpawnedServer(arguments: all)
        let (status, stderr) = server.waitForExit()
        #expect(status != 0)
        let lines = stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(stderr)")
        #expect(stderr.lowercased().contains(mentions.lowercased()), "\(stderr)")
    }

    @Test func malformedConfigFileIsOneClearLine() throws {
        let root = try Self.makeRoot([:])
        let config = root.appendingPathComponent("broken.json")
        try Data("{ not json".utf8).write(to: config)
        let server = try SpawnedServer(arguments: ["--config", config.path, "--port", "0", "--root", root.path])
        let (status, stderr) = server.waitForExit()
        #expect(status != 0)
        #expect(stderr.split(separator: "\n").count == 1)
        #expect(stderr.contains("config"))
    }

    /// flag > environment > file > default, shown by which root gets served.
    @Test func precedenceIsFlagThenEnvironmentThenFileThenDefault() throws {
        let fileRoot = try Self.makeRoot(["which": "file"])
        let envRoot = try Self.makeRoot(["which": "environment"])
        let flagRoot = try Self.makeRoot(["which": "flag"])
        let config = fileRoot.appendingPathComponent("mmapd.json")
        try Data(#"{"root": "\#(fileRoot.path)", "port": 0, "maxRanges": 7}"#.utf8).write(to: config)

        func served(_ arguments: [String], _ environment: [String: String]) throws -> String {
            let server = try SpawnedServer(arguments: ["--config", config.path] + arguments, environment: environment)
            _ = server.waitForStartup()
            let port = try #require(server.port)
            defer {
                server.signal(SIGTERM)
                _ = server.waitForExit()
            }
            return try HTTPConnection(port: port).send("GET", "/files/which").text
        }
        #expect(try served([], [:]) == "file")
        #expect(try served([], ["MMAPD_ROOT": envRoot.path]) == "environment")
        #expect(try served(["--root", flagRoot.path], ["MMAPD_ROOT": envRoot.path]) == "flag")
    }

    @Test func configFileFromTheEnvironment() throws {
        let root = try Self.makeRoot(["x": "from config"])
        let config = root.appendingPathComponent("c.json")
        try Data(#"{"root": "\#(root.path)", "port": 0}"#.utf8).write(to: config)
        let server = try SpawnedServer(arguments: [], environment: ["MMAPD_CONFIG": config.path])
        _ = server.waitForStartup()
        let port = try #require(server.port)
        #expect(try HTTPConnection(port: port).send("GET", "/files/x").text == "from config")
        server.signal(SIGTERM)
        #expect(server.waitForExit().status == 0)
    }

    @Test func helpListsEveryOptionWithItsEnvironmentName() throws {
        let result = try run(mmapdExecutable, ["--help"])
        #expect(result.status == 0)
        for text in ["--port", "MMAPD_PORT", "--max-ranges", "MMAPD_MAX_RANGES", "--writable", "--token"] {
            #expect(result.stdoutText.contains(text), "\(text)")
        }
    }

    @Test func theShippedConfigFileIsValid() throws {
        let shipped = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("config/mmapd.json")
        let root = try Self.makeRoot([:])
        let server = try SpawnedServer(arguments: ["--config", shipped.path, "--port", "0", "--root", root.path])
        #expect(server.waitForStartup().hasPrefix("mmapd listening on "))
        server.signal(SIGTERM)
        #expect(server.waitForExit().status == 0)
    }
}

/// The option table's spellings must be the ones swift-configuration's providers read.
@Suite struct OptionSpellingTests {
    @Test func acronymsFollowTheProvidersRule() {
        let option = try! #require(Mmapd.Settings.options.first { $0.key == "maxConnectionsPerIP" })
        #expect(option.flag == "--max-connections-per-ip")
        #expect(option.environment == "MMAPD_MAX_CONNECTIONS_PER_IP")
    }

    @Test func everyOptionIsReadFromItsFlagAndEnvironmentName() async throws {
        // A value that differs from the default, given once through each spelling.
        let flagged = try await Mmapd.Settings.load(
            arguments: ["--max-connections-per-ip", "7", "--max-ranges", "9"],
            environment: [:], configFile: nil)
        #expect(flagged.maxConnectionsPerIP == 7)
        #expect(flagged.maxRanges == 9)
        let environment = try await Mmapd.Settings.load(
            arguments: [],
            environment: [
                "MMAPD_MAX_CONNECTIONS_PER_IP": "5",
                "MMAPD_SEARCH_TIMEOUT_MILLISECONDS": "1234"
            ],
            configFile: nil)
        #expect(environment.maxConnectionsPerIP == 5)
        #expect(environment.searchTimeoutMilliseconds == 1234)
    }
}

/// `--new-file-mode`: octal permissions from a flag, the environment or the config file (where a
/// JSON number is read by its digits); anything that is not octal permissions is refused.
@Suite struct NewFileModeSettingTests {
    @Test func octalFromEverySource() async throws {
        #expect(try await Mmapd.Settings.load(arguments: [], environment: [:], configFile: nil).newFileMode == 0o644)
        #expect(
            try await Mmapd.Settings.load(arguments: ["--new-file-mode", "0600"], environment: [:], configFile: nil).newFileMode == 0o600)
        #expect(
            try await Mmapd.Settings.load(arguments: [], environment: ["MMAPD_NEW_FILE_MODE": "640"], configFile: nil).newFileMode == 0o640)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mmapd-mode-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for (text, mode) in [(#""0660""#, 0o660), ("664", 0o664)] {
            let file = directory.appendingPathComponent("c.json")
            try Data(#"{"newFileMode": \#(text)}"#.utf8).write(to: file)
            #expect(try await Mmapd.Settings.load(arguments: [], environment: [:], configFile: file.path).newFileMode == mode_t(mode))
        }
    }

    @Test(arguments: ["999", "0o644", "rw-r--r--", "17777", "-1", ""])
    func notOctalPermissionsIsRefused(_ value: String) async {
        do {
            _ = try await Mmapd.Settings.load(arguments: ["--new-file-mode", value], environment: [:], configFile: nil)
            Issue.record("'\(value)' was accepted")
        } catch {
            #expect(error.description.contains("newFileMode"), "\(error.description)")
        }
    }
}
