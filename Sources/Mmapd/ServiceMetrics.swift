import HTTPSemantics
import MappedFiles
import Prometheus
import Synchronization

/// Everything /metrics reports, in one Prometheus registry per service (not the process-global
/// swift-metrics system: tests run several servers in one process).
///
/// Per-request work is one atomic increment per counter plus a lock-protected dictionary hit to
/// find the (route, method, status) counter; values owned elsewhere (the mapping pool, open
/// connections) are read only when scraped.
final class ServiceMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let requestCounters = Mutex<[Int: Counter]>([:])
    private let bodyBytes: Counter
    private let duration: DurationHistogram
    let searchBytes: Counter
    let searchDuration: DurationHistogram
    let patchBytes: Counter
    let putBytes: Counter
    let flushDuration: DurationHistogram
    /// What the cumulative sources (pool, deadline cut-offs) said at the previous scrape.
    private let previousScrape = Mutex<(pool: MappingPool.Statistics, cutOff: Int)>((MappingPool.Statistics(), 0))

    /// The label values a request can have; anything else is counted as the last of each list.
    static let routes = ["files", "listing", "search", "healthz", "metrics", "unknown"]
    /// At most 8: the counter key packs the method's index in three bits.
    static let methods = RequestMethod.answered.map(\.name) + ["other"]

    init() {
        let latency: [Duration] = [
            .microseconds(100), .microseconds(500), .milliseconds(1), .milliseconds(5),
            .milliseconds(25), .milliseconds(100), .milliseconds(500), .seconds(2), .seconds(10)
        ]
        bodyBytes = registry.makeCounter(
            descriptor: Self.name("response_body_bytes", "total", "Body bytes answered (HEAD and 304 count 0)."))
        duration = registry.makeDurationHistogram(
            descriptor: Self.name("request_duration", "seconds", "Time from request line to completion."),
            buckets: latency)
        searchBytes = registry.makeCounter(descriptor: Self.name("search_scanned_bytes", "total", "Bytes scanned by searches."))
        searchDuration = registry.makeDurationHistogram(
            descriptor: Self.name("search_duration", "seconds", "Time spent searching."),
            buckets: latency)
        patchBytes = registry.makeCounter(descriptor: Self.name("patch_written_bytes", "total", "Bytes written by acknowledged PATCHes."))
        putBytes = registry.makeCounter(
            descriptor: Self.name("put_written_bytes", "total", "Bytes of files created or replaced by acknowledged PUTs."))
        flushDuration = registry.makeDurationHistogram(
            descriptor: Self.name(
                "patch_flush_duration", "seconds",
                "Time from a PATCH's stored bytes to the end of the fdatasync that covers them (group commit: it may wait for a flush under way first)."
            ), buckets: latency)
    }

    /// Clients choose the method (and the status follows from what they send): only known methods
    /// become label values, or invented ones would grow the metrics without bound. The counter is
    /// found by one small integer, not by hashing three strings.
    func recordRequest(route: String, method: RequestMethod, status: Int, bytes: Int, duration elapsed: Duration) {
        let routeIndex = Self.routes.firstIndex(of: route) ?? Self.routes.count - 1
        let methodIndex = RequestMethod.answered.firstIndex(of: method) ?? Self.methods.count - 1
        let key = (routeIndex * 8 + methodIndex) << 16 | min(max(status, 0), 0xFFFF)
        let counter = requestCounters.withLock { counters in
            if let counter = counters[key] { return counter }
            let counter = registry.makeCounter(
                descriptor: Self.name("requests", "total", "Requests answered, by route, method and status."),
                labels: [
                    ("route", Self.routes[routeIndex]), ("method", Self.methods[methodIndex]),
                    ("status", String(status))
                ])
            counters[key] = counter
            return counter
        }
        counter.increment()
        bodyBytes.increment(by: Int64(bytes))
        duration.record(elapsed)
    }

    /// The exposition text, with pool and connection figures read now.
    func scrape(
        pool: MappingPool.Statistics, connections: Int, cutOff: Int, leases: Int, regions: Int,
        writersWaiting: Int, followers: Int
    ) -> [UInt8] {
        gauge("pool_mappings", "", "Mappings cached in the pool.").set(Int64(pool.mappings))
        gauge("pool_mapped", "bytes", "Bytes of address space the cached mappings cover.").set(Int64(pool.mappedBytes))
        gauge("connections", "", "Open client connections.").set(Int64(connections))
        gauge("leases_in_use", "", "Responses still holding a mapping.").set(Int64(leases))
        gauge("regions_alive", "", "Mappings alive in the process, cached or leased.").set(Int64(regions))
        gauge("writers_waiting", "", "Writes waiting for another write to the same file to finish.").set(Int64(writersWaiting))
        gauge("follow_streams", "", "Follow streams open (?follow=true).").set(Int64(followers))
        // The pool and the deadlines count cumulatively; Prometheus counters only go up by increments.
        let (previous, previousCutOff) = previousScrape.withLock { previous in
            defer { previous = (pool, cutOff) }
            return previous
        }
        counter(
            "connections_cut_off",
            "Connections shut down because a request head or body came too slowly, or a stream's reader stopped reading."
        )
        .increment(by: Int64(cutOff - previousCutOff))
        counter("pool_hits", "Leases served by a cached mapping.").increment(by: Int64(pool.hits - previous.hits))
        counter("pool_misses", "Leases that had to map the file.").increment(by: Int64(pool.misses - previous.misses))
        counter("pool_evictions", "Mappings evicted by the pool's limits.").increment(by: Int64(pool.evictions - previous.evictions))
        counter("pool_remaps", "Mappings dropped because the file changed on disk.").increment(by: Int64(pool.remaps - previous.remaps))
        return registry.emitToBuffer()
    }

    private func gauge(_ metric: String, _ unit: String, _ help: String) -> Gauge {
        registry.makeGauge(descriptor: Self.name(metric, unit, help))
    }

    private func counter(_ metric: String, _ help: String) -> Counter {
        registry.makeCounter(descriptor: Self.name(metric, "total", help))
    }

    private static func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "mmapd", metricName: metric, unitName: unit, helpText: help)
    }
}
