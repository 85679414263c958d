import HTTPSemantics
import MappedFiles
import Synchronization

/// Formatted validators (ETag, Last-Modified) per file identity and write generation.
///
/// Formatting them costs more than the rest of a small GET's own work (profiled: ~10% of a 4 KiB
/// GET), yet they change only when the file does. A lock-protected dictionary hit is far
/// cheaper; the cache is simply emptied when it outgrows its bound.
final class ValidatorCache: Sendable {
    struct Entry: Sendable {
        let validators: Validators
        let headers: [(name: String, value: String)]
    }

    private struct Key: Hashable {
        let identity: FileIdentity
        let generation: UInt64
    }

    private let entries = Mutex<[Key: Entry]>([:])
    private let capacity: Int

    init(capacity: Int = 4096) { self.capacity = capacity }

    func entry(for identity: FileIdentity, generation: UInt64) -> Entry {
        let key = Key(identity: identity, generation: generation)
        if let hit = entries.withLock({ $0[key] }) { return hit }
        let validators = Validators(identity, generation: generation)
        let entry = Entry(validators: validators, headers: validators.headers)
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[key] = entry
        }
        return entry
    }
}
