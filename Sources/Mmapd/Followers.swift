import ConfinedPaths
import Dispatch
import Glibc
import HTTPSemantics
import MappedFiles
import MicroHTTP
import Synchronization
import SystemPackage

/// Every follow stream of the server (`?follow=true` on /files and /search) and what wakes
/// them: one inotify instance for appends by other processes, and mmapd's own PATCHes, which
/// announce their writes here: followers read none of a write's bytes before all of them are in
/// (the inotify events of its first stores find only the stable end) and are woken when they are.
///
/// Followers of one inode share a ``FollowedFile``. On every change the file is looked at once
/// (one fstat, one stat of its path, on one serial queue): a path that names another file or none
/// is a rotation (followers send what the old file holds, then end), a size below the last one or
/// below a follower's position is a truncation (those followers end at once), anything else wakes
/// the followers, who read the new bytes themselves.
final class Followers: Sendable {
    private struct State {
        var files: [FollowedFile.Key: FollowedFile] = [:]
        var byWatch: [FileWatcher.Watch: FollowedFile] = [:]
        /// PATCHes writing now, per inode: how many, and the size before the first began.
        var writes: [FollowedFile.Key: (count: Int, end: Int64)] = [:]
        var closing = false
    }

    let root: FileRoot
    let slots: StreamSlots
    private let state = Mutex(State())
    private let queue = DispatchQueue(label: "mmapd.followers")
    private let watcher: Mutex<FileWatcher?> = Mutex(nil)

    init(root: FileRoot, limit: Int, pace: ReaderPace) throws(SettingsError) {
        self.root = root
        slots = StreamSlots(
            limit: limit, pace: pace,
            refusal: .serviceUnavailable(
                "\(limit) follow streams are open, the most this server allows (--max-followers); retry later."))
        do {
            let watcher = try FileWatcher(queue: queue) { [weak self] watches in self?.changed(watches) }
            self.watcher.withLock { $0 = watcher }
        } catch {
            throw SettingsError("cannot watch files for follow streams (inotify): \(error)")
        }
    }

    /// Follow streams open now.
    var count: Int { slots.count }

    /// Opens `path` for `follower` and registers it: the shared file and its identity now.
    ///
    /// - Throws: the file's access error (404 and the like), or ``FollowRefusal/shuttingDown``
    ///   once shutdown began.
    func follow(_ path: RelativePath, by follower: any Follower) throws(FollowRefusal) -> (FollowedFile, FileIdentity) {
        let fd: FileDescriptor
        let identity: FileIdentity
        do throws(FileAccessError) {
            fd = try root.open(path.string)
            identity = try FileRoot.status(of: fd)
        } catch {
            throw .file(error)
        }
        guard identity.isRegularFile else {
            try? fd.close()
            throw .file(identity.isDirectory ? .isDirectory : .notFound)
        }
        let key = FollowedFile.Key(identity)
        let registered = state.withLock { state -> Result<FollowedFile, FollowRefusal> in
            guard !state.closing else { return .failure(.shuttingDown) }
            if let file = state.files[key] {
                file.followers.withLock { $0[ObjectIdentifier(follower)] = follower }
                return .success(file)
            }
            // Under the lock (a quick system call, no disk I/O): a watch removed by the last
            // follower of this inode leaving can never be taken for this one's.
            let watch: FileWatcher.Watch
            do throws(FileAccessError) {
                guard let watcher = self.watcher.withLock({ $0 }) else { return .failure(.shuttingDown) }
                watch = try watcher.watch(fd)
            } catch {
                return .failure(.file(error))
            }
            let file = FollowedFile(
                key: key, descriptor: fd, path: path, watch: watch, size: Int64(identity.size),
                writingEnd: state.writes[key]?.end)
            file.followers.withLock { $0[ObjectIdentifier(follower)] = follower }
            state.files[key] = file
            state.byWatch[watch] = file
            return .success(file)
        }
        switch registered {
        case .success(let file):
            if file.descriptor != fd { try? fd.close() }
            return (file, identity)
        case .failure(let refusal):
            try? fd.close()
            throw refusal
        }
    }

    /// `follower` is done with `file`; the last one out stops watching it.
    func leave(_ follower: any Follower, file: FollowedFile) {
        state.withLock { state in
            let empty = file.followers.withLock { followers -> Bool in
                followers[ObjectIdentifier(follower)] = nil
                return followers.isEmpty
            }
            guard empty, state.files[file.key] === file else { return }
            forget(file, in: &state)
        }
    }

    private func forget(_ file: FollowedFile, in state: inout State) {
        state.files[file.key] = nil
        state.byWatch[file.watch] = nil
        watcher.withLock { $0?.unwatch(file.watch) }
    }

    /// A PATCH through mmapd holds the write turn of the file `identity` names: followers read no
    /// further than its current end until ``writeEnded(_:)``. Called before the PATCH changes
    /// the file's length (``FollowedFile/stableEnd()`` relies on that order).
    func writeBegan(_ identity: FileIdentity) {
        let key = FollowedFile.Key(identity)
        state.withLock { state in
            let earlier = state.writes[key]
            let end = earlier.map { min($0.end, Int64(identity.size)) } ?? Int64(identity.size)
            state.writes[key] = ((earlier?.count ?? 0) + 1, end)
            guard let file = state.files[key] else { return }
            // The end first, then the count that tells readers to use it (FollowedFile.stableEnd).
            file.readableEnd.store(end, ordering: .releasing)
            if earlier == nil { file.writeSpans.add(1, ordering: .sequentiallyConsistent) }
        }
    }

    /// The PATCH's bytes are all in the file (or it failed): they may be read, and followers are
    /// woken before its answer goes out, while the group flush makes them durable.
    func writeEnded(_ identity: FileIdentity) {
        let key = FollowedFile.Key(identity)
        let file = state.withLock { state -> FollowedFile? in
            guard let writes = state.writes[key] else { return nil }
            if writes.count > 1 {
                state.writes[key] = (writes.count - 1, writes.end)
                return nil
            }
            state.writes[key] = nil
            state.files[key]?.writeSpans.add(1, ordering: .sequentiallyConsistent)
            return state.files[key]
        }
        if let file { look(at: file) }
    }

    /// Shutdown: every stream ends now, and no new one starts.
    func closeAll() {
        let files = state.withLock { state -> [FollowedFile] in
            state.closing = true
            return Array(state.files.values)
        }
        for file in files {
            for follower in file.snapshot { follower.end(.now) }
        }
    }

    /// inotify said these watches changed (nil: its queue overflowed, so look at everything).
    private func changed(_ watches: Set<FileWatcher.Watch>?) {
        let files = state.withLock { state in
            watches.map { $0.compactMap { state.byWatch[$0] } } ?? Array(state.files.values)
        }
        files.forEach(look)
    }

    /// Rotation, truncation or new bytes: tells each follower which.
    private func look(at file: FollowedFile) {
        let followers = file.snapshot
        // Positions before the size: a follower read only bytes below a size taken earlier, so a
        // position past a size taken later means the file was cut under it. (The other order
        // would take bytes the follower read after the size was taken for a cut.)
        let positions = followers.map(\.position)
        let measured = file.measure()
        let atPath = try? root.status(of: file.path.string)
        guard let measured, let atPath, FollowedFile.Key(atPath) == file.key else {
            state.withLock { state in
                if state.files[file.key] === file { forget(file, in: &state) }
            }
            for follower in followers { follower.end(.afterTheBytes) }
            return
        }
        for (follower, position) in zip(followers, positions) {
            if measured.shrank || position > measured.size { follower.end(.now) } else { follower.fileChanged() }
        }
    }
}

/// Why a follow stream could not start.
enum FollowRefusal: Error {
    case file(FileAccessError)
    case shuttingDown

    var problem: ProblemDetails {
        switch self {
        case .file(let error): error.problem
        case .shuttingDown: .serviceUnavailable("The server is shutting down; retry on a new connection.")
        }
    }
}
