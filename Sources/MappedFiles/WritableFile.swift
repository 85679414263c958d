import CPOSIXShim
import Dispatch
import Glibc
import SystemPackage

/// A file opened for writing through a shared read-write mapping, for one writer at a time
/// (the `WriteQueue` turn holder).
///
/// Readers map the same file read-only; both mappings share the page cache, so a reader sees a
/// write as soon as it is copied in. Durability comes from `flusher`: one fdatasync, shared by
/// the writers waiting for it. On Linux that alone writes back the pages stored through the
/// mapping (a shared writable mapping of a file that can be written back tracks its dirty pages
/// in the page cache, by write faults) and the new length; msync(MS_SYNC) would be the same
/// call again (mm/msync.c calls vfs_fsync_range(..., datasync: 1) over its range).
///
/// Growth never runs ahead of the bytes: `reserve` allocates blocks past the end without
/// changing the length (FALLOC_FL_KEEP_SIZE) and maps room to grow into, and each `write` raises
/// the length only to the end of the bytes it stores. A PATCH cut short or refused therefore
/// leaves the file at most as long as what was really written, and gives the unused blocks back.
public final class WritableFile {
    private let owner: OwnedDescriptor
    public var descriptor: Int32 { owner.fd }
    /// Group commit of this file's writes (it keeps the descriptor open while a flush runs).
    public let flusher: GroupFlush
    /// Where flushes run: never a network thread.
    static let flushes = DispatchQueue(label: "mmapd.flush", attributes: .concurrent)
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
    private var touched: Range<Int>?
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
        } catch {
            close(fd)
            throw error
        }
        let owner = OwnedDescriptor(fd)
        self.owner = owner
        flusher = GroupFlush(queue: Self.flushes) { () throws(FileAccessError) in try owner.sync() }
    }

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
        // Writes of a PATCH that failed before it finished were never promised: forget their span
        // (it may lie beyond a file truncated since). Every flush is a whole-file fdatasync, so
        // nothing else needs remembering.
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
        }
        size = end
    }

    /// Sets the length to `length` (a resize PATCH): truncates, or extends with zero bytes whose
    /// blocks are allocated now, so a full disk fails here (507) and later overwrites of them need
    /// no new blocks. Without fallocate the extension is a hole, as `ftruncate` makes. Our mapping
    /// is remade at the new length; readers keep their own mappings of the old one, and a read of
    /// theirs past the new end faults into its guard. the caller's flush (`sync` or `flusher`) then makes the length durable.
    public func resize(to length: UInt64) throws(FileAccessError) {
        guard length <= UInt64(Int64.max) else { throw .system(.fileTooLarge) }
        releaseReservation()
        let current = try identity().size
        if length > current, canReserve, cposix_fallocate(descriptor, CPOSIX_SPACE_EXTEND, Int64(current), Int64(length - current)) != 0 {
            guard errno == EOPNOTSUPP else { throw FileAccessError(errno: errno) }
            canReserve = false
        }
        if length < current || (length > current && !canReserve) {
            guard ftruncate(descriptor, off_t(length)) == 0 else { throw FileAccessError(errno: errno) }
        }
        size = length
        // Writes before the resize were flushed by their own PATCH; none is pending here.
        touched = nil
        region = try MappedRegion(fd: descriptor, identity: try identity(), writable: true)
    }

    /// Makes every byte stored so far durable, at once and alone (writers share `flusher`).
    public func sync() throws(FileAccessError) { try owner.sync() }

    /// Ends one PATCH's writes, before its flush: sets the modification time (stores through a
    /// mapping update it lazily, and the ETag must move now) and returns the span and the number
    /// of bytes written since the previous call.
    public func finishWrites() -> (span: Range<Int>?, bytes: Int) {
        futimens(descriptor, nil)
        defer {
            touched = nil
            written = 0
        }
        return (touched, written)
    }
}

/// A descriptor closed when its last holder lets go: the writable file, or a flush still running
/// after the file left the cache.
final class OwnedDescriptor: Sendable {
    let fd: Int32
    init(_ fd: Int32) { self.fd = fd }
    deinit { close(fd) }

    /// fdatasync: the file's bytes, including those stored through a mapping, and its length.
    func sync() throws(FileAccessError) {
        guard fdatasync(fd) == 0 else { throw FileAccessError(errno: errno) }
    }
}
