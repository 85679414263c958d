import CPOSIXShim
import Glibc
import SystemPackage

/// One name in a directory, as a listing shows it.
public struct DirectoryEntry: Sendable, Equatable {
    public enum Kind: String, Sendable { case file, directory }
    /// The name's bytes as stored: not every name on disk is valid UTF-8.
    public let name: [UInt8]
    /// What the name leads to: a symlink is described by its target.
    public let kind: Kind
    public let size: UInt64
    public let modifiedSeconds: Int64
}

/// A directory's entries and the directory's own identity (for validators).
public struct DirectoryContents: Sendable {
    public let directory: FileIdentity
    /// Sorted by name, byte-wise.
    public let entries: [DirectoryEntry]
    /// False when the directory holds more entries than the limit allowed reading: `entries`
    /// then stops at the limit and is not sorted over the whole directory.
    public let isComplete: Bool
}

extension FileRoot {
    /// The entries of a directory below the root that a client can reach, sorted by name.
    ///
    /// - A symlink is listed as what it points to (a file or directory, its size and mtime),
    ///   resolved by a confined open: one whose target lies outside the root, or dangles, is
    ///   left out, exactly as a request for it would be refused.
    /// - Temporaries of uploads in progress (`TemporaryUploads`) are left out.
    /// - Names that are neither regular files nor directories (FIFOs, sockets, devices) are left
    ///   out: nothing would serve them.
    /// - At most `limit` entries are read: a directory of millions of names costs this much and
    ///   no more (`isComplete` tells whether that cut anything).
    public func list(_ relativePath: String, limit: Int = .max) throws(FileAccessError) -> DirectoryContents {
        let fd = try open(relativePath, flags: O_RDONLY | O_DIRECTORY)
        guard let directory = fdopendir(fd.rawValue) else {
            let code = errno
            try? fd.close()
            throw FileAccessError(errno: code)
        }
        defer { closedir(directory) }
        let identity = try Self.status(of: fd)
        let prefix = relativePath.isEmpty ? "" : relativePath + "/"
        var entries: [DirectoryEntry] = []
        var complete = true
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in Array(raw.prefix { $0 != 0 }) }
            if name == [0x2E] || name == [0x2E, 0x2E] || TemporaryUploads.isTemporary(name) { continue }
            var status = stat()
            let found = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                fstatat(fd.rawValue, raw.baseAddress!.assumingMemoryBound(to: CChar.self), &status, AT_SYMLINK_NOFOLLOW)
            }
            guard found == 0 else { continue }  // vanished between readdir and stat
            var target = FileIdentity(status)
            if status.st_mode & S_IFMT == S_IFLNK {
                guard let resolved = resolveConfined(prefix, name) else { continue }
                target = resolved
            }
            guard target.isRegularFile || target.isDirectory else { continue }
            guard entries.count < limit else {
                complete = false
                break
            }
            entries.append(
                DirectoryEntry(
                    name: name, kind: target.isDirectory ? .directory : .file, size: target.isDirectory ? 0 : target.size,
                    modifiedSeconds: target.modifiedSeconds))
        }
        if complete { entries.sort { $0.name.bytewisePrecedes($1.name) } }
        return DirectoryContents(directory: identity, entries: entries, isComplete: complete)
    }

    /// What the symlink `prefix + name` leads to, through the same confined resolution a
    /// request would use: nil when it leaves the root or dangles.
    private func resolveConfined(_ prefix: String, _ name: [UInt8]) -> FileIdentity? {
        // A name that is not UTF-8 cannot be carried as a String, and no request can name it.
        guard let decoded = String(validating: name, as: UTF8.self) else { return nil }
        var status = stat()
        guard cposix_stat_beneath(descriptor.rawValue, prefix + decoded, &status) == 0 else { return nil }
        return FileIdentity(status)
    }
}
