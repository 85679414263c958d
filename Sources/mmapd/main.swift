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
            """)

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

let command = Command.parseOrExit()
let environment = ProcessEnvironment.variables((0..<Int(1 << 16)).lazy.map { environ[$0] }.prefix { $0 != nil }.map { String(cString: $0!) })
let settings: Settings
do {
    settings = try await Settings.load(arguments: command.options, environment: environment,
                                       configFile: command.config ?? environment["MMAPD_CONFIG"])
} catch {
    fail(error.description)
}

LoggingSystem.bootstrap { label in
    var handler = StreamLogHandler.standardError(label: label)
    handler.logLevel = Logger.Level(rawValue: settings.logLevel) ?? .info
    return handler
}
guard Logger.Level(rawValue: settings.logLevel) != nil else { fail("logLevel must be one of trace, debug, info, notice, warning, error, critical") }
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
