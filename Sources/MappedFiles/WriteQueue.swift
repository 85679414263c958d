import Synchronization

/// One writer at a time per file, first come first served, without blocking anyone's thread:
/// a request that finds the file busy leaves a callback and is called when its turn comes. The
/// turn is handed straight from one writer to the next, so nobody can slip in between.
///
/// Writes to a file queue by the file (`FileKey`: device and inode), not the path: a hard link or
/// a symlink inside the root names the same file, and must wait in the same queue. PUT and DELETE
/// first queue by directory entry (the canonical `RelativePath`; see `EntryTurn`), since a
/// file about to be created has no inode yet.
public final class WriteQueue<Key: Hashable & Sendable>: Sendable {
    private struct State {
        var busy: Set<Key> = []
        var waiting: [Key: [@Sendable () -> Void]] = [:]
        var waitingCount = 0
    }

    private let state = Mutex(State())

    public init() {}

    /// Writers waiting behind another on their file right now (a metric).
    public var waitingCount: Int { state.withLock { $0.waitingCount } }

    /// Takes `file`'s turn if nobody holds it; false (and nothing queued) otherwise.
    public func takeIfFree(_ file: Key) -> Bool {
        state.withLock { $0.busy.insert(file).inserted }
    }

    /// Calls `grant` once the caller holds `file`'s turn: at once if free, else on release.
    public func enqueue(_ file: Key, grant: @escaping @Sendable () -> Void) {
        let now = state.withLock { state -> Bool in
            if state.busy.insert(file).inserted { return true }
            state.waiting[file, default: []].append(grant)
            state.waitingCount += 1
            return false
        }
        if now { grant() }
    }

    /// Gives up `file`'s turn; the next waiter, if any, gets it.
    public func release(_ file: Key) {
        let next = state.withLock { state -> (@Sendable () -> Void)? in
            guard var queue = state.waiting[file], !queue.isEmpty else {
                state.busy.remove(file)
                state.waiting[file] = nil
                return nil
            }
            let next = queue.removeFirst()
            state.waitingCount -= 1
            state.waiting[file] = queue.isEmpty ? nil : queue
            return next
        }
        next?()
    }
}
