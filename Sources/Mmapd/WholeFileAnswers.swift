import HTTPSemantics
import MappedFiles
import MicroHTTP
import Synchronization

/// What every GET of a file shares until the file changes: its validators, the headers of its
/// answers, and its whole-file 200 and 304 as prepared libmicrohttpd responses.
///
/// Formatting validators and building the libmicrohttpd response with its headers were most of a
/// small GET's own work (Benchmarks/README.md, "Profiles behind the code"), yet both change only
/// when the file does. One entry per mapping, valid while the file's identity and write
/// generation are the ones it was made from; the cache is simply emptied when it outgrows its
/// bound.
final class WholeFileAnswers: Sendable {
    final class Entry: Sendable {
        let validators: Validators
        /// ETag, Last-Modified, Accept-Ranges: the headers of every 200 and 206.
        let headers: [(name: String, value: String)]
        /// `headers` and Content-Type: a whole 200's, and a single-range 206's but Content-Range.
        let typedHeaders: HeaderBlock
        let contentType: String
        let ok: PreparedResponse?
        let notModified: PreparedResponse?
        fileprivate let identity: FileIdentity
        fileprivate let generation: UInt64

        fileprivate init(region: MappedRegion, identity: FileIdentity, generation: UInt64, contentType: String) {
            self.identity = identity
            self.generation = generation
            self.contentType = contentType
            validators = Validators(identity, generation: generation)
            let validatorHeaders = validators.headers
            headers = validatorHeaders + [("Accept-Ranges", "bytes")]
            let typed = headers + [("Content-Type", contentType)]
            typedHeaders = HeaderBlock(typed)
            // The stat of the lease is what the headers promise; the region may be longer only if
            // the file shrank after it was mapped.
            let body = UnsafeRawBufferPointer(rebasing: region.bytes[0..<min(Int(clamping: identity.size), region.count)])
            ok = PreparedResponse(status: 200, headers: typed, body: body)
            // libmicrohttpd gives every response of known size a Content-Length and never sends a
            // 304's body: with the whole file as the (unsent) body, Content-Length is what a 200
            // would say, as RFC 9110 §8.6 requires, instead of a wrong 0.
            notModified = PreparedResponse(status: 304, headers: validatorHeaders, body: body)
        }
    }

    /// By region serial. An entry holds no reference to its region: its prepared responses do not
    /// own the memory they point into, and each request holds the region while it uses them. An
    /// entry whose region is gone is never matched again, since no later region has its serial.
    private let entries = Mutex<[UInt64: Entry]>([:])
    private let capacity: Int

    init(capacity: Int = 4096) { self.capacity = capacity }

    /// The entry for `lease` as it is now; `contentType` is asked only when one must be made.
    func entry(for lease: MappingPool.Lease, generation: UInt64, contentType: () -> String) -> Entry {
        let key = lease.region.serial
        if let hit = entries.withLock({ $0[key] }), hit.identity == lease.identity,
            hit.generation == generation
        {
            return hit
        }
        let entry = Entry(region: lease.region, identity: lease.identity, generation: generation, contentType: contentType())
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[key] = entry
        }
        return entry
    }
}
