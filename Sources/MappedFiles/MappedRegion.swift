import Glibc
import Synchronization
import SystemPackage

/// One mapping of a whole file. A region is immutable and unmapped only in `deinit`, so any
/// holder (the pool, a response that points into it) keeps the bytes valid: holding a reference
/// *is* the lease, and eviction from the pool never pulls memory from under a response.
public final class MappedRegion: Sendable {
    /// nil for an empty file, which is never mapped (mmap of length 0 fails).
    nonisolated(unsafe) public let base: UnsafeRawPointer?
    public let count: Int
    /// The identity the mapping was made from.
    public let identity: FileIdentity
    /// Unique for the life of the process: a key for caches about this mapping that, unlike an
    /// object identity, is never reused by a later region at the same address.
    public let serial: UInt64
    private static let serials = Atomic<UInt64>(0)

    /// Regions alive right now, in or out of the pool: a number that must return to the pool's
    /// size once responses finish, which is how tests prove nothing leaks.
    static let alive = Atomic<Int>(0)
    public static var aliveCount: Int { alive.load(ordering: .relaxed) }

    /// Maps the file as `identity` describes it, shared and read-only (writers store with pwrite:
    /// `WritableFile`); the descriptor may be closed afterwards.
    init(fd: FileDescriptor, identity: FileIdentity) throws(FileAccessError) {
        self.identity = identity
        serial = Self.serials.add(1, ordering: .relaxed).newValue
        let length = identity.size
        guard length > 0 else {
            base = nil
            count = 0
            Self.alive.add(1, ordering: .relaxed)
            return
        }
        guard length <= UInt64(Int.max) else { throw .system(.fileTooLarge) }
        count = Int(length)
        let address = mmap(nil, count, PROT_READ, MAP_SHARED, fd.rawValue, 0)
        guard let address, address != MAP_FAILED else { throw FileAccessError(errno: errno) }
        base = UnsafeRawPointer(address)
        Self.alive.add(1, ordering: .relaxed)
    }

    /// A read-only mapping of the file open as `fd`, as large as it is now.
    public static func reading(_ fd: FileDescriptor) throws(FileAccessError) -> MappedRegion {
        try MappedRegion(fd: fd, identity: try FileRoot.status(of: fd))
    }

    deinit {
        if let base { munmap(UnsafeMutableRawPointer(mutating: base), count) }
        Self.alive.subtract(1, ordering: .relaxed)
    }

    /// The bytes of the whole file; empty for an empty file.
    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    /// Asks the kernel to read the whole mapping in ahead of use (MADV_WILLNEED). Advisory:
    /// failure changes nothing.
    func prefetch() {
        guard let base else { return }
        madvise(UnsafeMutableRawPointer(mutating: base), count, MADV_WILLNEED)
    }
}
