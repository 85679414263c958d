import ConfinedPaths
import Glibc
import HTTPSemantics
import MappedFiles
import MicroHTTP

/// DELETE on `/files/<path>`: removes the file, durably (the directory is fsynced) before the
/// 204. Responses in flight keep their mappings of the removed file, whose blocks are freed when
/// the last of them is done; the pool forgets it at once.
///
/// Order of checks: token → writable server → a body (400: a DELETE carries none) → the entry
/// (404 outside the root or missing parent) → the entry's turns (`EntryTurn`) → what has the
/// name (missing 404, a directory 409) → preconditions (412) → unlink.
struct FileDeletes: Sendable {
    let writes: FileWrites

    func begin(_ request: Request, file: FileTarget) -> Disposition {
        guard !file.isDirectory else { return .respond(Response.problem(.conflict("DELETE removes files, not directories."))) }
        if let declared = request.declaredBodyLength, declared > 0 { return .respond(Response.problem(.badRequest(Self.bodyDetail))) }
        let turn: EntryTurn
        do throws(ResolvedEntry.Failure) {
            turn = try writes.turn(for: file.path)
        } catch {
            // No parent directory: nothing to delete.
            return .respond(error == .missingParent ? Response.problem(.notFound()) : Response.problem(for: error))
        }
        return turn.start(DeleteWrite(writes: writes, path: file.path, conditions: ConditionalHeaders(writing: request)))
    }

    static let bodyDetail = "A DELETE carries no body."
}

/// One DELETE once its turns are held.
final class DeleteWrite: EntryWrite {
    private let writes: FileWrites
    private let path: RelativePath
    private let conditions: ConditionalHeaders

    init(writes: FileWrites, path: RelativePath, conditions: ConditionalHeaders) {
        self.writes = writes
        self.path = path
        self.conditions = conditions
    }

    func proceed(_ turn: EntryTurn, existing: (identity: FileIdentity, raw: stat)?) -> Disposition {
        let file: FileKey
        do throws(ProblemDetails) {
            guard let existing else { throw .notFound() }
            if existing.identity.isDirectory { throw .conflict("DELETE removes files, not directories.") }
            // FIFOs, sockets, devices: nothing this server serves, so nothing it removes.
            guard existing.identity.isRegularFile else { throw .notFound() }
            try writes.check(conditions, against: existing.identity)
            file = existing.identity.key
        } catch {
            turn.release()
            return .respond(Response.problem(error))
        }
        return .receiveBody(
            NoBodyThen(detail: FileDeletes.bodyDetail, cancel: turn.release) { [writes, path] () -> Response in
                defer { turn.release() }
                do throws(FileAccessError) {
                    try turn.entry.remove()
                } catch {
                    return Response.problem(for: error)
                }
                writes.forget(path, file: file)
                return Response(status: 204)
            })
    }
}
