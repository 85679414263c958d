import Glibc

/// The process's open-file limit, raised at start: every connection, follower's file, writable
/// file and sendfile answer holds a descriptor, and the usual soft limit (1024) is below the
/// default `--max-connections` plus those, while the hard limit is far higher. The soft limit is
/// raised to the hard one, as Go's runtime and nginx's `worker_rlimit_nofile` do (libmicrohttpd
/// polls with epoll, so descriptors above 1024 are safe).
public enum OpenFileLimit {
    /// Descriptors kept for everything but connections: the listen socket, the root, the file
    /// watcher, opens for mappings, followers and writes in flight.
    static let reserve: UInt64 = 128

    /// Raises the soft limit to the hard one; returns the limit now in force.
    public static func raise() -> UInt64 {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 0 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { return UInt64(raised.rlim_cur) }
        }
        return UInt64(limit.rlim_cur)
    }

    /// The operator's line when even the raised limit cannot hold `maxConnections` connections
    /// and the reserve; nil when it can.
    public static func warning(limit: UInt64, maxConnections: Int) -> String? {
        let needed = UInt64(maxConnections) + reserve
        guard limit < needed else { return nil }
        return "the open-file limit (\(limit)) is below maxConnections (\(maxConnections)) plus \(reserve) for files: "
            + "connections beyond about \(limit > reserve ? limit - reserve : 0) fail; "
            + "raise the hard limit (ulimit -Hn, systemd LimitNOFILE=, or the container's nofile ulimit) or lower maxConnections"
    }
}
