import CPOSIXShim
import ConfinedPaths
import Glibc
import SystemPackage

/// A file opened for writing, for one writer at a time (the `WriteQueue` turn holder).
///
/// Bytes are stored with pwrite(2) into the page cache that every reader's read-only mapping
/// shares, so a reader sees a write as soon as it is stored. Not through a shared writable
/// mapping, though mmapd began that way: a store through a mapping dirties the whole page-cache
/// folio it lands in, and with large folios (ext4 since Linux 6.16, XFS) a durable 4 KiB PATCH
/// wrote back about 134 KiB and took twice as long as a pwrite, which dirties only the blocks it
/// covers (Benchmarks/README, "Profiles behind the code"). pwrite also moves the modification
/// time at once, as a store through a mapping does only at its first fault after a writeback.
///
/// Durability comes from `flusher`: one fdatasync, shared by the writers waiting for it; it
/// writes back the stored bytes and the new length.
///
/// Growth never runs ahead of the bytes: `reserve` allocates blocks past the end without
/// changing the length (FALLOC_FL_KEEP_SIZE), and each `write` raises the length only to the end
/// of the bytes it stores. A PATCH cut short or refused therefore leaves the file at most as long
/// as what was really written, and gives the unused blocks back.
public final class WritableFile {
    private let owner: OwnedDescriptor
    public var descriptor: FileDescriptor { owner.fd }
    /// Group commit of this file's writes (it keeps the descriptor open while a flush runs).
    public let flusher: GroupFlush
    /// The file opened (device and inode, from the descriptor): what its write turn is keyed by.
    public let key: FileKey
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
    public init(root: FileRoot, relativePath: RelativePath) throws(FileAccessError) {
        let fd: FileDescriptor
        do {
            fd = try root.open(relativePath.string, flags: O_RDWR)
        } catch .permissionDenied, .system(.readOnlyFileSystem), .system(.textFileBusy) {
            // Refused for writing, yet readable: say "not writable" (403), unless it is not a
            // file we would serve at all.
            _ = try root.status(of: relativePath.string)
            throw .notWritable
        }
        do throws(FileAccessError) {
            let identity = try FileRoot.status(of: fd)
            if identity.isDirectory { throw .isDirectory }
            guard identity.isRegularFile else { throw .notRegularFile }
            size = identity.size
            key = identity.key
        } catch {
            try? fd.close()
            throw error
        }
        let owner = OwnedDescriptor(fd)
        self.owner = owner
        flusher = GroupFlush { () throws(FileAccessError) in try owner.sync() }
    }

    /// Brings the known length up to date with the file as `current` describes it (someone else
    /// may have grown or truncated it); false when the path now names another file.
    func refresh(against current: FileIdentity) throws(FileAccessError) -> Bool {
        let mine = try FileRoot.status(of: descriptor)
        guard mine.key == current.key else { return false }
        releaseReservation()
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
    /// before any byte is written), while the length the world sees stays as it is. Call
    /// `releaseReservation` on every way out of the PATCH.
    public func reserve(upTo end: UInt64) throws(FileAccessError) {
        guard end > size else { return }
        guard end <= UInt64(Int64.max) else { throw .system(.fileTooLarge) }
        if canReserve, cposix_fallocate(descriptor.rawValue, CPOSIX_SPACE_RESERVE_BEYOND_END, Int64(size), Int64(end - size)) != 0 {
            let code = errno
            guard code == EOPNOTSUPP else { throw FileAccessError(errno: code) }
            // No reservation on this filesystem: stores allocate their blocks, and a full disk
            // shows as a failed store (507 then too, from the store's ENOSPC).
            canReserve = false
        }
        reservedEnd = end
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
        _ = cposix_fallocate(descriptor.rawValue, CPOSIX_SPACE_RELEASE, Int64(from), Int64(end - from))
        _ = ftruncate(descriptor.rawValue, off_t(current))
    }

    /// Stores `bytes` at file offset `offset`, which with `bytes.count` must lie within the file
    /// or the reservation; raises the length first when the bytes run past it.
    /// Throws `.changedWhileReading` if someone truncated the file under us: storing would regrow
    /// it with a hole of zeros where the lost bytes were. (A truncation between that check and
    /// the pwrite, a window of one system call, still regrows it, as it would any writer's.)
    public func write(_ bytes: UnsafeRawBufferPointer, at offset: UInt64) throws(FileAccessError) {
        guard !bytes.isEmpty else { return }
        let end = offset + UInt64(bytes.count)
        precondition(end <= max(size, reservedEnd ?? 0), "write beyond the file and its reservation")
        let current = try identity().size
        guard current >= min(size, end) else { throw .changedWhileReading }
        if end > current { try extend(from: current, to: end) }
        try writeAll(bytes, to: descriptor, at: offset)
        size = max(size, end)
        let start = Int(offset)
        touched = touched.map { min($0.lowerBound, start)..<max($0.upperBound, start + bytes.count) } ?? start..<(start + bytes.count)
        written += bytes.count
    }

    /// Raises the length from `current` to `end`, just before bytes are stored up to there.
    private func extend(from current: UInt64, to end: UInt64) throws(FileAccessError) {
        // Over reserved blocks this allocates nothing; it only moves the length.
        let failed =
            canReserve
            ? cposix_fallocate(descriptor.rawValue, CPOSIX_SPACE_EXTEND, Int64(current), Int64(end - current)) != 0
            : ftruncate(descriptor.rawValue, off_t(end)) != 0
        if failed { throw FileAccessError(errno: errno) }
    }

    /// Sets the length to `length` (a resize PATCH): truncates, or extends with zero bytes whose
    /// blocks are allocated now, so a full disk fails here (507) and later overwrites of them need
    /// no new blocks. Without fallocate the extension is a hole, as `ftruncate` makes. Readers keep
    /// their own mappings of the old length, and a read of theirs past the new end faults into its
    /// guard. The caller's flush (`sync` or `flusher`) then makes the length durable.
    public func resize(to length: UInt64) throws(FileAccessError) {
        guard length <= UInt64(Int64.max) else { throw .system(.fileTooLarge) }
        releaseReservation()
        let current = try identity().size
        if length > current, canReserve,
            cposix_fallocate(descriptor.rawValue, CPOSIX_SPACE_EXTEND, Int64(current), Int64(length - current)) != 0
        {
            guard errno == EOPNOTSUPP else { throw FileAccessError(errno: errno) }
            canReserve = false
        }
        if length < current || (length > current && !canReserve) {
            guard ftruncate(descriptor.rawValue, off_t(length)) == 0 else { throw FileAccessError(errno: errno) }
        }
        size = length
        // Writes before the resize were flushed by their own PATCH; none is pending here.
        touched = nil
    }

    /// Makes every byte stored so far durable, at once and alone (writers share `flusher`).
    public func sync() throws(FileAccessError) { try owner.sync() }

    /// Ends one PATCH's writes, before its flush: returns the span and the number of bytes
    /// written since the previous call. (No futimens: pwrite moved the modification time, and an
    /// explicit one dirties the inode so that the fdatasync after it costs half as much again:
    /// Benchmarks/README, "Profiles behind the code". Validators move by the write generation.)
    public func finishWrites() -> (span: Range<Int>?, bytes: Int) {
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
    let fd: FileDescriptor
    init(_ fd: FileDescriptor) { self.fd = fd }
    deinit { try? fd.close() }

    /// fdatasync: the file's bytes, including those stored through a mapping, and its length.
    func sync() throws(FileAccessError) {
        guard fdatasync(fd.rawValue) == 0 else { throw FileAccessError(errno: errno) }
    }
}
