import ConfinedPaths
import Synchronization

/// Writable files kept open between PATCHes, one per file (device and inode, so a hard link and
/// a symlink to one file share its descriptor and its pending flush), least recently
/// used first out beyond `capacity` (each holds a descriptor).
///
/// A file is used only by the holder of its `WriteQueue` turn, so the dictionary is the only
/// shared state; the objects themselves are never used by two threads at once.
public final class WritableFileCache: Sendable {
    private struct Entry: @unchecked Sendable {
        let file: WritableFile
        var lastUse: UInt64
    }

    private let root: FileRoot
    private let capacity: Int
    private let entries = Mutex<(files: [FileKey: Entry], clock: UInt64)>(([:], 0))

    public init(root: FileRoot, capacity: Int = 64) {
        self.root = root
        self.capacity = capacity
    }

    /// Which file `relativePath` names now, to queue for its turn; nil when it names none (the
    /// open under the turn then says why). The cheap status by path, as `file` uses: a symlink
    /// out of the root yields a foreign key, which only queues this writer on a turn nobody
    /// else takes, and the confined open under that turn refuses the path.
    public func key(of relativePath: RelativePath) -> FileKey? {
        try? root.status(of: relativePath.string).key
    }

    /// The writable file at `relativePath`, reused if it is one already open. Call only while
    /// holding the write turn of the file the path names, and check the result's `key`: the path
    /// may have been pointed at another file since the turn was asked for.
    public func file(_ relativePath: RelativePath) throws(FileAccessError) -> WritableFile {
        let current = try root.status(of: relativePath.string)
        if current.isDirectory { throw .isDirectory }
        guard current.isRegularFile else { throw .notRegularFile }
        if let cached = cached(current.key), try cached.refresh(against: current) {
            put(cached)
            return cached
        }
        let file = try WritableFile(root: root, relativePath: relativePath)
        put(file)
        return file
    }

    /// Closes the cached writable file `key` (deleted or replaced), so its blocks are not kept
    /// allocated by our descriptor. Call only while holding the file's write turn.
    public func forget(_ key: FileKey) {
        let dropped = entries.withLock { $0.files.removeValue(forKey: key)?.file }
        _ = dropped  // closed here, outside the lock
    }

    private func cached(_ key: FileKey) -> WritableFile? {
        entries.withLock { $0.files[key]?.file }
    }

    private func put(_ file: WritableFile) {
        let evicted = entries.withLock { state -> WritableFile? in
            state.clock += 1
            state.files[file.key] = Entry(file: file, lastUse: state.clock)
            guard state.files.count > capacity,
                let oldest = state.files.min(by: { $0.value.lastUse < $1.value.lastUse })?.key
            else { return nil }
            return state.files.removeValue(forKey: oldest)?.file
        }
        _ = evicted  // closed here, outside the lock, if no writer still holds it
    }
}
