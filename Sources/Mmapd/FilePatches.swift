import ByteSearch
import ConfinedPaths
import Dispatch
import Glibc
import HTTPSemantics
import MappedFiles
import MicroHTTP

/// PATCH on `/files/<path>`: byte-range writes in place (`WritableFile`), durable before
/// the 204 (see docs/PATCH.md for exactly what an acknowledged PATCH guarantees).
///
/// Order of checks: token (401/403, in `AccessControl`, before anything about the file) → writable
/// server (405, in Routes) → body
/// form and size (400/413/415) → wait for the file's write turn → file exists (404) →
/// preconditions (412) → ranges against the current size (416) → space (507) → write, flush, 204.
struct FilePatches: Sendable {
    let writableFiles: WritableFileCache
    /// Told about every write, so that GETs see it at once (see `MappingPool.expire`).
    let pool: MappingPool
    let queue: WriteQueue<FileKey>
    let generations: WriteGenerations
    /// Told where every write starts, so that line checkpoints above it are dropped.
    let lineIndexes: LineIndexes
    /// Told when a write begins and ends: follow streams read no byte of it before all its bytes
    /// are in the file, and are woken as soon as they are (before the group flush, as GETs see
    /// them: docs/PATCH.md).
    let followers: Followers
    let writable: Bool
    let maxBodyBytes: UInt64
    let maxBufferedBodyBytes: UInt64
    let metrics: ServiceMetrics
    /// Where bodies are stored and flushed, with their connections suspended.
    let workers = DispatchQueue(label: "mmapd.patch", attributes: .concurrent)

    func begin(_ request: Request, file: FileTarget) -> Disposition {
        guard !file.isDirectory else { return .respond(Response.problem(.notFound())) }
        guard request.headerCount("Content-Range") <= 1 else {
            return .respond(Response.problem(.badRequest("The request has more than one Content-Range header.")))
        }
        if let coding = request.header("Content-Encoding"), coding.lowercased() != "identity" {
            return .respond(
                Response.problem(
                    .unsupportedMediaType(
                        "A PATCH body with Content-Encoding '\(coding.prefix(64))' would be written still encoded; send it unencoded.")))
        }
        let form: PatchForm
        do {
            form = try PatchForm(contentType: request.header("Content-Type"), contentRange: request.header("Content-Range"))
        } catch {
            return .respond(Response.problem(error))
        }
        // Never from the Content-Length field itself: a transfer-coded body has no declared length.
        let declared = request.declaredBodyLength
        let limit: UInt64
        if case .contentRange(_, let length, _) = form {
            if let declared, declared != length {
                return .respond(Response.problem(.badRequest("The body is \(declared) bytes but the Content-Range names \(length) bytes.")))
            }
            // Streamed when its length is declared; a chunked body must be held whole to be
            // checked before writing, so it gets the in-memory limit.
            limit = declared == nil ? min(maxBodyBytes, maxBufferedBodyBytes) : maxBodyBytes
            if length > limit { return .respond(Self.tooLarge(length, limit)) }
        } else if case .resize = form {
            if let declared, declared > 0 { return .respond(Response.problem(.badRequest(PatchForm.resizeBodyDetail))) }
            limit = 0
        } else {
            limit = maxBufferedBodyBytes
        }
        if let declared, declared > limit { return .respond(Self.tooLarge(declared, limit)) }
        let conditions = ConditionalHeaders(writing: request)
        return .waitForTurn(
            PatchTurn(
                patches: self, path: file.path, key: writableFiles.key(of: file.path),
                form: form, conditions: conditions,
                streamedLength: declared == nil ? nil : form.rawLength, bufferLimit: limit))
    }

    static func tooLarge(_ size: UInt64, _ limit: UInt64) -> Response {
        Response.problem(.contentTooLarge("The body is \(size) bytes; this server accepts at most \(limit) for this form of PATCH."))
    }
}

extension PatchForm {
    /// The raw form's body length, known before the body arrives.
    var rawLength: UInt64? {
        if case .contentRange(_, let length, _) = self { return length }
        return nil
    }
}

/// A PATCH waiting for, then holding, its file's write turn. Every path out of it (answer sent,
/// client gone) releases the turn exactly once.
///
/// The turn belongs to the file, not the path: it is asked for under the file the path names
/// (device and inode, from a status of the path), and once granted, the file opened (confined)
/// must be that file; if the path was pointed elsewhere in between, the PATCH gives the turn back
/// and waits for the new file's. A path that names nothing waits for nothing and is answered 404.
final class PatchTurn: Turn, @unchecked Sendable {
    let patches: FilePatches
    let path: RelativePath
    /// The file whose turn is asked for; nil when the path named no file.
    private var key: FileKey?
    /// The turn this PATCH holds, from its grant until `release`.
    private var held: FileKey?
    let form: PatchForm
    let conditions: ConditionalHeaders
    /// Set when the raw body's length is declared up front: stream it straight into the file.
    let streamedLength: UInt64?
    let bufferLimit: UInt64
    /// The file being written, once the turn came: followers were told (`Followers.writeBegan`).
    private var writing: FileIdentity?
    /// The file's size when the turn came: a write that leaves it shorter rewrote its end.
    private var sizeAtStart: UInt64?

    init(
        patches: FilePatches, path: RelativePath, key: FileKey?, form: PatchForm, conditions: ConditionalHeaders,
        streamedLength: UInt64?, bufferLimit: UInt64
    ) {
        self.patches = patches
        self.path = path
        self.key = key
        self.form = form
        self.conditions = conditions
        self.streamedLength = streamedLength
        self.bufferLimit = bufferLimit
    }

    func takeIfFree() -> Bool {
        guard let key else { return true }
        guard patches.queue.takeIfFree(key) else { return false }
        held = key
        return true
    }

    func enqueue(grant: @escaping @Sendable () -> Void) {
        guard let key else { return grant() }
        patches.queue.enqueue(key) { [self] in
            held = key
            grant()
        }
    }

    func abandoned() { release() }

    func release() {
        guard let turn = held else { return }
        held = nil
        if let writing {
            self.writing = nil
            patches.followers.writeEnded(writing)
        }
        patches.queue.release(turn)
    }

    func granted() -> Disposition {
        do {
            let file = try patches.writableFiles.file(path)
            guard file.key == held else {
                // The path names another file than when the turn was asked for: wait for that one's.
                release()
                key = file.key
                return .waitForTurn(self)
            }
            sizeAtStart = file.size
            let identity = try file.identity()
            patches.followers.writeBegan(identity)
            writing = identity
            let validators = Validators(identity, generation: patches.generations.current(identity))
            if ConditionalRequest.evaluate(conditions, isSafe: false, current: validators, now: Int64(time(nil))) != .proceed {
                throw ProblemDetails.preconditionFailed(
                    "The file changed: its validators no longer satisfy If-Match / If-Unmodified-Since.")
            }
            if case .resize(let length) = form {
                return resize(file, to: length)
            }
            if case .contentRange(let start, let length, let complete) = form, let streamedLength {
                let plan = try PatchPlan(
                    [PatchPart(start: start, data: 0..<Int(streamedLength), completeLength: complete)],
                    currentSize: file.size)
                try file.reserve(upTo: plan.finalSize)
                return .receiveBody(StreamingPatch(turn: self, file: file, offset: start, length: length))
            }
            return .receiveBody(BufferedPatch(turn: self, file: file, limit: bufferLimit))
        } catch {
            release()
            return .respond(Response.problem(forThrown: error))
        }
    }

    /// The PATCH's bytes are all in the file: makes them visible as a new version (ETag,
    /// write generation, caches told), takes the validators for the 204, and gives the turn to
    /// the next writer before waiting for the flush (group commit, `GroupFlush`): the next
    /// writer's If-Match sees this version, and its copy overlaps this one's flush. The 204 goes
    /// out after a flush that began after the copy; a failed flush answers 500 or 507 instead. Runs on
    /// a worker.
    func commit(_ file: WritableFile, answer resumption: Resumption) {
        let response: Response
        do throws(FileAccessError) {
            response = try publish(file)
        } catch {
            release()
            resumption.answer(Response.problem(for: error))
            return
        }
        release()
        let started = ContinuousClock.now
        let metrics = patches.metrics
        file.flusher.flush { outcome in
            metrics.flushDuration.record(ContinuousClock.now - started)
            switch outcome {
            case .success: resumption.answer(response)
            case .failure(let error): resumption.answer(Response.problem(Self.flushFailed(error)))
            }
        }
    }

    /// A flush that failed: unlike every other refusal, the bytes are already in the file (and
    /// visible to readers); only their survival is not promised.
    static func flushFailed(_ error: FileAccessError) -> ProblemDetails {
        let detail = "The write is in the file but not durable: flushing it to storage failed"
        if error == .noSpace { return .insufficientStorage("\(detail) (no space left on the device).") }
        guard case .system(let code) = error else { return .internalServerError("\(detail).") }
        return .internalServerError("\(detail) (\(code)).")
    }

    /// Under the turn: the new version's validators, with every cache about the old bytes told.
    private func publish(_ file: WritableFile) throws(FileAccessError) -> Response {
        let (touched, written) = file.finishWrites()
        let shrunk = sizeAtStart.map { file.size < $0 } == true ? Int(file.size) : nil
        if let from = [touched?.lowerBound, shrunk].compactMap({ $0 }).min() {
            patches.lineIndexes.rewrote(path: path, from: from)
        }
        patches.metrics.patchBytes.increment(by: Int64(written))
        // pwrite moved the modification time already: one status serves the bump and the answer.
        let identity = try file.identity()
        patches.generations.bump(identity)
        patches.pool.expire(path)
        return Response(status: 204, headers: Validators(identity, generation: patches.generations.current(identity)).headers)
    }

    /// A failed PATCH answer, releasing the turn: a rule's problem, or a storage error's
    /// (`Response.problem(forThrown:)`).
    func fail(_ error: any Error) -> Response {
        release()
        return Response.problem(forThrown: error)
    }
}
