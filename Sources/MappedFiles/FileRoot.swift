import CPOSIXShim
import Glibc
import SystemPackage

/// The directory every request is confined to. Paths are opened relative to a descriptor of it
/// with openat2(RESOLVE_BENEATH), so the kernel, not string checks, decides what is inside: `..`,
/// absolute symlinks and symlinks whose target leaves the root all fail to resolve.
public final class FileRoot: Sendable {
    public let descriptor: FileDescriptor
    public let path: String

    /// Opens `path` as the root; fails with a one-line reason an operator can act on.
    public init(path: String) throws(RootError) {
        let fd = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw RootError(reason: "cannot open root directory '\(path)': \(Errno(rawValue: errno))") }
        // Probe openat2 now: on a kernel without it every request would fail later.
        let probe = cposix_open_beneath(fd, ".", O_RDONLY | O_DIRECTORY)
        guard probe >= 0 else {
            let reason = Errno(rawValue: errno)
            close(fd)
            throw RootError(reason: "root confinement needs openat2 (Linux 5.6 or later): \(reason)")
        }
        close(probe)
        descriptor = FileDescriptor(rawValue: fd)
        self.path = path
    }

    deinit { try? descriptor.close() }

    /// Opens a file or directory below the root; `relativePath` must not start with "/".
    public func open(_ relativePath: String, flags: Int32 = O_RDONLY) throws(FileAccessError) -> FileDescriptor {
        // O_NONBLOCK: a FIFO swapped in between stat and open must not hang the thread.
        let fd = cposix_open_beneath(
            descriptor.rawValue, relativePath.isEmpty ? "." : relativePath, flags | O_NONBLOCK | O_NOCTTY)
        guard fd >= 0 else { throw FileAccessError(errno: errno) }
        return FileDescriptor(rawValue: fd)
    }

    /// Cheap revalidation by path (one statx, no descriptor). Following a symlink out of the root
    /// here is harmless for files: a foreign identity never matches a cached mapping, and the open
    /// that follows a mismatch is confined. A directory is confirmed by a confined open, because
    /// callers answer "is a directory" (a redirect) without opening it: a symlink to a directory
    /// outside the root must read as missing, like any other way out.
    public func status(of relativePath: String) throws(FileAccessError) -> FileIdentity {
        var buffer = stat()
        guard fstatat(descriptor.rawValue, relativePath.isEmpty ? "." : relativePath, &buffer, 0) == 0 else {
            throw FileAccessError(errno: errno)
        }
        let identity = FileIdentity(buffer)
        if identity.isDirectory {
            // The confined open must succeed (its error is the answer); only its close may not.
            let directory = try open(relativePath, flags: O_RDONLY | O_DIRECTORY)
            try? directory.close()
        }
        return identity
    }

    /// The identity of an open descriptor.
    public static func status(of fd: FileDescriptor) throws(FileAccessError) -> FileIdentity {
        var buffer = stat()
        guard fstat(fd.rawValue, &buffer) == 0 else { throw FileAccessError(errno: errno) }
        return FileIdentity(buffer)
    }
}

/// Why the root cannot be used; `reason` is one line meant for an operator.
public struct RootError: Error, Sendable, CustomStringConvertible {
    public let reason: String
    public var description: String { reason }
}
