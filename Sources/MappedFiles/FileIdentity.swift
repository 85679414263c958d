import Glibc

/// What we know of a file from one stat: enough to tell whether a cached mapping still shows the
/// file's bytes and to build a validator that changes whenever the bytes may have changed.
public struct FileIdentity: Sendable, Hashable {
    public let device: UInt64
    public let inode: UInt64
    public let size: UInt64
    /// Nanoseconds since the epoch; a rewrite within the same second still changes it.
    public let modified: Int64
    /// ctime moves on every content or metadata change, also when a writer restores mtime.
    public let changed: Int64
    public let isDirectory: Bool
    public let isRegularFile: Bool

    init(_ status: stat) {
        device = UInt64(status.st_dev)
        inode = UInt64(status.st_ino)
        size = UInt64(max(0, status.st_size))
        modified = Int64(status.st_mtim.tv_sec) * 1_000_000_000 + Int64(status.st_mtim.tv_nsec)
        changed = Int64(status.st_ctim.tv_sec) * 1_000_000_000 + Int64(status.st_ctim.tv_nsec)
        let kind = status.st_mode & S_IFMT
        isDirectory = kind == S_IFDIR
        isRegularFile = kind == S_IFREG
    }

    /// A mapping made for `self` still shows `other`'s bytes when it is the same file at the same
    /// size: shared mappings see every write through the page cache, so only a replacement or a
    /// size change needs a new mapping.
    func mappingStillValid(for other: FileIdentity) -> Bool {
        device == other.device && inode == other.inode && size == other.size
    }

    public var modifiedSeconds: Int64 { modified / 1_000_000_000 }

    /// Which file this is, whatever path (hard link, symlink) it was reached by.
    public var key: FileKey { FileKey(device: device, inode: inode) }
}

/// A file's identity on this machine: device and inode. Everything kept per file rather than
/// per path (the write turn, the open writable file, the write generation) is keyed by this,
/// because two paths (a hard link, a symlink inside the root) can name one file.
public struct FileKey: Hashable, Sendable {
    public let device: UInt64
    public let inode: UInt64

    public init(device: UInt64, inode: UInt64) {
        self.device = device
        self.inode = inode
    }
}
