import HTTPSemantics
import MappedFiles
import MicroHTTP

/// The raw form with a declared length: each chunk is copied into the mapping as it arrives,
/// so a multi-gigabyte PATCH never sits in memory. The range was checked and the blocks
/// reserved before the first chunk; the file grows only as far as the bytes copied, and a PATCH
/// that ends any other way than complete gives the rest of the reservation back.
final class StreamingPatch: BodyReceiver {
    private let turn: PatchTurn
    private let file: WritableFile
    private var offset: UInt64
    private let end: UInt64

    init(turn: PatchTurn, file: WritableFile, offset: UInt64, length: UInt64) {
        self.turn = turn
        self.file = file
        self.offset = offset
        self.end = offset + length
    }

    func receive(_ chunk: UnsafeRawBufferPointer) -> Response? {
        guard offset + UInt64(chunk.count) <= end else {
            return fail(.badRequest("The body is longer than the Content-Range."))
        }
        do {
            try file.write(chunk, at: offset)
        } catch {
            return fail(error.problem)
        }
        offset += UInt64(chunk.count)
        return nil
    }

    func finish() -> Response {
        guard offset == end else { return fail(.badRequest("The body is shorter than the Content-Range.")) }
        return turn.complete(file)
    }

    func abandon() {
        file.releaseReservation()
        turn.release()
    }

    private func fail(_ problem: ProblemDetails) -> Response {
        file.releaseReservation()
        return turn.fail(problem)
    }
}

/// message/byterange, multipart/byteranges, and raw bodies of unknown length (chunked): held in
/// memory up to a limit, validated whole, then applied all together. A rejection writes nothing.
final class BufferedPatch: BodyReceiver {
    private let turn: PatchTurn
    private let file: WritableFile
    private let limit: UInt64
    private var body: [UInt8] = []

    init(turn: PatchTurn, file: WritableFile, limit: UInt64) {
        self.turn = turn
        self.file = file
        self.limit = limit
    }

    func receive(_ chunk: UnsafeRawBufferPointer) -> Response? {
        guard UInt64(body.count + chunk.count) <= limit else {
            return turn.fail(.contentTooLarge("The body exceeds \(limit) bytes, the most this server holds for this form of PATCH."))
        }
        body.append(contentsOf: chunk)
        return nil
    }

    func finish() -> Response {
        do throws(ProblemDetails) {
            let plan = try PatchPlan(try PatchBody.parts(of: body, form: turn.form), currentSize: file.size)
            try PatchTurn.checked { () throws(FileAccessError) in
                try file.reserve(upTo: plan.finalSize)
                // `withUnsafeBytes` rethrows untyped errors; a Result keeps the error typed.
                try body.withUnsafeBytes { bytes in
                    Result { () throws(FileAccessError) in
                        for write in plan.writes {
                            try file.write(UnsafeRawBufferPointer(rebasing: bytes[write.data]), at: write.start)
                        }
                    }
                }.get()
            }
            return turn.complete(file)
        } catch {
            file.releaseReservation()
            return turn.fail(error)
        }
    }

    func abandon() { turn.release() }
}
