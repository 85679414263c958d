import Glibc
import MappedFiles
import Synchronization

/// Something following a file as it grows: a `tail -f` byte stream or a follow search.
protocol Follower: AnyObject, Sendable {
    /// The file may hold new bytes (or a write through mmapd finished): look again.
    func fileChanged()
    /// The stream must end, `how` says when.
    func end(_ how: FollowEnd)
    /// The byte offset the follower has reached (-1 before it starts): a file now shorter than
    /// that was truncated under it.
    var position: Int64 { get }
}

enum FollowEnd: Int, Comparable, Sendable {
    /// Renamed away, replaced or deleted: what the file (the old inode, still open) holds is
    /// sent, then the stream ends.
    case afterTheBytes = 1
    /// Truncated (the bytes after the cut are gone) or shutting down: end at once.
    case now = 2

    static func < (a: FollowEnd, b: FollowEnd) -> Bool { a.rawValue < b.rawValue }
}

/// One followed inode, shared by all its followers: the descriptor they read with (so a rotated
/// file stays readable until they have drained it), its inotify watch, and the end up to which
/// bytes may be read while a PATCH through mmapd is writing to it (past it, the blocks may be
/// reserved and the length raised before the bytes are copied in).
final class FollowedFile: Sendable {
    struct Key: Hashable, Sendable {
        let device: UInt64
        let inode: UInt64

        init(_ identity: FileIdentity) {
            device = identity.device
            inode = identity.inode
        }
    }

    let key: Key
    let descriptor: Int32
    /// The path it was opened by: rotation is a path that no longer names this inode.
    let path: String
    let watch: FileWatcher.Watch
    /// Bytes below this offset may be read (`Int64.max` unless a PATCH is writing).
    let readableEnd: Atomic<Int64>
    /// The size at the last look: a smaller one later is a truncation.
    let lastSize: Atomic<Int64>
    let followers = Mutex<[ObjectIdentifier: any Follower]>([:])

    init(key: Key, descriptor: Int32, path: String, watch: FileWatcher.Watch, size: Int64, readableEnd: Int64) {
        self.key = key
        self.descriptor = descriptor
        self.path = path
        self.watch = watch
        self.lastSize = Atomic(size)
        self.readableEnd = Atomic(readableEnd)
    }

    deinit { close(descriptor) }

    /// Copies up to `buffer.count` bytes from `offset`, never past `readableEnd`: the count (0 at
    /// the end), or -1 on a read error.
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) -> Int {
        let room = min(Int64(buffer.count), readableEnd.load(ordering: .acquiring) - offset)
        guard room > 0 else { return 0 }
        while true {
            let count = pread(descriptor, buffer.baseAddress, Int(room), off_t(offset))
            if count >= 0 || errno != EINTR { return count }
        }
    }

    var snapshot: [any Follower] { followers.withLock { Array($0.values) } }
}
