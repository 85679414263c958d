import CMicroHTTPD
import Dispatch
import Glibc
import Synchronization

/// A running libmicrohttpd daemon that hands requests to a `RequestHandler`.
///
/// The daemon runs epoll with an internal pool of threads; callbacks reach Swift through the
/// `@convention(c)` functions below with this object as their context, so the object must stay
/// alive until `stop()` has returned (the daemon is stopped in `deinit` at the latest).
public final class Server: Sendable {
    public let port: UInt16
    private let daemon: Daemon
    private let callbacks: Callbacks

    /// Starts listening. `log` receives libmicrohttpd's own diagnostics.
    public init(options: ServerOptions, handler: any RequestHandler, log: @escaping @Sendable (String) -> Void) throws(ServerError) {
        let deadlines = ConnectionDeadlines(
            headerTimeoutSeconds: options.headerTimeoutSeconds, idleTimeoutSeconds: options.connectionTimeoutSeconds,
            minimumBodyRate: options.minimumBodyRate, delivered: { handler.delivered($0) })
        let callbacks = Callbacks(
            handler: handler, drainBodyLimit: options.drainBodyLimit, deadlines: deadlines, log: log,
            guardsBorrowedBodies: options.tls != nil)
        let context = Unmanaged.passUnretained(callbacks).toOpaque()
        var error = [CChar](repeating: 0, count: 256)
        let logTarget = UnsafeMutablePointer<cmhd_log_target>.allocate(capacity: 1)
        logTarget.initialize(to: cmhd_log_target(sink: Callbacks.logLine, context: context))
        // libmicrohttpd keeps pointers to the PEM text: it lives in `tls`, which this object keeps.
        let tls = options.tls.map(TLSBuffers.init)
        let started: OpaquePointer? = options.host.withCString { host in
            var config = cmhd_daemon_config(
                host: host, port: options.port, thread_pool_size: UInt32(clamping: options.threads),
                connection_limit: UInt32(clamping: options.connectionLimit),
                per_ip_connection_limit: UInt32(clamping: options.perIPConnectionLimit),
                connection_timeout_seconds: UInt32(clamping: options.connectionTimeoutSeconds),
                connection_memory_limit: options.memoryPerConnection, listen_backlog: 0,
                tls_cert_pem: tls?.certificate, tls_key_pem: tls?.key, tls_priorities: tls?.priorities)
            return cmhd_start_daemon(
                &config, Callbacks.access, context, Callbacks.completed, context,
                Callbacks.uriLog, context, Callbacks.connectionEvent, context,
                logTarget, &error, error.count)
        }
        let messages = callbacks.startupLog.finishStartup()
        guard let started else {
            logTarget.deallocate()
            tls?.release()
            let reason = String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw ServerError(description: ([reason] + messages).joined(separator: ": "))
        }
        messages.forEach(log)
        self.callbacks = callbacks
        self.daemon = Daemon(pointer: started, logTarget: logTarget, tls: tls)
        self.port = cmhd_bound_port(started)
    }

    deinit { stopDaemon() }

    /// Requests between their request line and their completion callback.
    public var requestsInFlight: Int { callbacks.inFlight.load(ordering: .relaxed) }
    /// Requests begun since the server started.
    public var requestsStarted: Int { callbacks.started.load(ordering: .relaxed) }
    /// Open client connections.
    public var connections: Int { callbacks.connections.load(ordering: .relaxed) }
    /// Zero-copy responses whose memory libmicrohttpd still holds.
    public var responsesHoldingMemory: Int { callbacks.driver.leases.held }
    /// Connections shut down because a request head or body came too slowly.
    public var connectionsCutOff: Int { callbacks.deadlines.cutOff }

    /// Graceful stop: let in-flight requests finish for at most `grace`, answering any request
    /// that starts meanwhile with the handler's `stopping` answer (connection closed after it),
    /// then close everything. Idle keep-alive connections are not waited for.
    ///
    /// The listen socket stays open until the daemon stops: `MHD_quiesce_daemon` on an epoll
    /// daemon with worker threads races the workers for the listen socket's removal from their
    /// epoll sets, and the loser aborts the process ("Failed to remove listen FD from epoll set",
    /// seen in CI; an open libmicrohttpd defect).
    public func shutdown(grace: Duration) {
        callbacks.driver.draining.store(true, ordering: .relaxed)
        let deadline = ContinuousClock.now + grace
        // A bounded poll is enough here: it runs once per process lifetime, and libmicrohttpd
        // offers no completion notification to wait on.
        while callbacks.inFlight.load(ordering: .relaxed) > 0, ContinuousClock.now < deadline {
            usleep(5_000)
        }
        stopDaemon()
    }

    /// libmicrohttpd refuses to stop with suspended connections: end them first.
    /// Answers still watched for their delivery are reported with what is known by then.
    private func stopDaemon() {
        callbacks.driver.suspensions.cancelAll()
        daemon.stop()
        callbacks.deadlines.settleLingering().forEach(callbacks.driver.handler.delivered)
    }
}

/// Owns the daemon pointer; stopping twice is harmless. libmicrohttpd's daemon functions are
/// thread-safe, the pointer itself is only read and cleared under the lock.
private final class Daemon: Sendable {
    private struct Handle: @unchecked Sendable {
        var pointer: OpaquePointer?
        /// Read by the daemon's threads until it has stopped; freed right after.
        var logTarget: UnsafeMutablePointer<cmhd_log_target>?
        /// The PEM text libmicrohttpd was given; released with the daemon.
        var tls: TLSBuffers?
    }

    private let handle: Mutex<Handle>

    init(pointer: OpaquePointer, logTarget: UnsafeMutablePointer<cmhd_log_target>, tls: TLSBuffers?) {
        handle = Mutex(Handle(pointer: pointer, logTarget: logTarget, tls: tls))
    }

    func stop() {
        let stopping = handle.withLock { handle -> Handle in
            defer {
                handle.pointer = nil
                handle.logTarget = nil
                handle.tls = nil
            }
            return handle
        }
        if let pointer = stopping.pointer { MHD_stop_daemon(pointer) }
        stopping.logTarget?.deallocate()
        stopping.tls?.release()
    }
}

/// C copies of the credentials with stable addresses, for as long as the daemon runs.
private struct TLSBuffers: @unchecked Sendable {
    let certificate: UnsafeMutablePointer<CChar>
    let key: UnsafeMutablePointer<CChar>
    let priorities: UnsafeMutablePointer<CChar>

    init(_ credentials: TLSCredentials) {
        certificate = Self.copy(credentials.certificate)
        key = Self.copy(credentials.key)
        priorities = Self.copy(credentials.priorities)
    }

    private static func copy(_ text: [CChar]) -> UnsafeMutablePointer<CChar> {
        let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: text.count)
        buffer.initialize(from: text, count: text.count)
        return buffer
    }

    /// The key is wiped before its memory goes back.
    func release() {
        var index = 0
        while key[index] != 0 {
            key[index] = 0
            index += 1
        }
        for buffer in [certificate, key, priorities] { buffer.deallocate() }
    }
}
