import Glibc
import SystemPackage

/// Why a file under the root could not be served. Every way of escaping the root is `.notFound`,
/// indistinguishable from a missing file, so probing reveals nothing about the outside.
public enum FileAccessError: Error, Sendable, Equatable {
    case notFound
    case isDirectory
    /// The file exists but may not be written (permissions, read-only filesystem).
    case notWritable
    /// The filesystem is full (or the quota reached).
    case noSpace
    /// The file changed size while it was being read (truncated underneath us).
    case changedWhileReading
    case system(Errno)

    /// Classifies an errno from open/stat: every refusal of path resolution reads as "not found".
    static func from(errno code: Int32) -> FileAccessError {
        switch code {
        case ENOENT, ENOTDIR, EXDEV, ELOOP, EACCES, EPERM, ENAMETOOLONG, ENXIO, ENODEV:
            return .notFound
        case EISDIR:
            return .isDirectory
        case ENOSPC, EDQUOT:
            return .noSpace
        default:
            return .system(Errno(rawValue: code))
        }
    }
}
