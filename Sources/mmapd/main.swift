import ArgumentParser
import Glibc
import Logging
import MicroHTTP
import Mmapd

// First thing: a stop signal that arrives while starting must still stop us cleanly.
StopSignals.install()

/// Serves files under a root from memory maps: ranges, search and in-place patches over HTTP.
struct Command: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mmapd",
        abstract: "Serve files from memory maps over HTTP: byte ranges, search, PATCH.",
        discussion: """
            Each option is also read from the environment variable shown in brackets and from the
            JSON config file (same names as the keys below, e.g. {"port": 8080}).
            Precedence: flag > environment > config file > default.

            \(Settings.helpText)
            """,
        subcommands: [Serve.self, Sign.self], defaultSubcommand: Serve.self)
}

/// `mmapd [options]`: the server.
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve the root (the default; 'mmapd --help' lists the options).")

    @Option(help: "JSON config file [MMAPD_CONFIG]")
    var config: String?

    @Argument(parsing: .allUnrecognized, help: .hidden)
    var options: [String] = []
}

/// `mmapd sign PATH [--expires SECONDS] [options]`: prints a signed link, with the key and
/// configuration the server reads (the same flags, environment and config file).
struct Sign: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a signed link to PATH (a file, or a directory ending in '/') that reads without a token until it expires.")

    @Argument(help: "path relative to the root; end it with '/' to sign a directory and everything below it")
    var path: String

    @Option(help: "seconds the link stays valid")
    var expires: Int64 = 3600

    @Option(help: "JSON config file [MMAPD_CONFIG]")
    var config: String?

    @Argument(parsing: .allUnrecognized, help: .hidden)
    var options: [String] = []
}

/// One clear line on standard error, then a non-zero exit: what a bad configuration gets.
func fail(_ message: String) -> Never {
    let line = Array("mmapd: \(message)\n".utf8)
    _ = line.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
    exit(2)
}

let command: any ParsableCommand
do {
    command = try Command.parseAsRoot()
} catch {
    Command.exit(withError: error)
}
let environment = ProcessEnvironment.variables(
    (0..<Int(1 << 16)).lazy.map { environ[$0] }.prefix { $0 != nil }.map { String(cString: $0!) })

if let sign = command as? Sign {
    guard (1...(10 * 366 * 86_400)).contains(sign.expires) else { fail("--expires must be within 1...\(10 * 366 * 86_400) seconds") }
    do {
        let settings = try await Settings.load(
            arguments: sign.options, environment: environment,
            configFile: sign.config ?? environment["MMAPD_CONFIG"])
        guard let keyFile = settings.signingKeyFile else { fail("sign needs signingKeyFile (--signing-key-file FILE)") }
        print(try SignedLinks(keyFile: keyFile).link(for: sign.path, expires: Int64(time(nil)) + sign.expires))
    } catch {
        fail(error.description)
    }
    exit(0)
}
guard let serve = command as? Serve else {
    // `--help` and `help sign`: ArgumentParser's own commands.
    do {
        var builtIn = command
        try builtIn.run()
        Command.exit()
    } catch {
        Command.exit(withError: error)
    }
}
let settings: Settings
do {
    settings = try await Settings.load(
        arguments: serve.options, environment: environment,
        configFile: serve.config ?? environment["MMAPD_CONFIG"])
} catch {
    fail(error.description)
}

LoggingSystem.bootstrap { label in
    var handler = StreamLogHandler.standardError(label: label)
    handler.logLevel = Logger.Level(rawValue: settings.logLevel) ?? .info
    return handler
}
guard Logger.Level(rawValue: settings.logLevel) != nil else {
    fail("logLevel must be one of trace, debug, info, notice, warning, error, critical")
}
let openFiles = OpenFileLimit.raise()
if let warning = OpenFileLimit.warning(limit: openFiles, maxConnections: settings.maxConnections) {
    Logger(label: "mmapd").warning("\(warning)")
}
let service: MmapdService
do {
    service = try MmapdService(settings: settings, logger: Logger(label: "mmapd"))
} catch {
    fail(error.description)
}
print("mmapd listening on \(service.url)")
fflush(nil)  // the startup line must reach a pipe at once: scripts wait for it

StopSignals.wait()
service.shutdown()
exit(0)
