import ConfinedPaths
import Glibc
import MappedFiles
import Synchronization
import SystemPackage

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
/// bytes may be read while a PATCH through mmapd is writing to it (past it, the length may be
/// raised before the bytes are copied in, so a read there could return zeros the PATCH has not
/// written yet).
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
    let descriptor: FileDescriptor
    /// The path it was opened by: rotation is a path that no longer names this inode.
    let path: RelativePath
    let watch: FileWatcher.Watch
    /// While a PATCH is writing (``writeSpans`` odd): bytes below this offset may be read.
    let readableEnd: Atomic<Int64>
    /// Counts the starts and ends of PATCH writes through mmapd: odd while one is under way. A
    /// reader that sees the same even count before and after taking the file's size knows that
    /// no write had raised the length then (see ``stableEnd()``).
    let writeSpans: Atomic<UInt64>
    /// The size at the last look (``measure()``): a smaller one later is a truncation.
    private let lastSize: Mutex<Int64>
    let followers = Mutex<[ObjectIdentifier: any Follower]>([:])

    /// `writingEnd`: set when a PATCH is writing to the file now, the end of its bytes before it.
    init(key: Key, descriptor: FileDescriptor, path: RelativePath, watch: FileWatcher.Watch, size: Int64, writingEnd: Int64?) {
        self.key = key
        self.descriptor = descriptor
        self.path = path
        self.watch = watch
        self.lastSize = Mutex(size)
        self.readableEnd = Atomic(writingEnd ?? size)
        self.writeSpans = Atomic(writingEnd == nil ? 0 : 1)
    }

    deinit { try? descriptor.close() }

    /// The end below which every byte may be read now, or nil when the file cannot be looked
    /// at: the file's size, or during a PATCH the end before it.
    ///
    /// Checking ``readableEnd`` and then reading is not enough: a PATCH may begin in between,
    /// raise the length and leave zeros where its bytes will go. So the size is taken between
    /// two loads of ``writeSpans``, and only trusted when they agree (a seqlock's read side).
    /// A PATCH announces itself before it changes the length, so a size that shows its change
    /// comes with a count that shows its start. Retries happen only when a PATCH began or ended
    /// during the `fstat`, a few microseconds.
    func stableEnd() -> Int64? {
        while true {
            let before = writeSpans.load(ordering: .acquiring)
            let end: Int64
            if before & 1 == 1 {
                end = readableEnd.load(ordering: .acquiring)
            } else {
                var status = stat()
                guard fstat(descriptor.rawValue, &status) == 0 else { return nil }
                end = Int64(status.st_size)
            }
            // The size's load, inside the kernel, comes before the second look at the count.
            atomicMemoryFence(ordering: .acquiring)
            if writeSpans.load(ordering: .acquiring) == before { return end }
        }
    }

    /// Copies up to `buffer.count` bytes from `offset`, never past ``stableEnd()``: the count
    /// (0 at the end), or -1 on a read error.
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) -> Int {
        guard let end = stableEnd() else { return -1 }
        let room = min(Int64(buffer.count), end - offset)
        guard room > 0 else { return 0 }
        while true {
            let count = pread(descriptor.rawValue, buffer.baseAddress, Int(room), off_t(offset))
            if count >= 0 || errno != EINTR { return count }
        }
    }

    /// The size now and whether the file shrank since the last measure, or nil when it cannot be
    /// looked at. Looks come from the inotify thread and from PATCH threads at once, so the size
    /// is taken and compared under the lock (an `fstat` of an open descriptor, microseconds):
    /// looks are then ordered as their sizes were taken, and a look holding a stale size cannot
    /// mistake a later look's larger one for a truncation.
    func measure() -> (size: Int64, shrank: Bool)? {
        lastSize.withLock { last in
            guard let status = try? FileRoot.status(of: descriptor) else { return nil }
            let size = Int64(status.size)
            defer { last = size }
            return (size, size < last)
        }
    }

    var snapshot: [any Follower] { followers.withLock { Array($0.values) } }
}
