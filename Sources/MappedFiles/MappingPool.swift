import ConfinedPaths
import Glibc
import Synchronization
import SystemPackage

/// Read-only mappings cached by path, revalidated on every lease (or, when configured, at most
/// once per interval) and evicted least-recently-used within a count and a mapped-bytes budget.
///
/// A lease costs one statx on a hit: no open, no mmap. That stat is the largest single cost of a
/// small GET (Benchmarks/README.md, "Profiles behind the code"); `Limits.revalidationInterval`
/// trades it for changes on disk by others being seen up to that much later, the trade nginx
/// makes with `open_file_cache_valid` (60 s by default). A file replaced by rename is then served
/// whole in its old version; one truncated in place ends a download early. Writes through this
/// process invalidate at once. The lock is held only for the dictionary work, never across a
/// syscall, so 64 connections on two threads do not queue behind each other.
public final class MappingPool: Sendable {
    public struct Limits: Sendable {
        /// Most mappings kept; each is one VMA (vm.max_map_count is 65530 by default).
        public var maxMappings: Int
        /// Most bytes of address space kept mapped. Mapped is not resident: the kernel pages in
        /// only what is read and reclaims it under pressure; this bounds VMAs and page tables.
        public var maxMappedBytes: UInt64
        /// How long a stat of a cached file stays good; zero: every lease stats.
        public var revalidationInterval: Duration

        public init(maxMappings: Int = 1024, maxMappedBytes: UInt64 = 64 << 30, revalidationInterval: Duration = .zero) {
            self.maxMappings = maxMappings
            self.maxMappedBytes = maxMappedBytes
            self.revalidationInterval = revalidationInterval
        }
    }

    /// Counters and gauges for /metrics.
    public struct Statistics: Sendable, Equatable {
        public var mappings = 0
        public var mappedBytes: UInt64 = 0
        public var hits = 0
        public var misses = 0
        public var evictions = 0
        /// Cached mappings dropped because the file was replaced, grown or truncated.
        public var remaps = 0

        public init() {}
    }

    /// A leased mapping with the file's identity as of this lease (fresher than the region's own
    /// when the file was rewritten in place at the same size).
    public struct Lease: Sendable {
        public let region: MappedRegion
        public let identity: FileIdentity
    }

    /// A class so that a hit updates it in place: one dictionary lookup, no write-back. Touched
    /// only under the pool's lock.
    private final class Entry {
        let region: MappedRegion
        var lastUse: UInt64
        /// What the last stat found, and when (nil: the next lease must stat).
        var identity: FileIdentity
        var validatedAt: ContinuousClock.Instant?

        init(region: MappedRegion, lastUse: UInt64, identity: FileIdentity, validatedAt: ContinuousClock.Instant?) {
            self.region = region
            self.lastUse = lastUse
            self.identity = identity
            self.validatedAt = validatedAt
        }
    }

    private struct State {
        var entries: [RelativePath: Entry] = [:]
        var clock: UInt64 = 0
        var statistics = Statistics()
    }

    public let root: FileRoot
    public let limits: Limits
    private let state = Mutex(State())

    public init(root: FileRoot, limits: Limits = Limits()) {
        self.root = root
        self.limits = limits
    }

    public var statistics: Statistics { state.withLock { $0.statistics } }

    /// A read-only mapping of the regular file at `relativePath` under the root.
    public func lease(_ relativePath: RelativePath) throws(FileAccessError) -> Lease {
        if limits.revalidationInterval > .zero, let recent = recentlyValidated(relativePath) { return recent }
        let current = try root.status(of: relativePath.string)
        if current.isDirectory { throw .isDirectory }
        guard current.isRegularFile else { throw .notRegularFile }
        if let region = cachedRegion(relativePath, matching: current) {
            return Lease(region: region, identity: current)
        }
        let region = try mapFreshly(relativePath)
        insert(region, at: relativePath)
        return Lease(region: region, identity: region.identity)
    }

    /// A descriptor of the file `lease` shows, for sending with sendfile(2) (libmicrohttpd takes
    /// it over). nil when `relativePath` now names another file, or the file's size changed: the
    /// lease's validators would not describe what the descriptor reads.
    public func descriptor(_ relativePath: RelativePath, showing lease: Lease) -> FileDescriptor? {
        guard let fd = try? root.open(relativePath.string) else { return nil }
        guard let opened = try? FileRoot.status(of: fd), lease.identity.mappingStillValid(for: opened) else {
            try? fd.close()
            return nil
        }
        return fd
    }

    /// Makes the next lease of `relativePath` stat the file: after this process wrote to it, the
    /// write is seen at once whatever the revalidation interval.
    public func expire(_ relativePath: RelativePath) {
        guard limits.revalidationInterval > .zero else { return }
        state.withLock { $0.entries[relativePath]?.validatedAt = nil }
    }

    /// Drops the cached mapping of `relativePath` (its file was deleted or replaced by this
    /// process): leases in flight keep the region alive, and it is unmapped after the last.
    public func forget(_ relativePath: RelativePath) {
        let dropped = state.withLock { state -> MappedRegion? in
            guard let entry = state.entries.removeValue(forKey: relativePath) else { return nil }
            Self.account(removed: entry.region, in: &state)
            return entry.region
        }
        withExtendedLifetime(dropped) {}
    }

    /// The cached lease if its last stat is younger than the revalidation interval.
    private func recentlyValidated(_ path: RelativePath) -> Lease? {
        let now = ContinuousClock.now
        return state.withLock { state -> Lease? in
            guard let entry = state.entries[path], let validatedAt = entry.validatedAt,
                now - validatedAt < limits.revalidationInterval
            else { return nil }
            state.clock += 1
            entry.lastUse = state.clock
            state.statistics.hits += 1
            return Lease(region: entry.region, identity: entry.identity)
        }
    }

    /// The cached region if it still shows the file; a stale one is dropped (and unmapped after
    /// the lock is released, once no response holds it).
    private func cachedRegion(_ path: RelativePath, matching current: FileIdentity) -> MappedRegion? {
        let (hit, stale) = state.withLock { state -> (MappedRegion?, MappedRegion?) in
            state.clock += 1
            guard let entry = state.entries[path] else {
                state.statistics.misses += 1
                return (nil, nil)
            }
            guard entry.region.identity.mappingStillValid(for: current) else {
                state.entries[path] = nil
                state.statistics.misses += 1
                state.statistics.remaps += 1
                Self.account(removed: entry.region, in: &state)
                return (nil, entry.region)
            }
            entry.lastUse = state.clock
            entry.identity = current
            if limits.revalidationInterval > .zero { entry.validatedAt = .now }
            state.statistics.hits += 1
            return (entry.region, nil)
        }
        withExtendedLifetime(stale) {}
        return hit
    }

    /// open (confined) + fstat + mmap + close. The identity comes from the descriptor, not the
    /// earlier stat by path, so the mapping and its identity always describe the same file.
    private func mapFreshly(_ path: RelativePath) throws(FileAccessError) -> MappedRegion {
        let fd = try root.open(path.string)
        defer { try? fd.close() }
        let identity = try FileRoot.status(of: fd)
        if identity.isDirectory { throw .isDirectory }
        guard identity.isRegularFile else { throw .notRegularFile }
        let region = try MappedRegion(fd: fd, identity: identity)
        // Small files are read whole, usually soon and often: fault them in ahead. Large ones keep
        // the kernel's default read-ahead, which suits both ranges and streaming downloads.
        if region.count <= Self.prefetchLimit { region.prefetch() }
        return region
    }

    /// Files up to this size are prefetched when mapped.
    static let prefetchLimit = 1 << 20

    /// Caches `region` and evicts least-recently-used entries beyond the limits. A file larger
    /// than the whole byte budget is served but not cached: it lives as long as its responses.
    private func insert(_ region: MappedRegion, at path: RelativePath) {
        guard UInt64(region.count) <= limits.maxMappedBytes, limits.maxMappings > 0 else { return }
        let dropped = state.withLock { state -> [MappedRegion] in
            var dropped: [MappedRegion] = []
            state.clock += 1
            let entry = Entry(region: region, lastUse: state.clock, identity: region.identity, validatedAt: .now)
            if let replaced = state.entries.updateValue(entry, forKey: path) {
                Self.account(removed: replaced.region, in: &state)
                dropped.append(replaced.region)
            }
            state.statistics.mappings += 1
            state.statistics.mappedBytes += UInt64(region.count)
            while state.statistics.mappings > limits.maxMappings || state.statistics.mappedBytes > limits.maxMappedBytes,
                let victim = Self.leastRecentlyUsed(in: state.entries, sparing: path)
            {
                let entry = state.entries.removeValue(forKey: victim)!
                state.statistics.evictions += 1
                Self.account(removed: entry.region, in: &state)
                dropped.append(entry.region)
            }
            return dropped
        }
        withExtendedLifetime(dropped) {}
    }

    /// A linear scan: it runs only on a miss that overflows the limits, which already paid for an
    /// open and an mmap, so a list kept in LRU order would save nothing measurable.
    private static func leastRecentlyUsed(in entries: [RelativePath: Entry], sparing path: RelativePath) -> RelativePath? {
        var oldest: (key: RelativePath, lastUse: UInt64)?
        for (key, entry) in entries where key != path && entry.lastUse < (oldest?.lastUse ?? .max) {
            oldest = (key, entry.lastUse)
        }
        return oldest?.key
    }

    private static func account(removed region: MappedRegion, in state: inout State) {
        state.statistics.mappings -= 1
        state.statistics.mappedBytes -= UInt64(region.count)
    }
}
