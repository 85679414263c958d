import MicroHTTP
import Synchronization

/// One `tail -f` stream: the bytes of a followed file from a start offset on, read straight from
/// the file into libmicrohttpd's send buffer whenever the socket has room, so nothing is queued
/// per follower however far behind its client is. At the end of the file the connection is
/// suspended until the file changes.
final class FollowStream: PullSource, Follower {
    private struct State {
        var file: FollowedFile?
        var ending: FollowEnd?
        var wake: (@Sendable () -> Void)?
    }

    private let followers: Followers
    private let state = Mutex(State())
    private let offset = Atomic<Int64>(-1)
    /// Held for the stream's life: `--max-followers`.
    private let slot: StreamSlots.Slot

    init(followers: Followers, slot: StreamSlots.Slot) {
        self.followers = followers
        self.slot = slot
    }

    var position: Int64 { offset.load(ordering: .relaxed) }

    /// Starts reading `file` at `offset`; `wake` resumes the stream's connection.
    func start(_ file: FollowedFile, at offset: Int64, wake: @escaping @Sendable () -> Void) {
        state.withLock {
            $0.file = file
            $0.wake = wake
        }
        self.offset.store(offset, ordering: .relaxed)
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) -> PulledBody.Read {
        let (file, ending) = state.withLock { ($0.file, $0.ending) }
        if ending == .now { return .end }
        guard let file else { return .pending }
        let count = file.read(into: buffer, at: position)
        if count > 0 {
            offset.add(Int64(count), ordering: .relaxed)
            return .bytes(count)
        }
        if count < 0 { return .failed }
        return ending == .afterTheBytes ? .end : .pending
    }

    func fileChanged() {
        state.withLock { $0.wake }?()
    }

    func end(_ how: FollowEnd) {
        let wake = state.withLock { state -> (@Sendable () -> Void)? in
            state.ending = max(state.ending ?? how, how)
            return state.wake
        }
        wake?()
    }

    func released() {
        let file = state.withLock { state -> FollowedFile? in
            defer { state.wake = nil }
            return state.file
        }
        if let file { followers.leave(self, file: file) }
    }
}
