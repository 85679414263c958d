import Glibc

/// One name in a directory, as a listing shows it.
public struct DirectoryEntry: Sendable, Equatable {
    public enum Kind: String, Sendable { case file, directory, symlink, other }
    /// The name's bytes as stored: not every name on disk is valid UTF-8.
    public let name: [UInt8]
    public let kind: Kind
    public let size: UInt64
    public let modifiedSeconds: Int64
}

extension FileRoot {
    /// The entries of a directory below the root, sorted by name. Symlinks are reported as such
    /// and not followed, so a listing never describes anything outside the root.
    public func list(_ relativePath: String) throws(FileAccessError) -> [DirectoryEntry] {
        let fd = try open(relativePath, flags: O_RDONLY | O_DIRECTORY)
        guard let directory = fdopendir(fd) else {
            let code = errno
            close(fd)
            throw FileAccessError.from(errno: code)
        }
        defer { closedir(directory) }
        var entries: [DirectoryEntry] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in Array(raw.prefix { $0 != 0 }) }
            if name == [0x2E] || name == [0x2E, 0x2E] { continue }
            var status = stat()
            let found = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                fstatat(fd, raw.baseAddress!.assumingMemoryBound(to: CChar.self), &status, AT_SYMLINK_NOFOLLOW)
            }
            guard found == 0 else { continue }  // vanished between readdir and stat
            let identity = FileIdentity(status)
            let kind: DirectoryEntry.Kind =
                identity.isRegularFile ? .file : identity.isDirectory ? .directory
                : (status.st_mode & S_IFMT) == S_IFLNK ? .symlink : .other
            entries.append(DirectoryEntry(name: name, kind: kind, size: identity.size, modifiedSeconds: identity.modifiedSeconds))
        }
        return entries.sorted { $0.name.lexicographicallyPrecedes($1.name) }
    }
}
