import MappedFiles
import Synchronization

/// A counter per file (device and inode) bumped by every write this server makes, so two
/// PATCHes within one clock tick still produce two ETags.
final class WriteGenerations: Sendable {
    private struct FileKey: Hashable {
        let device: UInt64
        let inode: UInt64
    }

    private let counters = Mutex<[FileKey: UInt64]>([:])

    func current(_ identity: FileIdentity) -> UInt64 {
        counters.withLock { $0[FileKey(device: identity.device, inode: identity.inode)] ?? 0 }
    }

    func bump(_ identity: FileIdentity) {
        counters.withLock { $0[FileKey(device: identity.device, inode: identity.inode), default: 0] += 1 }
    }
}
