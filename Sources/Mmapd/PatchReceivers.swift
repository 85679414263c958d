import HTTPSemantics
import MappedFiles
import MicroHTTP

/// The raw form with a declared length, streamed: chunks are gathered into a batch on the
/// network thread (a copy into ordinary memory), and each full batch is stored in the file
/// by a worker while the connection is paused, so a multi-gigabyte PATCH never sits in memory
/// and a copy that faults, waits for the journal or is throttled for dirty pages never stalls a
/// network thread. The range was checked and the blocks reserved before the first chunk; the
/// file grows only as far as the bytes copied, and a PATCH that ends any other way than complete
/// gives the rest of the reservation back.
///
/// The receiver is touched by the network thread and by the worker, never at once: the worker
/// runs only while the connection is suspended, and the resume orders the two.
final class StreamingPatch: BodyReceiver, @unchecked Sendable {
    /// Bytes gathered before a copy: large enough that the pause per batch is rare, small enough
    /// to hold one per file being written.
    static let batchBytes = 512 << 10

    private let turn: PatchTurn
    private let file: WritableFile
    /// Where the next batch goes.
    private var offset: UInt64
    private let end: UInt64
    private var batch: [UInt8] = []
    /// A worker's failed copy, answered at the next call.
    private var failure: FileAccessError?

    init(turn: PatchTurn, file: WritableFile, offset: UInt64, length: UInt64) {
        self.turn = turn
        self.file = file
        self.offset = offset
        self.end = offset + length
        batch.reserveCapacity(Int(min(length, UInt64(Self.batchBytes + (64 << 10)))))
    }

    func receive(_ chunk: UnsafeRawBufferPointer) -> BodyStep {
        if let failure { return .stop(fail(failure)) }
        guard offset + UInt64(batch.count + chunk.count) <= end else {
            return .stop(fail(ProblemDetails.badRequest("The body is longer than the Content-Range.")))
        }
        batch.append(contentsOf: chunk)
        guard batch.count >= Self.batchBytes else { return .more }
        return .pause { [self] resumption in
            turn.patches.workers.async { [self] in
                copyBatch()
                // Shut down meanwhile: the request ended without telling this receiver.
                if !resumption.proceed() { abandon() }
            }
        }
    }

    func finish() -> BodyEnd {
        if let failure { return .respond(fail(failure)) }
        guard offset + UInt64(batch.count) == end else {
            return .respond(fail(ProblemDetails.badRequest("The body is shorter than the Content-Range.")))
        }
        return .later { [self] resumption in
            turn.patches.workers.async { [self] in
                copyBatch()
                if let failure { resumption.answer(fail(failure)) } else { turn.commit(file, answer: resumption) }
            }
        }
    }

    func abandon() {
        file.releaseReservation()
        turn.release()
    }

    private func copyBatch() {
        do throws(FileAccessError) {
            try batch.withUnsafeBytes { bytes in
                Result { () throws(FileAccessError) in try file.write(bytes, at: offset) }
            }.get()
            offset += UInt64(batch.count)
        } catch {
            failure = error
        }
        batch.removeAll(keepingCapacity: true)
    }

    private func fail(_ error: any Error) -> Response {
        file.releaseReservation()
        return turn.fail(error)
    }
}

/// message/byterange, multipart/byteranges, and raw bodies of unknown length (chunked): held in
/// memory up to a limit, validated whole, then applied all together by a worker (the parse and
/// the copies, up to `--max-buffered-body-bytes`, stay off the network thread). A rejection
/// writes nothing.
final class BufferedPatch: BodyReceiver, @unchecked Sendable {
    private let turn: PatchTurn
    private let file: WritableFile
    private let limit: UInt64
    private var body: [UInt8] = []

    init(turn: PatchTurn, file: WritableFile, limit: UInt64) {
        self.turn = turn
        self.file = file
        self.limit = limit
    }

    func receive(_ chunk: UnsafeRawBufferPointer) -> BodyStep {
        guard UInt64(body.count + chunk.count) <= limit else {
            return .stop(
                turn.fail(
                    ProblemDetails.contentTooLarge("The body exceeds \(limit) bytes, the most this server holds for this form of PATCH.")))
        }
        body.append(contentsOf: chunk)
        return .more
    }

    func finish() -> BodyEnd {
        .later { [self] resumption in
            turn.patches.workers.async { [self] in
                do {
                    try apply()
                    turn.commit(file, answer: resumption)
                } catch {
                    file.releaseReservation()
                    resumption.answer(turn.fail(error))
                }
            }
        }
    }

    /// Throws the body's problem (`ProblemDetails`) or the file's (`FileAccessError`).
    private func apply() throws {
        let plan = try PatchPlan(try PatchBody.parts(of: body, form: turn.form), currentSize: file.size)
        try file.reserve(upTo: plan.finalSize)
        try body.withUnsafeBytes { bytes in
            for write in plan.writes {
                try file.write(UnsafeRawBufferPointer(rebasing: bytes[write.data]), at: write.start)
            }
        }
    }

    func abandon() { turn.release() }
}
