import ConfinedPaths
import Glibc
import HTTPSemantics
import MappedFiles
import MicroHTTP

/// What a PUT or a DELETE does once it holds the turns of the entry it replaces or removes.
protocol EntryWrite: AnyObject {
    /// Runs on the network thread with the turns held; `existing` is the entry's status now
    /// (nil: nothing has the name). Every way out must end in `turn.release()`, at once or when
    /// the request ends.
    func proceed(_ turn: EntryTurn, existing: (identity: FileIdentity, raw: stat)?) -> Disposition
}

/// The write turns of a PUT or DELETE, taken in one fixed order so that no two writers can wait
/// for each other:
///
/// 1. the **entry turn**, keyed by the entry's canonical path (`ResolvedEntry`): a file that
///    does not exist yet has no inode to queue on, so two creators of one name queue on the name,
///    and two paths that reach the same entry (a symlinked directory) on the same key;
/// 2. then, when a regular file has the name, the **file turn** (device and inode) that every
///    PATCH of it takes, by whatever path: a PUT or DELETE waits for the PATCH in progress, and
///    the next PATCH waits for it. If the name was pointed at another file while it waited (by
///    another process), it gives that turn back and waits for the new file's.
///
/// A PATCH takes only the file turn, never an entry turn, so the order entry → file is the only
/// one in which turns are ever nested. Preconditions are evaluated by `EntryWrite.proceed`, with
/// both turns held: two racing `If-None-Match: *` creators are served one after the other, and
/// the second finds the file the first made.
final class EntryTurn: Turn, @unchecked Sendable {
    let entry: ResolvedEntry
    private let entries: WriteQueue<RelativePath>
    private let files: WriteQueue<FileKey>
    private var write: (any EntryWrite)?
    /// The turn queued for and not yet come, if any.
    private enum Awaited {
        case entry
        case file(FileKey)
        case none
    }
    private var awaited = Awaited.entry
    private var holdsEntry = false
    private var heldFile: FileKey?
    private var released = false

    init(entry: ResolvedEntry, entries: WriteQueue<RelativePath>, files: WriteQueue<FileKey>) {
        self.entry = entry
        self.entries = entries
        self.files = files
    }

    /// Queues for the turns; `write` proceeds once they are held.
    func start(_ write: any EntryWrite) -> Disposition {
        self.write = write
        return .waitForTurn(self)
    }

    func takeIfFree() -> Bool {
        switch awaited {
        case .entry: entries.takeIfFree(entry.canonicalPath)
        case .file(let key): files.takeIfFree(key)
        case .none: preconditionFailure("queued with nothing to wait for")
        }
    }

    func enqueue(grant: @escaping @Sendable () -> Void) {
        switch awaited {
        case .entry: entries.enqueue(entry.canonicalPath, grant: grant)
        case .file(let key): files.enqueue(key, grant: grant)
        case .none: preconditionFailure("queued with nothing to wait for")
        }
    }

    func granted() -> Disposition {
        arrived()
        let existing: (identity: FileIdentity, raw: stat)?
        do throws(FileAccessError) {
            existing = try entry.status()
        } catch {
            release()
            return .respond(Response.problem(for: error))
        }
        let file = existing.flatMap { $0.identity.isRegularFile ? $0.identity.key : nil }
        if file != heldFile {
            // The name leads to another file than the turn held, or to none now.
            if let held = heldFile {
                heldFile = nil
                files.release(held)
            }
            if let file {
                awaited = .file(file)
                return .waitForTurn(self)
            }
        }
        return write!.proceed(self, existing: existing)
    }

    /// The awaited turn came but the request is gone: give everything back.
    func abandoned() {
        arrived()
        release()
    }

    private func arrived() {
        switch awaited {
        case .entry: holdsEntry = true
        case .file(let key): heldFile = key
        case .none: break
        }
        awaited = .none
    }

    /// Gives back every turn held, once; also lets go of the writer.
    func release() {
        guard !released else { return }
        released = true
        write = nil
        if let heldFile { files.release(heldFile) }
        if holdsEntry { entries.release(entry.canonicalPath) }
    }
}
