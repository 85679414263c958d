import ConfinedPaths
import Dispatch
import Glibc
import HTTPSemantics
import MappedFiles
import MicroHTTP

/// PUT on `/files/<path>`: creates or replaces the file with the body, atomically and durably
/// (docs/PATCH.md, "PUT and DELETE").
///
/// The body streams into a temporary beside the target (`Upload`), never into memory; once
/// complete it is fsynced, renamed over the target and the directory fsynced, off the network
/// threads, and only then answered: 201 when the file is new, 204 when it replaced one, with the
/// new validators. Readers of the old version keep their mappings of the old inode, which lives
/// until its last reader is done; GETs after the answer see the new one.
///
/// Order of checks: token (in `AccessControl`) → writable server (405, in Routes) → headers
/// (a `Content-Range` 400, a content coding 415, a declared length over the limit 413) → the
/// entry (outside the root 404, missing parent 409) → the entry's turns (`EntryTurn`) → what has
/// the name (a directory 409) → preconditions (412) → space for a declared length (507) → body.
struct FilePuts: Sendable {
    let writes: FileWrites
    /// Permissions of a file PUT creates (one it replaces keeps its own).
    let newFileMode: mode_t

    func begin(_ request: Request, file: FileTarget) -> Disposition {
        guard !file.isDirectory else { return .respond(Response.problem(.conflict("A PUT cannot replace a directory."))) }
        // RFC 9110 §14.5: a partial PUT must be refused, not applied as a whole-file write.
        guard request.header("Content-Range") == nil else {
            return .respond(
                Response.problem(.badRequest("A PUT replaces the whole file and takes no Content-Range; write a part with PATCH.")))
        }
        if let coding = request.header("Content-Encoding"), coding.lowercased() != "identity" {
            return .respond(
                Response.problem(
                    .unsupportedMediaType(
                        "A PUT body with Content-Encoding '\(coding.prefix(64))' would be stored still encoded; send it unencoded.")))
        }
        let limit = writes.maxBodyBytes
        if let declared = request.declaredBodyLength, declared > limit {
            return .respond(
                Response.problem(.contentTooLarge("The body is \(declared) bytes; this server accepts at most \(limit) in a PUT.")))
        }
        let turn: EntryTurn
        do throws(ResolvedEntry.Failure) {
            turn = try writes.turn(for: file.path)
        } catch {
            return .respond(Response.problem(for: error))
        }
        return turn.start(
            PutWrite(
                puts: self, path: file.path, conditions: ConditionalHeaders(writing: request),
                declaredLength: request.declaredBodyLength))
    }
}

/// One PUT once its turns are held: checks what has the name and the preconditions, then
/// receives the body into an `Upload`.
final class PutWrite: EntryWrite {
    private let puts: FilePuts
    private let path: RelativePath
    private let conditions: ConditionalHeaders
    private let declaredLength: UInt64?

    init(puts: FilePuts, path: RelativePath, conditions: ConditionalHeaders, declaredLength: UInt64?) {
        self.puts = puts
        self.path = path
        self.conditions = conditions
        self.declaredLength = declaredLength
    }

    func proceed(_ turn: EntryTurn, existing: (identity: FileIdentity, raw: stat)?) -> Disposition {
        do {
            if let existing, !existing.identity.isRegularFile {
                throw existing.identity.isDirectory
                    ? ProblemDetails.conflict("A directory has this name; a PUT cannot replace it.")
                    : ProblemDetails.conflict("Something other than a regular file has this name; a PUT does not replace it.")
            }
            try puts.writes.check(conditions, against: existing?.identity)
            let upload = try Upload(entry: turn.entry)
            if let declaredLength {
                do throws(FileAccessError) {
                    try upload.reserve(declaredLength)
                } catch {
                    upload.discard()
                    throw error
                }
            }
            return .receiveBody(PutBody(puts: puts, turn: turn, upload: upload, path: path, replacing: existing != nil))
        } catch {
            turn.release()
            return .respond(Response.problem(forThrown: error))
        }
    }
}

/// The body of a PUT, gathered in batches on the network thread and appended to the temporary by
/// a worker while the connection is paused (as `StreamingPatch` copies into a mapping), so a
/// write that waits for the disk never stalls a network thread; on its end the commit (fsync,
/// rename, directory fsync) runs on a worker too. Every way out discards the temporary unless it
/// became the file.
///
/// Touched by the network thread and by the worker, never at once: the worker runs only while
/// the connection is suspended, and the resume orders the two.
final class PutBody: BodyReceiver, @unchecked Sendable {
    /// Where appends and commits run: never a network thread.
    private static let workers = DispatchQueue(label: "mmapd.put", attributes: .concurrent)

    private let puts: FilePuts
    private let turn: EntryTurn
    private let upload: Upload
    private let path: RelativePath
    private let replacing: Bool
    private var batch: [UInt8] = []
    /// A worker's failed append, answered at the next call.
    private var failure: FileAccessError?

    init(puts: FilePuts, turn: EntryTurn, upload: Upload, path: RelativePath, replacing: Bool) {
        self.puts = puts
        self.turn = turn
        self.upload = upload
        self.path = path
        self.replacing = replacing
    }

    func receive(_ chunk: UnsafeRawBufferPointer) -> BodyStep {
        if let failure { return .stop(fail(failure)) }
        let limit = puts.writes.maxBodyBytes
        guard upload.written + UInt64(batch.count + chunk.count) <= limit else {
            return .stop(fail(ProblemDetails.contentTooLarge("The body exceeds \(limit) bytes, the most this server accepts in a PUT.")))
        }
        batch.append(contentsOf: chunk)
        guard batch.count >= StreamingPatch.batchBytes else { return .more }
        return .pause { [self] resumption in
            Self.workers.async { [self] in
                appendBatch()
                // Shut down meanwhile: the request ended without telling this receiver.
                if !resumption.proceed() { abandon() }
            }
        }
    }

    func finish() -> BodyEnd {
        if let failure { return .respond(fail(failure)) }
        return .later { [self] resumption in
            Self.workers.async { [self] in
                appendBatch()
                resumption.answer(failure.map(fail) ?? commit())
            }
        }
    }

    func abandon() {
        upload.discard()
        turn.release()
    }

    private func appendBatch() {
        do throws(FileAccessError) {
            try batch.withUnsafeBytes { bytes in Result { () throws(FileAccessError) in try upload.append(bytes) } }.get()
        } catch {
            failure = error
        }
        batch.removeAll(keepingCapacity: true)
    }

    /// The temporary becomes the file; the turn is given back whatever happens.
    private func commit() -> Response {
        defer { turn.release() }
        do throws(FileAccessError) {
            // The target's permissions as they are now, just before it is replaced.
            let current = try turn.entry.status().flatMap { $0.identity.isRegularFile ? $0 : nil }
            let (old, identity) = (current?.identity.key, try upload.commit(mode: puts.newFileMode, replacing: current?.raw))
            puts.writes.metrics.putBytes.increment(by: Int64(upload.written))
            let validators = puts.writes.replaced(path, old: old, by: identity)
            return Response(status: replacing ? 204 : 201, headers: validators.headers)
        } catch {
            upload.discard()
            return Response.problem(for: error)
        }
    }

    private func fail(_ error: any Error) -> Response {
        upload.discard()
        turn.release()
        return Response.problem(forThrown: error)
    }
}
