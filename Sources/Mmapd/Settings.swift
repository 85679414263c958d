import ByteSearch
import Configuration
import Glibc
import HTTPSemantics
import MicroHTTP
import SystemPackage

/// Every option mmapd reads, resolved from (highest first) flags, `MMAPD_*` environment
/// variables, the JSON config file, and the built-in defaults of `Settings.options`.
public struct Settings: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    public var root = "./data"
    public var writable = false
    /// Write tokens: PATCH (and every other write) needs one when any is set.
    public var tokens: [String] = []
    /// Read tokens: when any is set, every request but /healthz needs a read or a write token.
    public var readTokens: [String] = []
    /// The key signed links are made and checked with (`mmapd sign`); nil: no signed links.
    public var signingKeyFile: String?
    /// PEM certificate chain and private key: HTTPS when both are set.
    public var tlsCert: String?
    public var tlsKey: String?
    /// GnuTLS priority string: TLS 1.2 and 1.3 with forward-secret AEAD ciphers only.
    public var tlsPriorities = TLSCredentials.defaultPriorities
    public var threads = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    public var maxConnections = 1024
    public var maxConnectionsPerIP = 256
    public var connectionTimeout = 30
    public var headerTimeout = 10
    public var minBodyRate = 1024
    /// libmicrohttpd zeroes this much per request when it reuses a connection's memory pool, so it
    /// is a per-request cost as well as a bound (at 64 KiB the memset was a large share of a 4 KiB
    /// GET: Benchmarks/README.md, "Profiles behind the code").
    public var maxHeaderBytes = 16 * 1024
    public var maxMappings = 1024
    public var maxMappedBytes = 64 << 30
    public var revalidateMilliseconds = 0
    /// GDAL reads a column of 128 tiles in one request; nginx has no cap, Apache's MaxRanges is 200.
    public var maxRanges = 256
    /// Bodies this large or larger go out with sendfile(2), smaller ones from the mapping; 0 (the
    /// default): all from the mapping, which measured faster on libmicrohttpd 0.9.75
    /// (Benchmarks/README.md, "Body strategy"). Ignored with TLS (`FileReads`).
    public var sendfileThreshold = 0
    public var maxBodyBytes = 1 << 30
    /// Permissions of files PUT creates (umask not applied); a replaced file keeps its own.
    public var newFileMode: mode_t = 0o644
    public var maxBufferedBodyBytes = 64 << 20
    public var maxPatternBytes = 4096
    public var maxSearchResults = 10_000
    /// The most bytes one JSON search answer may take: `limit` times `before`/`after` context of
    /// 4 KiB lines could otherwise build gigabytes for one request (NDJSON streams instead).
    public var maxSearchAnswerBytes = 64 << 20
    public var searchTimeoutMilliseconds = 10_000
    /// Files one tree search opens at most (the Linux source tree has about 80,000).
    public var maxSearchFiles = 200_000
    /// NDJSON search streams at once; each holds a worker thread while it scans.
    public var maxSearchStreams = 64
    /// How long a stream's producer waits for a reader that leaves the pipe full before the
    /// stream is cut: bounds the time a stalled reader holds a worker thread. A follow stream
    /// whose client leaves bytes untaken this long is cut too.
    public var streamStallSeconds = 10
    /// Bytes a second a search stream's reader must average over a window of the stall time in
    /// which the search spent at least half the time waiting for it: a reader that takes a
    /// little now and then (never still for the stall time) would otherwise hold a worker thread
    /// for as long as it liked. Low enough for a slow link (16 KiB/s is 128 kbit/s); a reader
    /// faster than the search is never cut, since the search hardly waits for it.
    public var minStreamRate = 16 * 1024
    /// Follow streams (`?follow=true`) open at once; a waiting one holds a connection, no thread.
    public var maxFollowers = 1000
    /// All cores; all but one retire as soon as another request arrives (docs/SEARCH.md).
    public var literalSearchThreads = SearchConfiguration.activeCores
    public var listings = true
    /// A listing reads at most this many entries; a bigger directory answers 403 (docs/LISTINGS.md).
    public var maxListingEntries = 100_000
    /// Origins browsers may call from (`*` for any); empty: no CORS headers.
    public var corsOrigins: [String] = []
    /// Host names file and search requests must name in `Host`; empty: any.
    public var allowedHosts: [String] = []
    /// Memory all line indexes (the `lines` view's checkpoints) may take together.
    public var lineIndexBytes = 64 << 20
    public var logLevel = "info"
    /// An access-log line keeps this much of a `Range` or `User-Agent` header (GDAL's 128-tile
    /// Range is about 3 KB).
    public var logHeaderBytes = 256
    public var shutdownGrace = 10

    public init() {}

    /// One row per option: the single table behind parsing, validation and `--help`.
    public struct Option: Sendable {
        public let key: String
        public let help: String
        let apply: @Sendable (inout Settings, ConfigReader) throws(SettingsError) -> Void

        /// The flag spelling (`maxRanges` → `--max-ranges`).
        public var flag: String { "--" + Self.dashCase(key) }
        /// The environment spelling (`maxRanges` → `MMAPD_MAX_RANGES`).
        public var environment: String { "MMAPD_" + Self.dashCase(key).replacingDashes(with: "_").uppercased() }

        /// swift-configuration's own rule: a word boundary only where a lowercase letter meets an
        /// uppercase one (`maxConnectionsPerIP` → `max-connections-per-ip`), so the spelling we
        /// validate and document is the one its providers read.
        static func dashCase(_ key: String) -> String {
            var result = ""
            var previousWasLowercase = false
            for character in key {
                if character.isUppercase, previousWasLowercase { result.append("-") }
                result.append(contentsOf: character.lowercased())
                previousWasLowercase = character.isLowercase
            }
            return result
        }
    }

    public static let options: [Option] = [
        text("host", "address to listen on", \.host),
        integer("port", "TCP port; 0 picks a free one", \.port, 0...65535),
        text("root", "directory whose files are served", \.root),
        boolean("writable", "allow PATCH, PUT and DELETE", \.writable),
        tokens("token", "bearer token writes require (repeatable; comma-separated in the environment)", \.tokens),
        tokens(
            "readToken",
            "bearer token every request but /healthz then requires; a write token also reads (repeatable; comma-separated in the environment)",
            \.readTokens),
        optionalText(
            "signingKeyFile", "file holding the signed-link key (at least 32 bytes, mode 600); also restricts reads", \.signingKeyFile),
        optionalText("tlsCert", "PEM certificate (chain) file: serve HTTPS (with --tls-key)", \.tlsCert),
        optionalText("tlsKey", "PEM private key file of --tls-cert", \.tlsKey),
        text("tlsPriorities", "GnuTLS priority string for HTTPS", \.tlsPriorities),
        integer("threads", "network threads (default: cores)", \.threads, 1...256),
        integer("maxConnections", "open connections at most", \.maxConnections, 1...1_000_000),
        integer("maxConnectionsPerIP", "open connections per client address (0 = no limit)", \.maxConnectionsPerIP, 0...1_000_000),
        integer("connectionTimeout", "seconds a connection may stay idle or stall", \.connectionTimeout, 1...86_400),
        integer("headerTimeout", "seconds a request head may take to arrive; also a body's grace", \.headerTimeout, 1...3600),
        integer("minBodyRate", "bytes per second a request body must average after its grace", \.minBodyRate, 1...(1 << 30)),
        integer("maxHeaderBytes", "bytes for the request line and headers per connection", \.maxHeaderBytes, 4096...(16 << 20)),
        integer("maxMappings", "cached file mappings at most", \.maxMappings, 0...60_000),
        integer("maxMappedBytes", "bytes of address space the cached mappings may cover", \.maxMappedBytes, 0...Int.max),
        integer(
            "revalidateMilliseconds", "how long a cached file's stat stays good (0: stat on every request)",
            \.revalidateMilliseconds, 0...86_400_000),
        integer("maxRanges", "ranges per request after merging; more serves the whole file", \.maxRanges, 1...10_000),
        integer(
            "sendfileThreshold",
            "bytes from which a body is sent with sendfile(2) instead of from the mapping (0: never; ignored with TLS)",
            \.sendfileThreshold, 0...Int.max),
        integer("maxBodyBytes", "largest PATCH or PUT body (and most a resize grows a file)", \.maxBodyBytes, 0...Int.max),
        Option(key: "newFileMode", help: "permissions, in octal, of files PUT creates (a replaced file keeps its own)") {
            settings, reader throws(SettingsError) in
            // A JSON number (644) is read by its digits, as the octal a person wrote.
            guard let text = reader.string(forKey: "newFileMode") ?? reader.int(forKey: "newFileMode").map({ String($0) }) else { return }
            guard let mode = mode_t(text, radix: 8), mode <= 0o7777 else {
                throw SettingsError("newFileMode must be octal permissions such as 0644, got '\(text)'")
            }
            settings.newFileMode = mode
        },
        integer(
            "maxBufferedBodyBytes", "largest multipart or message/byterange PATCH body (held in memory)", \.maxBufferedBodyBytes,
            0...Int.max),
        integer("maxPatternBytes", "longest search pattern", \.maxPatternBytes, 1...(1 << 20)),
        integer("maxSearchResults", "largest search limit a client may ask for", \.maxSearchResults, 1...10_000_000),
        integer(
            "maxSearchAnswerBytes", "largest JSON search answer in bytes; a bigger one answers 422 (NDJSON streams any size)",
            \.maxSearchAnswerBytes, (1 << 16)...Int.max),
        integer("searchTimeoutMilliseconds", "time budget of one search", \.searchTimeoutMilliseconds, 1...3_600_000),
        integer("maxSearchFiles", "files one tree search opens at most", \.maxSearchFiles, 1...100_000_000),
        integer("maxSearchStreams", "NDJSON search streams at once (503 above)", \.maxSearchStreams, 1...100_000),
        integer(
            "streamStallSeconds", "seconds a search or follow stream may wait for a reader that does not read before it is cut",
            \.streamStallSeconds, 1...3600),
        integer(
            "minStreamRate", "bytes per second a search stream's reader must average while the search waits for it, or it is cut",
            \.minStreamRate, 1...(1 << 30)),
        integer("maxFollowers", "follow streams (?follow=true) open at once (503 above)", \.maxFollowers, 1...1_000_000),
        integer("literalSearchThreads", "threads one literal search (and line counting) may use", \.literalSearchThreads, 1...256),
        boolean("listings", "answer GET on a directory with a listing (HTML, or JSON by Accept or ?format=json)", \.listings),
        integer(
            "maxListingEntries", "entries a directory listing may have; a bigger directory answers 403", \.maxListingEntries, 1...10_000_000
        ),
        Option(key: "corsOrigins", help: "origins allowed to call from a browser, or * (repeatable; comma-separated in the environment)") {
            settings, reader throws(SettingsError) in
            if let origins = reader.stringArray(forKey: "corsOrigins") { settings.corsOrigins = origins.filter { !$0.isEmpty } }
        },
        Option(
            key: "allowedHosts",
            help: "Host names /files and /search answer for, e.g. localhost (repeatable; comma-separated in the environment; default: any)"
        ) {
            settings, reader throws(SettingsError) in
            guard let hosts = reader.stringArray(forKey: "allowedHosts") else { return }
            for host in hosts where !host.isEmpty && HostHeader.name(of: host) == nil {
                throw SettingsError("allowedHosts: '\(host)' is not a host name")
            }
            settings.allowedHosts = hosts.filter { !$0.isEmpty }
        },
        integer("lineIndexBytes", "bytes the line indexes of all files may take (8 per MiB of file)", \.lineIndexBytes, 4096...Int.max),
        text("logLevel", "trace, debug, info, notice, warning, error or critical", \.logLevel),
        integer("logHeaderBytes", "bytes of a Range or User-Agent header an access-log line keeps", \.logHeaderBytes, 16...65_536),
        integer("shutdownGrace", "seconds in-flight requests get to finish on SIGTERM", \.shutdownGrace, 0...3600)
    ]

    /// Reads every option from `reader`, rejecting values that are present but malformed or out of
    /// range (a typo in a limit must not silently become the default).
    public static func resolve(from reader: ConfigReader) throws(SettingsError) -> Settings {
        var settings = Settings()
        for option in options { try option.apply(&settings, reader) }
        if settings.writable, !settings.readTokens.isEmpty, settings.tokens.isEmpty {
            throw SettingsError("writable with readToken needs a token for writes (a read token never writes)")
        }
        return settings
    }

    /// A list of secrets. An empty or whitespace-only one is refused: `MMAPD_TOKEN="$UNSET"` in a
    /// script must not quietly start a server without the protection its operator asked for.
    private static func tokens(_ key: String, _ help: String, _ field: WritableKeyPath<Settings, [String]> & Sendable) -> Option {
        Option(key: key, help: help) { settings, reader throws(SettingsError) in
            // A config file may give one token as a plain string.
            let single = reader.string(forKey: ConfigKey(key), isSecret: true).map { [$0] }
            guard let tokens = reader.stringArray(forKey: ConfigKey(key), isSecret: true) ?? single else { return }
            guard !tokens.isEmpty, tokens.allSatisfy({ !$0.allSatisfy(\.isWhitespace) }) else {
                throw SettingsError("\(key): an empty or whitespace-only token is not allowed (is a variable unset?)")
            }
            settings[keyPath: field] = tokens
        }
    }

    private static func text(_ key: String, _ help: String, _ field: WritableKeyPath<Settings, String> & Sendable) -> Option {
        Option(key: key, help: help) { settings, reader throws(SettingsError) in
            if let value = reader.string(forKey: ConfigKey(key)) { settings[keyPath: field] = value }
        }
    }

    private static func optionalText(_ key: String, _ help: String, _ field: WritableKeyPath<Settings, String?> & Sendable) -> Option {
        Option(key: key, help: help) { settings, reader throws(SettingsError) in
            if let value = reader.string(forKey: ConfigKey(key)) {
                guard !value.isEmpty else { throw SettingsError("\(key) must name a file") }
                settings[keyPath: field] = value
            }
        }
    }

    private static func integer(
        _ key: String, _ help: String, _ field: WritableKeyPath<Settings, Int> & Sendable,
        _ range: ClosedRange<Int>
    ) -> Option {
        Option(key: key, help: help) { settings, reader throws(SettingsError) in
            if let value = reader.int(forKey: ConfigKey(key)) {
                guard range.contains(value) else {
                    throw SettingsError("\(key) must be within \(range.lowerBound)...\(range.upperBound), got \(value)")
                }
                settings[keyPath: field] = value
            } else if let text = reader.string(forKey: ConfigKey(key)) {
                throw SettingsError("\(key) must be a whole number, got '\(text)'")
            }
        }
    }

    private static func boolean(_ key: String, _ help: String, _ field: WritableKeyPath<Settings, Bool> & Sendable) -> Option {
        Option(key: key, help: help) { settings, reader throws(SettingsError) in
            if let value = reader.bool(forKey: ConfigKey(key)) {
                settings[keyPath: field] = value
            } else if let text = reader.string(forKey: ConfigKey(key)) {
                throw SettingsError("\(key) must be true or false, got '\(text)'")
            }
        }
    }
}

/// A configuration problem, as the one line the operator sees before mmapd exits.
public struct SettingsError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension String {
    fileprivate func replacingDashes(with replacement: Character) -> String {
        String(map { $0 == "-" ? replacement : $0 })
    }
}
