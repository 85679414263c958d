import HTTPSemantics
import MappedFiles
import MicroHTTP

extension PatchTurn {
    /// A resize PATCH (`Content-Range: bytes */N`, no body) holding its file's turn: once the
    /// request is complete it sets the length off the network threads, makes it durable, and
    /// answers 204 through the PATCH's own commit (group flush) (new validators; pool and line indexes told).
    ///
    /// Growth is bounded like a PATCH body: a resize extends the file by at most `--max-body-bytes`
    /// bytes, since its zeros take real blocks.
    func resize(_ file: WritableFile, to length: UInt64) -> Disposition {
        let limit = patches.maxBodyBytes
        if length > file.size, length - file.size > limit {
            return .respond(
                fail(
                    ProblemDetails.contentTooLarge(
                        "The resize would grow the file by \(length - file.size) bytes; this server grows a file by at most \(limit) per request."
                    )))
        }
        let file = HandOff(file)
        return .receiveBody(
            NoBodyThen(detail: PatchForm.resizeBodyDetail, cancel: release) { resumption in
                do throws(FileAccessError) {
                    try file.value.resize(to: length)
                } catch {
                    resumption.answer(self.fail(error))
                    return
                }
                self.commit(file.value, answer: resumption)
            })
    }
}
