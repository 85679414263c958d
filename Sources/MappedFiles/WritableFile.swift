import CPOSIXShim
import Glibc
import SystemPackage

/// A file opened for writing through a shared read-write mapping, for one writer at a time
/// (the `WriteQueue` turn holder).
///
/// Readers map the same file read-only; both mappings share the page cache, so a reader sees a
/// write as soon as it is copied in. Durability comes from `flush`: msync(MS_SYNC) over the
/// touched pages, plus fdatasync when the size changed (the new length is metadata).
///
/// Growth never runs ahead of the bytes: `reserve` allocates blocks past the end without
/// changing the length (FALLOC_FL_KEEP_SIZE) and maps room to grow into, and each `write` raises
/// the length only to the end of the bytes it stores. A PATCH cut short or refused therefore
/// leaves the file at most as long as what was really written, and gives the unused blocks back.
public final class WritableFile {
    public let descriptor: Int32
    /// The file opened (device and inode, from the descriptor): what its write turn is keyed by.
    public let key: FileKey
    /// Maps at least `size` bytes, and up to the end of an open reservation.
    public private(set) var region: MappedRegion
    /// The length as this writer found or made it.
    public private(set) var size: UInt64
    /// The end of the blocks reserved past `size`, while a reservation is open.
    private var reservedEnd: UInt64?
    /// False once the filesystem said it has no fallocate (ramfs, some network filesystems):
    /// growth then uses ftruncate, and blocks are allocated as pages are stored.
    private var canReserve = true
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
        } catch .permissionDenied, .system(.readOnlyFileSystem), .system(.textFileBusy) {
            // Refused for writing, yet readable: say "not writable" (403), unless it is not a
            // file we would serve at all.
            _ = try root.status(of: relativePath)
            throw .notWritable
        }
        do throws(FileAccessError) {
            let identity = try FileRoot.status(of: fd)
            if identity.isDirectory { throw .isDirectory }
            guard identity.isRegularFile else { throw .notRegularFile }
            region = try MappedRegion(fd: fd, identity: identity, writable: true)
            size = identity.size
            key = identity.key
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
        guard mine.key == current.key else { return false }
        releaseReservation()
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

    /// Makes room for writes up to `end`: blocks reserved, so a full disk fails here (ENOSPC,
    /// before any byte is written) instead of as SIGBUS on a store into a hole, and the mapping
    /// extended, while the length the world sees stays as it is. Call `releaseReservation` on
    /// every way out of the PATCH.
    public func reserve(upTo end: UInt64) throws(FileAccessError) {
        guard end > size else { return }
        guard end <= UInt64(Int64.max) else { throw .system(.fileTooLarge) }
        if canReserve, cposix_fallocate(descriptor, CPOSIX_SPACE_RESERVE_BEYOND_END, Int64(size), Int64(end - size)) != 0 {
            let code = errno
            guard code == EOPNOTSUPP else { throw FileAccessError(errno: code) }
            // No reservation on this filesystem: stores allocate their blocks, and a full disk
            // shows as a failed store (503) instead of a 507 up front.
            canReserve = false
        }
        reservedEnd = end
        do {
            // Mapped to `end` whatever the file's length is meanwhile (another process may have
            // truncated it to 0 since): the mapping is never empty, and a store beyond the real
            // end faults into the guard instead of trapping.
            region = try MappedRegion(fd: descriptor, identity: try identity(), writable: true, length: end)
        } catch {
            releaseReservation()
            throw error
        }
    }

    /// Frees the reserved blocks no write reached (they would stay allocated, invisible, until
    /// the file is truncated). Harmless when nothing is reserved. Blocks past the end are freed
    /// by a punched hole on some filesystems (tmpfs) and only by a truncation to the current length
    /// on others (ext4, XFS ignore a hole past the end); the truncation moves mtime and ctime, as
    /// the bytes this writer stored would have anyway.
    public func releaseReservation() {
        guard let end = reservedEnd else { return }
        reservedEnd = nil
        // From the real end, if someone else has grown the file into the reserved span meanwhile.
        guard canReserve, let current = try? identity().size else { return }
        let from = max(size, current)
        guard end > from else { return }
        _ = cposix_fallocate(descriptor, CPOSIX_SPACE_RELEASE, Int64(from), Int64(end - from))
        _ = ftruncate(descriptor, off_t(current))
    }

    /// Copies `bytes` to file offset `offset`, which with `bytes.count` must lie within the file
    /// or the reservation; raises the length first when the bytes run past it.
    /// Throws `.changedWhileReading` if someone truncated the file under us (the write faulted).
    public func write(_ bytes: UnsafeRawBufferPointer, at offset: UInt64) throws(FileAccessError) {
        guard !bytes.isEmpty else { return }
        let end = offset + UInt64(bytes.count)
        precondition(end <= UInt64(region.count), "write beyond the mapped and reserved span")
        if end > size { try extend(to: end) }
        let start = Int(offset)
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

    /// Raises the length to `end` (never lowers it), just before bytes are stored up to there.
    private func extend(to end: UInt64) throws(FileAccessError) {
        let current = try identity().size
        // Truncated under us: regrowing would turn the lost bytes into a hole of zeros.
        guard current >= size else { throw .changedWhileReading }
        if current < end {
            // Over reserved blocks this allocates nothing; it only moves the length.
            let failed = canReserve
                ? cposix_fallocate(descriptor, CPOSIX_SPACE_EXTEND, Int64(current), Int64(end - current)) != 0
                : ftruncate(descriptor, off_t(end)) != 0
            if failed { throw FileAccessError(errno: errno) }
            grew = true
        }
        size = end
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
                throw FileAccessError(errno: errno)
            }
        }
        if grew {
            guard fdatasync(descriptor) == 0 else { throw FileAccessError(errno: errno) }
        }
        futimens(descriptor, nil)
        touched = nil
        grew = false
        defer { written = 0 }
        return written
    }
}
