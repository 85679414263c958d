import ByteSearch
import ConfinedPaths
import HTTPSemantics
import MappedFiles
import MicroHTTP

/// GET `/files/<path>?follow=true`: the file as it grows, like `tail -f`, chunked: from the
/// current end, from byte `offset`, or from the start of the last `lines=-N` lines.
///
/// The 200 carries `Mmapd-Follow-Offset`, the file offset of the body's first byte, so a client
/// whose stream was cut resumes exactly with `offset=` that plus the bytes it got. The stream
/// ends cleanly (terminating chunk) when the file is truncated, replaced or deleted, or at
/// shutdown; it is cut (no terminating chunk) when its client leaves bytes waiting untaken for
/// `--stream-stall-seconds`. Finding the last lines reads the file, so the start runs off the
/// network threads.
struct FileFollows: Sendable {
    let followers: Followers
    let indexes: LineIndexes

    static let offsetHeader = "Mmapd-Follow-Offset"

    func begin(_ request: Request, file: FileTarget, parameters: FileViewParameters) -> Disposition {
        guard let slot = followers.slots.reserve() else {
            return .respond(Response.problem(followers.slots.refusal, headers: [("Retry-After", "5")]))
        }
        let stream = FollowStream(followers: followers, slot: slot)
        let (followers, indexes, path) = (self.followers, self.indexes, file.path)
        let contentType = MediaType.contentType(forFileName: String(file.path.lastSegment))
        return .deferred {
            let followed: FollowedFile
            let identity: FileIdentity
            do throws(FollowRefusal) {
                (followed, identity) = try followers.follow(path, by: stream)
            } catch {
                return Response.problem(error.problem)
            }
            let size = Int64(identity.size)
            let start: Int64
            switch (parameters.offset, parameters.lines) {
            case (let offset?, _):
                guard offset <= size else {
                    followers.leave(stream, file: followed)
                    return Response.problem(
                        .rangeNotSatisfiable("The offset \(offset) lies past the end of this \(size)-byte file."),
                        headers: [("Content-Range", "bytes */\(size)")])
                }
                start = offset
            case (nil, .last(let count)?):
                do throws(FileAccessError) {
                    start = try Self.startOfLast(count, of: followed, identity: identity, path: path, indexes: indexes)
                } catch {
                    followers.leave(stream, file: followed)
                    return Response.problem(error.problem)
                }
            default:
                start = size
            }
            let body = PulledBody(source: stream, stallAllowance: followers.slots.pace.stallTimeout)
            stream.start(followed, at: start) { [weak body] in body?.wake() }
            return Response(
                status: 200,
                headers: [
                    ("Content-Type", contentType), ("Cache-Control", "no-store"), ("Accept-Ranges", "none"),
                    // Proxies that buffer answers (nginx) would hold a follow stream back.
                    ("X-Accel-Buffering", "no"), (Self.offsetHeader, String(start))
                ], body: .pulled(body))
        }
    }

    /// Where the last `count` lines begin (memrchr back from the end: only their bytes are read).
    private static func startOfLast(
        _ count: Int, of file: FollowedFile, identity: FileIdentity, path: RelativePath,
        indexes: LineIndexes
    ) throws(FileAccessError) -> Int64 {
        let region = try MappedRegion.reading(file.descriptor)
        let indexed = LineIndexes.File(path: path, device: identity.device, inode: identity.inode)
        do {
            return Int64(try indexes.tail(count, numbered: false, of: indexed, in: region.bytes)?.bytes.lowerBound ?? 0)
        } catch {
            throw .changedWhileReading
        }
    }
}
