/// A large generated body (a listing, a search's JSON) moved into memory of its own by the worker
/// that produced it, so the network thread queues it without libmicrohttpd's copy.
///
/// libmicrohttpd copies a `.bytes` body when the response is made (`RESPMEM_MUST_COPY`), on the
/// network thread: for a 100,000-entry listing, megabytes of memcpy into fresh pages, each
/// faulted in, while small GETs waited behind it (Benchmarks/README, "Profiles behind the
/// code"). Copied here, on the worker, the body is sent from this memory as a borrowed one, its
/// owner held until the request completes.
final class GeneratedBody: Sendable {
    /// Bodies below this are copied by libmicrohttpd as before: one allocation fewer, and
    /// microseconds of copying.
    static let threshold = 64 * 1024

    nonisolated(unsafe) private let storage: UnsafeMutableRawBufferPointer

    private init(_ bytes: [UInt8]) {
        storage = .allocate(byteCount: bytes.count, alignment: 16)
        storage.copyBytes(from: bytes)
    }

    deinit { storage.deallocate() }

    /// `response` with a large `.bytes` body moved into a `GeneratedBody` (borrowed from it);
    /// any other answer as it is. Call off the network threads.
    static func detached(_ response: Response) -> Response {
        guard case .bytes(let bytes) = response.body, bytes.count >= threshold else { return response }
        let owner = GeneratedBody(bytes)
        var moved = response
        moved.body = .borrowed(UnsafeRawBufferPointer(owner.storage), owner: owner)
        return moved
    }
}
