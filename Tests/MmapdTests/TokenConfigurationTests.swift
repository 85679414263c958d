import Foundation
import Mmapd
import Testing

/// An empty or whitespace-only token, from any source and for either token option, refuses to
/// start: `MMAPD_TOKEN="$UNSET"` once left writes open to everyone.
@Suite struct TokenConfigurationTests {
    struct Source: Sendable, CustomTestStringConvertible {
        let name: String
        let arguments: [String]
        let environment: [String: String]
        let config: String?
        var testDescription: String { name }
    }

    static let refused: [Source] = [
        Source(name: "--token ''", arguments: ["--token", ""], environment: [:], config: nil),
        Source(name: "--token=", arguments: ["--token="], environment: [:], config: nil),
        Source(name: "--token '  '", arguments: ["--token", "  "], environment: [:], config: nil),
        Source(name: "--token tab", arguments: ["--token", "\t"], environment: [:], config: nil),
        Source(name: "a good and an empty --token", arguments: ["--token", "good", "--token", ""], environment: [:], config: nil),
        Source(name: "--read-token ''", arguments: ["--read-token", ""], environment: [:], config: nil),
        Source(name: "--read-token ' '", arguments: ["--read-token", " "], environment: [:], config: nil),
        Source(name: "MMAPD_TOKEN=''", arguments: [], environment: ["MMAPD_TOKEN": ""], config: nil),
        Source(name: "MMAPD_TOKEN=' '", arguments: [], environment: ["MMAPD_TOKEN": " "], config: nil),
        Source(name: "MMAPD_TOKEN='a,,b'", arguments: [], environment: ["MMAPD_TOKEN": "a,,b"], config: nil),
        Source(name: "MMAPD_READ_TOKEN=''", arguments: [], environment: ["MMAPD_READ_TOKEN": ""], config: nil),
        Source(name: "MMAPD_READ_TOKEN='x, '", arguments: [], environment: ["MMAPD_READ_TOKEN": "x, "], config: nil),
        Source(name: #"{"token": ""}"#, arguments: [], environment: [:], config: #"{"token": ""}"#),
        Source(name: #"{"token": [""]}"#, arguments: [], environment: [:], config: #"{"token": [""]}"#),
        Source(name: #"{"token": []}"#, arguments: [], environment: [:], config: #"{"token": []}"#),
        Source(name: #"{"readToken": " "}"#, arguments: [], environment: [:], config: #"{"readToken": " "}"#),
        Source(name: #"{"readToken": ["ok", "\n"]}"#, arguments: [], environment: [:], config: #"{"readToken": ["ok", "\n"]}"#)
    ]

    static func load(_ source: Source) async throws(SettingsError) -> Settings {
        var configFile: String?
        if let config = source.config {
            let url = FileManager.default.temporaryDirectory.appendingPathComponent("mmapd-token-\(UUID().uuidString).json")
            try! Data(config.utf8).write(to: url)
            configFile = url.path
        }
        return try await Settings.load(arguments: source.arguments, environment: source.environment, configFile: configFile)
    }

    @Test(arguments: refused)
    func anEmptyTokenIsAConfigurationError(source: Source) async {
        do {
            let settings = try await Self.load(source)
            Issue.record("accepted: tokens \(settings.tokens.count), read tokens \(settings.readTokens.count)")
        } catch {
            #expect(error.description.contains("empty or whitespace-only token"), "\(error)")
        }
    }

    @Test func tokensFromEverySourceAreKept() async throws {
        let flags = try await Settings.load(
            arguments: ["--token", "w1", "--token", "w2", "--read-token", "r1"], environment: [:], configFile: nil)
        #expect(flags.tokens == ["w1", "w2"] && flags.readTokens == ["r1"])
        let environment = try await Settings.load(arguments: [], environment: ["MMAPD_READ_TOKEN": "r1,r2"], configFile: nil)
        #expect(environment.readTokens == ["r1", "r2"])
        let file = try await Self.load(
            Source(name: "file", arguments: [], environment: [:], config: #"{"token": "w", "readToken": ["r"]}"#))
        #expect(file.tokens == ["w"] && file.readTokens == ["r"])
    }

    @Test func aWritableServerWithReadTokensNeedsAWriteToken() async {
        await #expect(throws: SettingsError.self) {
            try await Settings.load(arguments: ["--writable", "--read-token", "r"], environment: [:], configFile: nil)
        }
    }

    /// The real executable: a non-zero exit and exactly one line, which never echoes a token.
    @Test(arguments: [
        (["--token", ""], [String: String]()),
        (["--read-token", " "], [:]),
        ([], ["MMAPD_TOKEN": ""]),
        ([], ["MMAPD_READ_TOKEN": "secret-part,"])
    ])
    func theServerExitsWithOneLine(arguments: [String], environment: [String: String]) throws {
        let root = try LifecycleTests.makeRoot([:])
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("MMAPD_") }
        env.merge(environment) { $1 }
        let result = try run(mmapdExecutable, ["--port", "0", "--root", root.path] + arguments, environment: env)
        #expect(result.status != 0)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.filter { $0 == "\n" }.count == 1, "\(result.stderr)")
        #expect(result.stderr.contains("token"))
        #expect(!result.stderr.contains("secret-part"))
    }
}
