import Synchronization

/// Writable files kept open and mapped between PATCHes, one per path, least recently used
/// first out beyond `capacity` (each holds a descriptor).
///
/// A file is used only by the holder of its `WriteQueue` turn, so the dictionary is the only
/// shared state; the objects themselves are never used by two threads at once.
public final class WritableFiles: Sendable {
    private struct Entry: @unchecked Sendable {
        let file: WritableFile
        var lastUse: UInt64
    }

    private let root: FileRoot
    private let capacity: Int
    private let entries = Mutex<(files: [PathKey: Entry], clock: UInt64)>(([:], 0))

    public init(root: FileRoot, capacity: Int = 64) {
        self.root = root
        self.capacity = capacity
    }

    /// The writable file at `relativePath`, reused if it still is the same file. Call only while
    /// holding the path's write turn.
    public func file(_ relativePath: String) throws(FileAccessError) -> WritableFile {
        let current = try root.status(of: relativePath)
        if current.isDirectory { throw .isDirectory }
        guard current.isRegularFile else { throw .notFound }
        if let cached = cached(relativePath), try cached.refresh(against: current) {
            put(cached, at: relativePath)
            return cached
        }
        let file = try WritableFile(root: root, relativePath: relativePath)
        put(file, at: relativePath)
        return file
    }

    private func cached(_ path: String) -> WritableFile? {
        entries.withLock { $0.files[PathKey(path)]?.file }
    }

    private func put(_ file: WritableFile, at path: String) {
        let evicted = entries.withLock { state -> WritableFile? in
            state.clock += 1
            state.files[PathKey(path)] = Entry(file: file, lastUse: state.clock)
            guard state.files.count > capacity,
                  let oldest = state.files.min(by: { $0.value.lastUse < $1.value.lastUse })?.key else { return nil }
            return state.files.removeValue(forKey: oldest)?.file
        }
        _ = evicted  // closed and unmapped here, outside the lock, if no writer still holds it
    }
}
