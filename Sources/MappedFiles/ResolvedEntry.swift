import CPOSIXShim
import ConfinedPaths
import Glibc
import SystemPackage

/// A name in a directory below the root, resolved for creating, replacing or removing the file
/// it names: the open directory, the plain name within it, and the path with every symlink
/// resolved.
///
/// Symlinks are followed, confined like every open: a PUT or DELETE through a link to a file
/// inside the root acts on the file the link names (the link stays), as a GET through it reads
/// that file. The canonical path is the key writers of one directory entry queue on, so two
/// paths that reach the same entry (a symlinked directory, a link to the file) take turns.
public final class ResolvedEntry: @unchecked Sendable {
    /// The directory holding the entry, open for the renames and the fsync that makes them durable.
    public let directory: FileDescriptor
    public let name: String
    /// The entry's path from the root, with every symlink resolved.
    public let canonicalPath: RelativePath

    /// Why a path cannot name an entry to write.
    public enum Failure: Error, Sendable, Equatable {
        /// Outside the root, through a dangling link, or otherwise unreachable: as a missing file.
        case notFound
        /// A directory on the way does not exist or is not a directory.
        case missingParent
        case system(Int32)
    }

    /// Resolves `relativePath` (not empty, no trailing slash) below `root`.
    public init(root: FileRoot, relativePath: RelativePath) throws(Failure) {
        var path = relativePath.string
        for _ in 0..<2 {
            let (parent, name) = Self.split(path)
            let fd = cposix_open_beneath(root.descriptor.rawValue, parent.isEmpty ? "." : parent, O_RDONLY | O_DIRECTORY)
            guard fd >= 0 else {
                throw [ENOENT, ENOTDIR].contains(errno) ? .missingParent : (errno == EMFILE || errno == ENFILE ? .system(errno) : .notFound)
            }
            var status = stat()
            if fstatat(fd, name, &status, AT_SYMLINK_NOFOLLOW) == 0, status.st_mode & S_IFMT == S_IFLNK {
                close(fd)
                // The link's target, resolved confined: dangling or escaping reads as missing.
                let target = cposix_open_beneath(root.descriptor.rawValue, path, Self.pathOnly)
                guard target >= 0 else { throw .notFound }
                defer { close(target) }
                guard let resolved = Self.pathFromRoot(of: target, root: root) else { throw .notFound }
                path = resolved
                continue
            }
            guard let directoryPath = Self.pathFromRoot(of: fd, root: root),
                let canonical = RelativePath(directoryPath.isEmpty ? name : directoryPath + "/" + name)
            else {
                close(fd)
                throw .notFound
            }
            directory = FileDescriptor(rawValue: fd)
            self.name = name
            canonicalPath = canonical
            return
        }
        // A link that resolved to another link: changed under us, or a loop.
        throw .notFound
    }

    deinit { try? directory.close() }

    /// The entry's status now, not following a symlink; nil when nothing has the name.
    public func status() throws(FileAccessError) -> (identity: FileIdentity, raw: stat)? {
        var status = stat()
        guard fstatat(directory.rawValue, name, &status, AT_SYMLINK_NOFOLLOW) == 0 else {
            if errno == ENOENT { return nil }
            throw FileAccessError(errno: errno)
        }
        return (FileIdentity(status), status)
    }

    /// Removes the entry (a file) and makes the removal durable (fsync of the directory).
    public func remove() throws(FileAccessError) {
        guard unlinkat(directory.rawValue, name, 0) == 0 else { throw FileAccessError(errno: errno) }
        guard fsync(directory.rawValue) == 0 else { throw FileAccessError(errno: errno) }
    }

    /// O_PATH (the same value on every Linux architecture), which Swift's Glibc module leaves out
    /// (it needs _GNU_SOURCE): a descriptor that names a file without opening it for anything.
    private static let pathOnly: Int32 = 0o10000000

    private static func split(_ path: String) -> (parent: String, name: String) {
        guard let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) else { return ("", path) }
        return (String(path[..<slash]), String(path[path.utf8.index(after: slash)...]))
    }

    /// Where the open `fd` lies below the root, from /proc (the kernel's own path for it); nil
    /// when it is not below the root (moved out since, or deleted).
    private static func pathFromRoot(of fd: Int32, root: FileRoot) -> String? {
        guard let full = linkTarget("/proc/self/fd/\(fd)"), let base = linkTarget("/proc/self/fd/\(root.descriptor.rawValue)") else {
            return nil
        }
        if full == base { return "" }
        let prefix = base == "/" ? "/" : base + "/"
        // Byte-wise: `hasPrefix` compares by canonical equivalence, under which two different
        // names on disk can be equal.
        guard full.utf8.starts(with: prefix.utf8), !full.utf8.reversed().starts(with: " (deleted)".utf8.reversed()) else { return nil }
        return String(decoding: full.utf8.dropFirst(prefix.utf8.count), as: UTF8.self)
    }

    private static func linkTarget(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink(path, &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
