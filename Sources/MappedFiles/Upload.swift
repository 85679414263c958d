import CPOSIXShim
import Glibc
import SystemPackage

/// The new content of a PUT, written to a temporary file beside its target and renamed over it
/// once complete (see `TemporaryUploads` for the name and its lock): until `commit`, the target
/// is untouched, so readers see the old version whole, and a refused or broken upload leaves
/// nothing behind but what `discard` (or, after a crash, the sweep at start) removes.
///
/// Used by one request at a time, the holder of the entry's write turn.
public final class Upload {
    public let entry: ResolvedEntry
    private let descriptor: FileDescriptor
    private let temporaryName: String
    public private(set) var written: UInt64 = 0
    private var open = true

    /// Creates the temporary, locked against the sweep of another process, in `entry`'s directory.
    public init(entry: ResolvedEntry) throws(FileAccessError) {
        self.entry = entry
        while true {
            let name = TemporaryUploads.freshName()
            let fd = openat(entry.directory.rawValue, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            guard fd >= 0 else {
                if errno == EEXIST { continue }
                throw errno == EACCES || errno == EPERM || errno == EROFS ? .notWritable : FileAccessError(errno: errno)
            }
            // Another process's sweep may have taken the name between the create and the lock:
            // keep the file only if the name still leads to it once it is locked.
            var mine = stat()
            var named = stat()
            if flock(fd, LOCK_EX) == 0, fstat(fd, &mine) == 0, fstatat(entry.directory.rawValue, name, &named, AT_SYMLINK_NOFOLLOW) == 0,
                mine.st_ino == named.st_ino, mine.st_dev == named.st_dev
            {
                descriptor = FileDescriptor(rawValue: fd)
                temporaryName = name
                return
            }
            close(fd)
        }
    }

    deinit { discard() }

    /// Reserves the blocks of a body of known length before its first byte, so that a full disk
    /// is refused up front (507) rather than halfway. A filesystem without fallocate reserves nothing.
    public func reserve(_ length: UInt64) throws(FileAccessError) {
        guard length > 0 else { return }
        guard length <= UInt64(Int64.max) else { throw .system(.fileTooLarge) }
        if cposix_fallocate(descriptor.rawValue, CPOSIX_SPACE_RESERVE_BEYOND_END, 0, Int64(length)) != 0, errno != EOPNOTSUPP {
            throw FileAccessError(errno: errno)
        }
    }

    /// Appends `bytes` to the temporary.
    public func append(_ bytes: UnsafeRawBufferPointer) throws(FileAccessError) {
        try writeAll(bytes, to: descriptor)
        written += UInt64(bytes.count)
    }

    /// Makes the upload the file: the permissions and owner of `replacing` (the target's status
    /// now, nil when there is none) or else `mode`, the bytes on stable storage (fsync), the
    /// rename over the target, and the rename on stable storage (fsync of the directory).
    /// Returns the new file's identity. On failure the target is as it was, unless only the last
    /// fsync failed (the rename is then done but not known durable).
    public func commit(mode: mode_t, replacing: stat?) throws(FileAccessError) -> FileIdentity {
        guard open else { throw .system(.badFileDescriptor) }
        if let replacing {
            // Owner first: chown clears the set-user-ID and set-group-ID bits that chmod restores.
            // Only root may give a file away; anyone else's upload keeps its own owner.
            if replacing.st_uid != geteuid() || replacing.st_gid != getegid() {
                _ = fchown(descriptor.rawValue, replacing.st_uid, replacing.st_gid)
            }
            guard fchmod(descriptor.rawValue, replacing.st_mode & 0o7777) == 0 else { throw FileAccessError(errno: errno) }
        } else {
            guard fchmod(descriptor.rawValue, mode) == 0 else { throw FileAccessError(errno: errno) }
        }
        guard fsync(descriptor.rawValue) == 0 else { throw FileAccessError(errno: errno) }
        guard renameat(entry.directory.rawValue, temporaryName, entry.directory.rawValue, entry.name) == 0 else {
            throw FileAccessError(errno: errno)
        }
        let identity = try FileRoot.status(of: descriptor)
        try? descriptor.close()
        open = false
        guard fsync(entry.directory.rawValue) == 0 else { throw FileAccessError(errno: errno) }
        return identity
    }

    /// Removes the temporary (nothing once committed). Also what deinit does.
    public func discard() {
        guard open else { return }
        open = false
        unlinkat(entry.directory.rawValue, temporaryName, 0)
        try? descriptor.close()
    }
}
