import Dispatch
import Glibc
import SystemPackage

/// The kernel's change notifications (inotify) for open files: one instance for the whole
/// server, read by a dispatch source on one serial queue, so a thousand watched files cost one
/// descriptor and no thread of their own, and nothing polls.
///
/// A file is watched through its open descriptor (`/proc/self/fd/N`), so the watch is on exactly
/// the inode that was opened, whatever its path names by then. Each batch of events read is
/// handed to `handler` with the watches it touched (once each, however many events came):
/// bytes written (IN_MODIFY, also a truncation), metadata changed (IN_ATTRIB: a link count that
/// drops when the file is deleted or renamed over), the file renamed away (IN_MOVE_SELF). When
/// the kernel's queue overflowed, `handler` gets `nil`: anything may have changed.
///
/// Writes through a shared mapping raise no event: mmapd's own PATCHes announce themselves.
public final class FileWatcher: Sendable {
    /// A watch descriptor: the same for every watch of one inode.
    public typealias Watch = Int32

    private let descriptor: Int32
    /// Dispatch sources are thread-safe; the protocol type just does not say so.
    nonisolated(unsafe) private let source: DispatchSourceRead

    static let events = UInt32(IN_MODIFY | IN_ATTRIB | IN_MOVE_SELF | IN_DELETE_SELF)

    /// - Parameter queue: a serial queue; `handler` runs on it.
    public init(queue: DispatchQueue, handler: @escaping @Sendable (Set<Watch>?) -> Void) throws(FileAccessError) {
        let descriptor = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard descriptor >= 0 else { throw FileAccessError(errno: errno) }
        self.descriptor = descriptor
        source = DispatchSource.makeReadSource(fileDescriptor: descriptor, queue: queue)
        source.setEventHandler { Self.drain(descriptor, into: handler) }
        source.setCancelHandler { close(descriptor) }
        source.resume()
    }

    deinit { source.cancel() }

    /// Watches the file open as `fd`; the same watch for an inode watched already.
    public func watch(_ fd: FileDescriptor) throws(FileAccessError) -> Watch {
        let watch = inotify_add_watch(descriptor, "/proc/self/fd/\(fd.rawValue)", Self.events)
        guard watch >= 0 else { throw FileAccessError(errno: errno) }
        return watch
    }

    /// Stops watching (harmless for a watch the kernel already dropped).
    public func unwatch(_ watch: Watch) {
        _ = inotify_rm_watch(descriptor, watch)
    }

    /// Reads every pending event; the touched watches, or nil after an overflow.
    private static func drain(_ descriptor: Int32, into handler: @Sendable (Set<Watch>?) -> Void) {
        var touched: Set<Watch> = []
        var overflowed = false
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            guard count > 0 else { break }
            buffer.withUnsafeBytes { bytes in
                var offset = 0
                while offset + MemoryLayout<inotify_event>.size <= count {
                    let event = bytes.loadUnaligned(fromByteOffset: offset, as: inotify_event.self)
                    if event.mask & UInt32(IN_Q_OVERFLOW) != 0 { overflowed = true }
                    if event.wd >= 0, event.mask & UInt32(IN_IGNORED) == 0 { touched.insert(event.wd) }
                    offset += MemoryLayout<inotify_event>.size + Int(event.len)
                }
            }
        }
        if overflowed { handler(nil) } else if !touched.isEmpty { handler(touched) }
    }
}
