import CMicroHTTPD
import Glibc
import Synchronization

/// Builds libmicrohttpd responses from `Response` values without copying borrowed memory, or,
/// with `guarded` (TLS), copying it block by block under the fault guard (`GuardedCopyReader`).
///
/// The owner of a `.borrowed`, `.pieces` or `.prepared` body is not retained by the response: the
/// caller holds it until the request's completion callback (`Request.holding`), after which
/// libmicrohttpd no longer reads the body.
enum MHDResponse {
    static func make(_ response: Response, guarded: Bool) -> OpaquePointer? {
        let made: OpaquePointer?
        switch response.body {
        case .prepared(let prepared, let owner):
            var plain = prepared.described(owner: owner, extraHeaders: response.headers)
            plain.shared = response.shared
            return make(plain, guarded: guarded)
        case .borrowed(let buffer, _) where guarded:
            made = makeGuarded(GuardedCopyReader(pieces: [.borrowed(buffer)]))
        case .pieces(let pieces, _) where guarded:
            made = makeGuarded(GuardedCopyReader(pieces: pieces))
        case .empty, .bytes([]):
            made = MHD_create_response_from_buffer(0, nil, .RESPMEM_PERSISTENT)
        case .bytes(let bytes):
            made = bytes.withUnsafeBytes { buffer in
                MHD_create_response_from_buffer(
                    buffer.count, UnsafeMutableRawPointer(mutating: buffer.baseAddress),
                    .RESPMEM_MUST_COPY)
            }
        case .borrowed(let buffer, _):
            // The owner is the caller's to hold until the request completes (`Request.holding`).
            made = MHD_create_response_from_buffer(
                buffer.count, UnsafeMutableRawPointer(mutating: buffer.baseAddress),
                .RESPMEM_PERSISTENT)
        case .file(let file, let offset, let count):
            guard let descriptor = file.take() else { return nil }
            made = MHD_create_response_from_fd_at_offset64(UInt64(count), descriptor, offset)
            if made == nil { close(descriptor) }
        case .stream(let body):
            let context = retain(body)
            made = MHD_create_response_from_callback(UInt64.max /* MHD_SIZE_UNKNOWN */, 64 * 1024, readStream, context, releaseStream)
            if made == nil { releaseStream(context) }
        case .pulled(let body):
            let context = retain(body)
            made = MHD_create_response_from_callback(UInt64.max /* MHD_SIZE_UNKNOWN */, 64 * 1024, readPulled, context, releasePulled)
            if made == nil { releasePulled(context) }
        case .pieces(let pieces, _):
            let storage = IovecStorage(pieces: pieces)
            let context = retain(storage)
            made = storage.vectors.withUnsafeBufferPointer { vectors in
                MHD_create_response_from_iovec(vectors.baseAddress, UInt32(vectors.count), releaseOwner, context)
            }
            if made == nil { releaseOwner(context) }
        }
        guard let made else { return nil }
        response.shared?.add(to: made)
        addHeaders(response.headers, to: made)
        return made
    }

    /// Explicit `withCString`: the implicit String-to-pointer conversion of two arguments went
    /// through `utf8CString`, two heap arrays per header, visible in a range GET's profile.
    static func addHeaders(_ headers: [(name: String, value: String)], to response: OpaquePointer) {
        for (name, value) in headers {
            name.withCString { name in
                value.withCString { value in _ = MHD_add_response_header(response, name, value) }
            }
        }
    }

    /// A body of one block is copied now (its head and body then leave in one turn); a larger
    /// one, or one whose pages are gone, through the reader (which then meets the fault and
    /// closes the connection, as for a file truncated during a long answer).
    private static func makeGuarded(_ reader: GuardedCopyReader) -> OpaquePointer? {
        if reader.count <= GuardedCopyReader.maximumBlock, let copy = reader.copiedWhole() {
            let made = MHD_create_response_from_buffer_with_free_callback(copy.count, copy.baseAddress, free)
            if made == nil { free(copy.baseAddress) }
            return made
        }
        let context = retain(reader)
        let made = MHD_create_response_from_callback(UInt64(reader.count), reader.blockSize, readGuarded, context, releaseOwner)
        if made == nil { releaseOwner(context) }
        return made
    }

    private static let readGuarded: MHD_ContentReaderCallback = { context, position, buffer, capacity in
        let reader = Unmanaged<GuardedCopyReader>.fromOpaque(context!).takeUnretainedValue()
        return reader.read(at: Int(position), into: UnsafeMutableRawBufferPointer(start: buffer, count: capacity))
    }

    private static let readStream: MHD_ContentReaderCallback = { context, _, buffer, capacity in
        let body = Unmanaged<StreamingBody>.fromOpaque(context!).takeUnretainedValue()
        let count = body.read(into: UnsafeMutableRawBufferPointer(start: buffer, count: capacity))
        switch count {
        case -2: return -2  // MHD_CONTENT_READER_END_WITH_ERROR: close the connection
        case ..<0: return -1  // MHD_CONTENT_READER_END_OF_STREAM
        default: return count
        }
    }

    private static let releaseStream: @convention(c) (UnsafeMutableRawPointer?) -> Void = { context in
        guard let context else { return }
        let body = Unmanaged<StreamingBody>.fromOpaque(context).takeRetainedValue()
        body.cancel()
    }

    private static let readPulled: MHD_ContentReaderCallback = { context, _, buffer, capacity in
        let body = Unmanaged<PulledBody>.fromOpaque(context!).takeUnretainedValue()
        return body.read(into: UnsafeMutableRawBufferPointer(start: buffer, count: capacity))
    }

    private static let releasePulled: @convention(c) (UnsafeMutableRawPointer?) -> Void = { context in
        guard let context else { return }
        Unmanaged<PulledBody>.fromOpaque(context).takeRetainedValue().release()
    }

    private static func retain(_ owner: AnyObject) -> UnsafeMutableRawPointer {
        Unmanaged.passRetained(owner).toOpaque()
    }

    private static let releaseOwner: @convention(c) (UnsafeMutableRawPointer?) -> Void = { context in
        guard let context else { return }
        Unmanaged<AnyObject>.fromOpaque(context).release()
    }
}

/// Counts the zero-copy responses whose memory libmicrohttpd still holds. It returns to zero once
/// every response has been sent or dropped: the "leases in use" gauge, and the proof in tests
/// that no aborted download keeps a mapping alive.
public final class LeaseTracker: Sendable {
    private let count = Atomic<Int>(0)
    public init() {}
    public var held: Int { count.load(ordering: .relaxed) }

    func acquire() { count.add(1, ordering: .relaxed) }
    func release() { count.subtract(1, ordering: .relaxed) }
}

/// The generated parts of an iovec body, in one allocation, freed by libmicrohttpd's callback.
private final class IovecStorage {
    let vectors: [MHD_IoVec]
    private let generated: UnsafeMutableRawBufferPointer

    init(pieces: [Response.Piece]) {
        var generatedCount = 0
        for case .bytes(let bytes) in pieces { generatedCount += bytes.count }
        // One block for every generated piece: a multipart answer costs one allocation, not one per part.
        generated = .allocate(byteCount: max(generatedCount, 1), alignment: 1)
        var cursor = 0
        var vectors: [MHD_IoVec] = []
        vectors.reserveCapacity(pieces.count)
        for piece in pieces {
            switch piece {
            case .bytes(let bytes) where bytes.isEmpty:
                continue
            case .bytes(let bytes):
                let destination = generated.baseAddress! + cursor
                bytes.withUnsafeBytes { destination.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
                vectors.append(MHD_IoVec(iov_base: UnsafeRawPointer(destination), iov_len: bytes.count))
                cursor += bytes.count
            case .borrowed(let buffer):
                vectors.append(MHD_IoVec(iov_base: buffer.baseAddress, iov_len: buffer.count))
            }
        }
        self.vectors = vectors
    }

    deinit { generated.deallocate() }
}
