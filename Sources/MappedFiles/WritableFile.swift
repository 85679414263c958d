import CMicroHTTPD
import Glibc
import SystemPackage

/// A file opened for writing through a shared read-write mapping, for one writer at a time
/// (the `WriteQueue` turn holder).
///
/// Readers map the same file read-only; both mappings share the page cache, so a reader sees a
/// write as soon as it is copied in. Durability comes from `flush`: msync(MS_SYNC) over the
/// touched pages, plus fdatasync when the size changed (the new length is metadata).
public final class WritableFile {
    public let descriptor: Int32
    public private(set) var region: MappedRegion
    public private(set) var size: UInt64
    private var grew = false
    private var touched: Range<Int>?
    /// The span written since the last flush (nil: none), for caches about the old bytes.
    public var touchedSpan: Range<Int>? { touched }
    private var written = 0

    /// Opens `relativePath` below `root` for reading and writing (confined like every open).
    public init(root: FileRoot, relativePath: String) throws(FileAccessError) {
        let fd: Int32
        do {
            fd = try root.open(relativePath, flags: O_RDWR)
        } catch where [EACCES, EPERM, EROFS, ETXTBSY].contains(errno) {
            // Refused for writing, yet readable: say "not writable" (403), unless it is not a
            // file we would serve at all.
            _ = try root.status(of: relativePath)
            throw .notWritable
        }
        do throws(FileAccessError) {
            let identity = try FileRoot.status(of: fd)
            if identity.isDirectory { throw .isDirectory }
            guard identity.isRegularFile else { throw .notFound }
            region = try MappedRegion(fd: fd, identity: identity, writable: true)
            size = identity.size
            descriptor = fd
        } catch {
            close(fd)
            throw error
        }
    }

    deinit { close(descriptor) }

    /// Brings the mapping up to date with the file as `current` describes it (someone else may
    /// have grown or truncated it); false when the path now names another file.
    func refresh(against current: FileIdentity) throws(FileAccessError) -> Bool {
        let mine = try FileRoot.status(of: descriptor)
        guard mine.device == current.device, mine.inode == current.inode else { return false }
        if mine.size != UInt64(region.count) {
            region = try MappedRegion(fd: descriptor, identity: mine, writable: true)
        }
        size = mine.size
        // Writes of a PATCH that failed before its flush were never promised: forget their span
        // (it may lie beyond a file truncated since). A growth stays pending, so the next flush
        // still makes the size durable.
        touched = nil
        written = 0
        return true
    }

    /// The file's identity now, from the descriptor.
    public func identity() throws(FileAccessError) -> FileIdentity { try FileRoot.status(of: descriptor) }

    /// Makes the file at least `end` bytes long, with its blocks reserved: a full disk fails
    /// here (ENOSPC, before any byte is written) instead of as SIGBUS on a store into a hole.
    public func reserve(upTo end: UInt64) throws(FileAccessError) {
        guard end > size else { return }
        guard end <= UInt64(Int64.max) else { throw .system(.fileTooLarge) }
        let status = posix_fallocate(descriptor, off_t(size), off_t(end - size))
        if status != 0 {
            // Some filesystems refuse fallocate; ftruncate still extends (without reserving).
            guard status == EOPNOTSUPP, ftruncate(descriptor, off_t(end)) == 0 else {
                throw FileAccessError.from(errno: status == EOPNOTSUPP ? errno : status)
            }
        }
        let identity = try FileRoot.status(of: descriptor)
        region = try MappedRegion(fd: descriptor, identity: identity, writable: true)
        size = identity.size
        grew = true
    }

    /// Copies `bytes` to file offset `offset`, which with `bytes.count` must lie within `size`.
    /// Throws `.changedWhileReading` if someone truncated the file under us (the write faulted).
    public func write(_ bytes: UnsafeRawBufferPointer, at offset: UInt64) throws(FileAccessError) {
        guard !bytes.isEmpty else { return }
        let start = Int(offset)
        precondition(offset + UInt64(bytes.count) <= size, "write beyond the reserved size")
        let destination = UnsafeMutableRawPointer(mutating: region.base!) + start
        let source = bytes.baseAddress!
        let count = bytes.count
        do {
            try MemoryFaultGuard.run { destination.copyMemory(from: source, byteCount: count) }
        } catch {
            throw .changedWhileReading
        }
        touched = touched.map { min($0.lowerBound, start)..<max($0.upperBound, start + count) } ?? start..<(start + count)
        written += count
    }

    /// Makes every write since the last flush durable: msync(MS_SYNC) on page-aligned bounds of
    /// the touched span, fdatasync if the file grew, and a fresh mtime (stores through a mapping
    /// update it lazily, and the ETag must move now). Returns the bytes written since the last flush.
    @discardableResult
    public func flush() throws(FileAccessError) -> Int {
        if let span = touched, let base = region.base {
            let page = Int(sysconf(Int32(_SC_PAGESIZE)))
            let start = span.lowerBound / page * page
            guard msync(UnsafeMutableRawPointer(mutating: base) + start, span.upperBound - start, MS_SYNC) == 0 else {
                throw FileAccessError.from(errno: errno)
            }
        }
        if grew {
            guard fdatasync(descriptor) == 0 else { throw FileAccessError.from(errno: errno) }
        }
        futimens(descriptor, nil)
        touched = nil
        grew = false
        defer { written = 0 }
        return written
    }
}
