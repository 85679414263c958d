import ConfinedPaths
import Glibc
import HTTPSemantics
import MappedFiles
import MicroHTTP

/// What PUT and DELETE share: their turns, their preconditions, and telling the caches that a
/// path now names another file or none.
struct FileWrites: Sendable {
    let root: FileRoot
    /// Entry turns, by canonical path (see `EntryTurn`).
    let entries: WriteQueue<RelativePath>
    /// File turns: the queue PATCH takes its turns in.
    let files: WriteQueue<FileKey>
    let pool: MappingPool
    let writableFiles: WritableFileCache
    let generations: WriteGenerations
    let maxBodyBytes: UInt64
    let metrics: ServiceMetrics

    /// The turns of the entry `path` names; refuses paths that cannot name one.
    func turn(for path: RelativePath) throws(ResolvedEntry.Failure) -> EntryTurn {
        EntryTurn(entry: try ResolvedEntry(root: root, relativePath: path), entries: entries, files: files)
    }

    /// The preconditions of a write against the file as it is now (`current`; nil: none).
    /// Without a file nothing matches: `If-Match` fails, `If-None-Match` holds.
    func check(_ conditions: ConditionalHeaders, against current: FileIdentity?) throws(ProblemDetails) {
        guard let current else {
            if conditions.ifMatch != nil { throw .preconditionFailed("No file exists at this path, so If-Match cannot hold.") }
            return
        }
        let validators = Validators(current, generation: generations.current(current))
        guard ConditionalRequest.evaluate(conditions, isSafe: false, current: validators, now: Int64(time(nil))) == .proceed else {
            throw .preconditionFailed(
                conditions.ifNoneMatch != nil && conditions.ifMatch == nil
                    ? "The file exists (If-None-Match)."
                    : "The file changed: its validators no longer satisfy If-Match / If-Unmodified-Since.")
        }
    }

    /// `path` now names the file `identity` instead of `old` (a PUT committed): a new
    /// generation, so the ETag moves even if the inode number was reused, and the caches drop the
    /// old file (its readers keep their own mappings). Returns the new file's validators.
    func replaced(_ path: RelativePath, old: FileKey?, by identity: FileIdentity) -> Validators {
        generations.bump(identity)
        forget(path, file: old)
        return Validators(identity, generation: generations.current(identity))
    }

    /// Drops what the caches hold for `path` and the file it named, so a deleted or replaced
    /// file's blocks are freed once its last in-flight reader is done.
    func forget(_ path: RelativePath, file: FileKey?) {
        pool.forget(path)
        if let file { writableFiles.forget(file) }
    }
}

extension ConditionalHeaders {
    /// The preconditions a write honours, from the request.
    init(writing request: Request) {
        self.init(
            ifMatch: request.header("If-Match"), ifNoneMatch: request.header("If-None-Match"),
            ifUnmodifiedSince: request.header("If-Unmodified-Since"))
    }
}
