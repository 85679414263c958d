/// libmicrohttpd's own limits and threading, as the operator configures them.
public struct ServerOptions: Sendable {
    public var host: String
    /// 0 asks for any free port; `Server.port` tells which one was bound.
    public var port: UInt16
    /// Worker threads, each with its own epoll set and its share of the connections.
    public var threads: Int
    public var connectionLimit: Int
    public var perIPConnectionLimit: Int
    /// Idle seconds before a connection is closed (libmicrohttpd's timeout: any byte resets it).
    public var connectionTimeoutSeconds: Int
    /// Seconds a request head may take to arrive, and the grace before a body's rate counts:
    /// what cuts off clients that trickle (see `ConnectionDeadlines`).
    public var headerTimeoutSeconds: Int
    /// Bytes per second a request body must average after the grace.
    public var minimumBodyRate: Int
    /// Bytes per connection for the request line, headers and read buffer: bounds header size.
    public var memoryPerConnection: Int
    /// A body this small is read and discarded when the answer comes before it (a 401 to a small
    /// PATCH), so the connection survives; a larger one is refused with the connection closed.
    public var drainBodyLimit: UInt64
    /// HTTPS with these credentials; nil: plain HTTP.
    public var tls: TLSCredentials?

    public init(
        host: String = "127.0.0.1", port: UInt16 = 8080, threads: Int = 2, connectionLimit: Int = 1024,
        perIPConnectionLimit: Int = 0, connectionTimeoutSeconds: Int = 30, headerTimeoutSeconds: Int = 10,
        minimumBodyRate: Int = 1024, memoryPerConnection: Int = 16 * 1024, drainBodyLimit: UInt64 = 64 * 1024,
        tls: TLSCredentials? = nil
    ) {
        self.tls = tls
        self.host = host
        self.port = port
        self.threads = threads
        self.connectionLimit = connectionLimit
        self.perIPConnectionLimit = perIPConnectionLimit
        self.connectionTimeoutSeconds = connectionTimeoutSeconds
        self.headerTimeoutSeconds = headerTimeoutSeconds
        self.minimumBodyRate = minimumBodyRate
        self.memoryPerConnection = memoryPerConnection
        self.drainBodyLimit = drainBodyLimit
    }
}

/// Why the server could not start; one line for the operator.
public struct ServerError: Error, Sendable, CustomStringConvertible {
    public let description: String
}
