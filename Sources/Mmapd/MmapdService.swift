import ByteSearch
import ConfinedPaths
import Dispatch
import Logging
import MappedFiles
import MicroHTTP
import Synchronization

/// The assembled server: root, mapping pool, routes and the libmicrohttpd daemon.
public final class MmapdService: Sendable {
    public let settings: Settings
    private let server: Server
    private let logger: Logger
    /// Ended first at shutdown: follow streams never finish on their own.
    private let followers: Followers

    /// Opens the root and starts listening; fails with one operator-readable line.
    public init(settings: Settings, logger: Logger) throws(SettingsError) {
        self.settings = settings
        self.logger = logger
        // The routes are made before the server they serve; /metrics reads the server through this.
        let serverBox = ServerBox()
        let (routes, followers) = try Self.assemble(settings: settings, logger: logger, serverBox: serverBox)
        self.followers = followers
        let options = ServerOptions(
            host: settings.host, port: UInt16(settings.port), threads: settings.threads,
            connectionLimit: settings.maxConnections, perIPConnectionLimit: settings.maxConnectionsPerIP,
            connectionTimeoutSeconds: settings.connectionTimeout, headerTimeoutSeconds: settings.headerTimeout,
            minimumBodyRate: settings.minBodyRate, memoryPerConnection: settings.maxHeaderBytes,
            tls: try Self.tlsCredentials(settings))
        let daemonLogger = logger
        do {
            server = try Server(options: options, handler: routes) { line in daemonLogger.warning("\(line)") }
            serverBox.set(server)
        } catch {
            throw SettingsError(error.description)
        }
    }

    /// The application without its daemon: the routes over the root `settings` name, and the
    /// followers shutdown must end. Routes see the server (metrics, activity) through `serverBox`.
    private static func assemble(
        settings: Settings, logger: Logger, serverBox: ServerBox
    ) throws(SettingsError) -> (Routes, Followers) {
        MemoryFaultGuard.install()
        let root: FileRoot
        do {
            root = try FileRoot(path: settings.root)
        } catch {
            throw SettingsError(error.reason)
        }
        let pool = MappingPool(
            root: root,
            limits: .init(
                maxMappings: settings.maxMappings,
                maxMappedBytes: UInt64(settings.maxMappedBytes),
                revalidationInterval: .milliseconds(settings.revalidateMilliseconds)))
        let generations = WriteGenerations()
        var links: SignedLinks?
        if let keyFile = settings.signingKeyFile { links = try SignedLinks(keyFile: keyFile) }
        let metrics = ServiceMetrics()
        let lineIndexes = LineIndexes(
            memoryLimit: settings.lineIndexBytes,
            configuration: SearchConfiguration(
                memoryBoundConcurrency: settings.literalSearchThreads, backgroundPriority: true,
                foregroundActivity: ForegroundActivity { [serverBox] in serverBox.server?.requestsStarted ?? 0 }))
        let searcher = Searcher(
            configuration: SearchConfiguration(
                memoryBoundConcurrency: settings.literalSearchThreads, maxPatternLength: settings.maxPatternBytes,
                backgroundPriority: true,
                // A literal scan's helpers give the memory bandwidth back to clients.
                foregroundActivity: ForegroundActivity { [serverBox] in serverBox.server?.requestsStarted ?? 0 }))
        let pace = ReaderPace(stallTimeout: .seconds(settings.streamStallSeconds), minimumRate: settings.minStreamRate)
        let followers = try Followers(root: root, limit: settings.maxFollowers, pace: pace)
        let writableFiles = WritableFileCache(root: root)
        let fileTurns = WriteQueue<FileKey>()
        let entryTurns = WriteQueue<RelativePath>()
        let writes = FileWrites(
            root: root, entries: entryTurns, files: fileTurns, pool: pool, writableFiles: writableFiles,
            generations: generations, maxBodyBytes: UInt64(settings.maxBodyBytes), metrics: metrics)
        let routes = Routes(
            files: FileReads(
                pool: pool, generations: generations, answers: WholeFileAnswers(), maxRanges: settings.maxRanges,
                sendfileThreshold: FileReads.descriptorThreshold(
                    configured: settings.sendfileThreshold,
                    tls: settings.tlsCert != nil)),
            listings: DirectoryListings(root: root, enabled: settings.listings, maxEntries: settings.maxListingEntries),
            views: FileViews(
                lines: FileLines(
                    pool: pool, generations: generations, indexes: lineIndexes,
                    timeout: .milliseconds(settings.searchTimeoutMilliseconds)),
                follows: FileFollows(followers: followers, indexes: lineIndexes)),
            patches: FilePatches(
                writableFiles: writableFiles, pool: pool, queue: fileTurns, generations: generations, lineIndexes: lineIndexes,
                followers: followers, writable: settings.writable,
                maxBodyBytes: UInt64(settings.maxBodyBytes), maxBufferedBodyBytes: UInt64(settings.maxBufferedBodyBytes),
                metrics: metrics),
            puts: FilePuts(writes: writes, newFileMode: settings.newFileMode),
            deletes: FileDeletes(writes: writes),
            searches: FileSearches(
                pool: pool, searcher: searcher,
                maxResults: settings.maxSearchResults, maxAnswerBytes: settings.maxSearchAnswerBytes,
                timeout: .milliseconds(settings.searchTimeoutMilliseconds),
                metrics: metrics, generations: generations, maxFiles: settings.maxSearchFiles,
                streams: .searches(limit: settings.maxSearchStreams, pace: pace),
                follows: FollowSearches(
                    followers: followers, searcher: searcher, indexes: lineIndexes,
                    timeout: .milliseconds(settings.searchTimeoutMilliseconds))),
            viewer: ViewerPages(pool: pool, generations: generations), assets: PageAssets(),
            accessLog: AccessLog(logger: logger, headerBytes: settings.logHeaderBytes), metrics: metrics,
            crossOrigin: CrossOrigin(allowedOrigins: Set(settings.corsOrigins)),
            allowedHosts: AllowedHosts(settings.allowedHosts),
            access: AccessControl(
                writeTokens: BearerTokens(settings.tokens), readTokens: BearerTokens(settings.readTokens),
                links: links),
            scrape: { [serverBox] in
                let server = serverBox.server
                return metrics.scrape(
                    pool: pool.statistics, connections: server?.connections ?? 0,
                    cutOff: server?.connectionsCutOff ?? 0,
                    leases: server?.responsesHoldingMemory ?? 0, regions: MappedRegion.aliveCount,
                    writersWaiting: fileTurns.waitingCount + entryTurns.waitingCount,
                    followers: followers.count)
            })
        if settings.writable { sweepTemporaryUploads(root, logger: logger) }
        return (routes, followers)
    }

    /// The service's routes, assembled as for the server but served by none: what in-process
    /// tests drive (`InProcessExchange`). Follow streams are not ended by anyone.
    package static func handler(settings: Settings, logger: Logger) throws(SettingsError) -> any RequestHandler {
        try assemble(settings: settings, logger: logger, serverBox: ServerBox()).0
    }

    /// Removes the temporaries of PUTs a crash cut short, in the background: it reads every
    /// directory of the tree, which must not delay the first request.
    private static func sweepTemporaryUploads(_ root: FileRoot, logger: Logger) {
        DispatchQueue.global(qos: .background).async {
            let removed = TemporaryUploads.sweep(root)
            if removed > 0 { logger.notice("removed \(removed) temporary files of uploads that never finished") }
        }
    }

    /// Both files or neither: HTTPS needs a certificate and its key.
    private static func tlsCredentials(_ settings: Settings) throws(SettingsError) -> TLSCredentials? {
        switch (settings.tlsCert, settings.tlsKey) {
        case (nil, nil): return nil
        case (let certificate?, let key?):
            do {
                return try TLSCredentials(certificateFile: certificate, keyFile: key, priorities: settings.tlsPriorities)
            } catch {
                throw SettingsError(error.description)
            }
        default: throw SettingsError("HTTPS needs both tlsCert and tlsKey")
        }
    }

    /// The port really bound (the answer to `--port 0`).
    public var port: UInt16 { server.port }

    /// Zero-copy responses still holding a mapping; zero when the server is idle.
    public var responsesHoldingMemory: Int { server.responsesHoldingMemory }
    /// Requests between their request line and their completion.
    public var requestsInFlight: Int { server.requestsInFlight }

    /// The address clients use, as the startup line prints it.
    public var url: String {
        let host = settings.host.contains(":") ? "[\(settings.host)]" : settings.host
        return (settings.tlsCert == nil ? "http" : "https") + "://\(host):\(port)"
    }

    /// Answers new requests 503, lets in-flight ones finish within the configured grace, closes all.
    public func shutdown() {
        logger.info("shutting down", metadata: ["inFlight": "\(server.requestsInFlight)", "followers": "\(followers.count)"])
        followers.closeAll()
        server.shutdown(grace: .seconds(settings.shutdownGrace))
    }
}

/// Lets the /metrics route reach the server created after it. Weak: the server owns the routes
/// that own this box, and a strong reference would keep every service alive forever.
private final class ServerBox: Sendable {
    private struct Reference: @unchecked Sendable { weak var server: Server? }
    private let value = Mutex(Reference())
    func set(_ server: Server) { value.withLock { $0.server = server } }
    var server: Server? { value.withLock { $0.server } }
}
