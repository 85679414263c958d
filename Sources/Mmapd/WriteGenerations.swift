import MappedFiles
import Synchronization

/// A counter per file (device and inode) bumped by every write this server makes, so two
/// PATCHes within one clock tick still produce two ETags.
final class WriteGenerations: Sendable {
    private let counters = Mutex<[FileKey: UInt64]>([:])
    /// Set by the first write: until then (every read-only server) a GET takes no lock here.
    private let anyWrites = Atomic<Bool>(false)

    func current(_ identity: FileIdentity) -> UInt64 {
        guard anyWrites.load(ordering: .acquiring) else { return 0 }
        return counters.withLock { $0[identity.key] ?? 0 }
    }

    func bump(_ identity: FileIdentity) {
        counters.withLock { $0[identity.key, default: 0] += 1 }
        anyWrites.store(true, ordering: .releasing)
    }
}
