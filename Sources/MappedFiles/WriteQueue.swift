import Synchronization

/// One writer at a time per file, first come first served, without blocking anyone's thread:
/// a request that finds the file busy leaves a callback and is called when its turn comes. The
/// turn is handed straight from one writer to the next, so nobody can slip in between.
public final class WriteQueue: Sendable {
    private struct State {
        var busy: Set<PathKey> = []
        var waiting: [PathKey: [@Sendable () -> Void]] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    /// Calls `grant` once the caller holds `path`'s turn: at once if free, else on release.
    public func enqueue(_ path: String, grant: @escaping @Sendable () -> Void) {
        let now = state.withLock { state -> Bool in
            if state.busy.insert(PathKey(path)).inserted { return true }
            state.waiting[PathKey(path), default: []].append(grant)
            return false
        }
        if now { grant() }
    }

    /// Gives up `path`'s turn; the next waiter, if any, gets it.
    public func release(_ path: String) {
        let next = state.withLock { state -> (@Sendable () -> Void)? in
            guard var queue = state.waiting[PathKey(path)], !queue.isEmpty else {
                state.busy.remove(PathKey(path))
                state.waiting[PathKey(path)] = nil
                return nil
            }
            let next = queue.removeFirst()
            state.waiting[PathKey(path)] = queue.isEmpty ? nil : queue
            return next
        }
        next?()
    }
}
