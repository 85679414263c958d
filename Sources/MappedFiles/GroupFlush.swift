import Synchronization

/// Group commit for one file. A writer whose bytes are in the mapping asks for a flush and is
/// told its outcome once a flush that *began after it asked* has finished; one flush serves
/// every writer waiting when it begins, and writers that arrive while it runs share the next.
/// So with N writers in flight a file sees about one fdatasync per round instead of N, and the
/// writers' turn on the file is free while they wait (see docs/PATCH.md, durability).
///
/// One flush runs at a time per file, on the thread of the writer that found none running (a
/// worker, never a network thread): the lone writer flushes on its own thread, with no hand-off
/// to another queue and back, and while others wait that thread runs their rounds too.
public final class GroupFlush: Sendable {
    public typealias Outcome = Result<Void, FileAccessError>
    public typealias Done = @Sendable (Outcome) -> Void

    private struct State {
        /// Writers that asked so far; a writer's number is its place in that count.
        var asked: UInt64 = 0
        var waiting: [(number: UInt64, done: Done)] = []
        var running = false
    }

    private let state = Mutex(State())
    private let sync: @Sendable () throws(FileAccessError) -> Void

    /// `sync` makes every byte stored so far durable (fdatasync).
    public init(sync: @escaping @Sendable () throws(FileAccessError) -> Void) {
        self.sync = sync
    }

    /// Call once the write's bytes are stored: `done` runs after a flush that began after this
    /// call, with that flush's outcome. If no flush is running, this call runs flush rounds
    /// itself until nobody waits, so it may block for as long as writers keep arriving: never
    /// call it on a network thread.
    public func flush(_ done: @escaping Done) {
        let start = state.withLock { state -> Bool in
            state.asked += 1
            state.waiting.append((state.asked, done))
            guard !state.running else { return false }
            state.running = true
            return true
        }
        if start { run() }
    }

    /// Flush rounds until nobody waits.
    private func run() {
        while true {
            // Everyone who asked up to here stored their bytes before this flush begins.
            let covered = state.withLock { $0.asked }
            let outcome: Outcome
            do throws(FileAccessError) {
                try sync()
                outcome = .success(())
            } catch {
                outcome = .failure(error)
            }
            let (finished, more) = state.withLock { state -> ([Done], Bool) in
                // A failed flush fails everyone waiting, not only those it covered: their pages
                // may have been in the writeback that failed, and Linux reports a writeback error
                // to one fsync per descriptor only, so the next flush could pass without them.
                let failed = if case .failure = outcome { true } else { false }
                let split = failed ? state.waiting.count : state.waiting.firstIndex { $0.number > covered } ?? state.waiting.count
                let finished = state.waiting[..<split].map(\.done)
                state.waiting.removeFirst(split)
                state.running = !state.waiting.isEmpty
                return (finished, state.running)
            }
            finished.forEach { $0(outcome) }
            guard more else { return }
        }
    }
}
