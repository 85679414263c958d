import CPOSIXShim
import Glibc
import SystemPackage

/// The names of PUT uploads in progress, and the sweep that removes those a crash left behind.
///
/// An upload is written to `.mmapd-upload-<32 lowercase hex>.tmp` in the target's own directory
/// (so the final rename stays within one filesystem), then renamed over the target. The name is
/// reserved: every request for a path whose last name has this shape answers 404, listings and
/// tree searches leave such names out, and so no client can create, read or overwrite one; the
/// sweep at start therefore never removes a file anybody made through the server.
///
/// A live upload holds an exclusive `flock` on its temporary from creation to rename. The sweep
/// removes a temporary only when it can take that lock itself, so a second mmapd on the same root
/// (or one started while the first is still uploading) never removes another's live upload.
public enum TemporaryUploads {
    static let prefix = Array(".mmapd-upload-".utf8)
    static let suffix = Array(".tmp".utf8)
    static let hexDigits = 32

    /// A fresh temporary name: 128 random bits, so two uploads never meet on one name.
    static func freshName() -> String {
        var generator = SystemRandomNumberGenerator()
        let high = generator.next() as UInt64
        let low = generator.next() as UInt64
        func hex(_ value: UInt64) -> String {
            let digits = String(value, radix: 16)
            return String(repeating: "0", count: 16 - digits.count) + digits
        }
        return String(decoding: prefix, as: UTF8.self) + hex(high) + hex(low) + String(decoding: suffix, as: UTF8.self)
    }

    /// Whether `name` (one path component) is shaped like a temporary upload.
    public static func isTemporary<Name: Collection<UInt8>>(_ name: Name) -> Bool {
        guard name.count == prefix.count + hexDigits + suffix.count,
            name.starts(with: prefix), name.reversed().starts(with: suffix.reversed())
        else { return false }
        return name.dropFirst(prefix.count).prefix(hexDigits).allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }

    /// Whether the last name of `relativePath` is shaped like a temporary upload.
    public static func isTemporary(path relativePath: String) -> Bool {
        var path = relativePath
        return path.withUTF8 { bytes in
            let start = bytes.lastIndex(of: 0x2F).map { $0 + 1 } ?? 0
            return isTemporary(UnsafeBufferPointer(rebasing: bytes[start...]))
        }
    }

    /// Removes every temporary below `root` that no live upload holds, walking real directories
    /// only (symlinks are not followed, so nothing outside the root is touched); returns how many.
    /// Meant for a background thread at start: it reads every directory of the tree once.
    public static func sweep(_ root: FileRoot) -> Int {
        let fd = cposix_open_beneath(root.descriptor.rawValue, ".", O_RDONLY | O_DIRECTORY)
        guard fd >= 0 else { return 0 }
        return sweep(directory: fd)
    }

    /// Sweeps the directory `fd` (taken over and closed) and, depth first, those below it.
    private static func sweep(directory fd: Int32) -> Int {
        guard let stream = fdopendir(fd) else {
            close(fd)
            return 0
        }
        defer { closedir(stream) }
        var removed = 0
        var subdirectories: [[CChar]] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in Array(raw.prefix { $0 != 0 }) }
            if name == [0x2E] || name == [0x2E, 0x2E] { continue }
            let cName = name.map { CChar(bitPattern: $0) } + [0]
            var status = stat()
            guard fstatat(fd, cName, &status, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
            switch status.st_mode & S_IFMT {
            case S_IFDIR: subdirectories.append(cName)
            case S_IFREG where isTemporary(name): if removeIfAbandoned(cName, in: fd) { removed += 1 }
            default: break
            }
        }
        for name in subdirectories {
            let child = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if child >= 0 { removed += sweep(directory: child) }
        }
        return removed
    }

    /// Unlinks the temporary `name` if no upload holds its lock. The name is random and used
    /// once, so once the lock is ours it can only still name the file we opened, or nothing.
    private static func removeIfAbandoned(_ name: [CChar], in directory: Int32) -> Bool {
        let fd = openat(directory, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else { return false }
        return unlinkat(directory, name, 0) == 0
    }
}
