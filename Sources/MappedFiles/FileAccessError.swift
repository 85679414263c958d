import Glibc
import SystemPackage

/// Why a file under the root could not be read or written, as the storage layer knows it. What a
/// client is told is not decided here: the HTTP side maps every way of not reaching a file
/// (missing, outside the root, refused, not a regular file) to the same 404, so probing reveals
/// nothing about the outside (`Mmapd/StorageProblems.swift`).
public enum FileAccessError: Error, Sendable, Equatable {
    /// No such name below the root (ENOENT, ENOTDIR, ENAMETOOLONG).
    case notFound
    /// Resolving the path would leave the root: `..`, an absolute symlink, a symlink whose target
    /// lies outside, a magic link (openat2's EXDEV and ELOOP).
    case outsideRoot
    /// It exists but is no regular file or directory: a FIFO, socket or device node (also the
    /// ENXIO and ENODEV a non-blocking open of one fails with).
    case notRegularFile
    /// The kernel refused the access (EACCES, EPERM; which one is carried).
    case permissionDenied(Errno)
    case isDirectory
    /// The file exists but may not be written (permissions, read-only filesystem).
    case notWritable
    /// The filesystem is full (or the quota reached).
    case noSpace
    /// The file changed size while it was being read (truncated underneath us).
    case changedWhileReading
    case system(Errno)

    /// Classifies the errno of a failed open, stat, map or write. Read `errno` right after the
    /// failing call and pass it here, before anything else can overwrite it.
    init(errno code: Int32) {
        switch code {
        case ENOENT, ENOTDIR, ENAMETOOLONG: self = .notFound
        case EXDEV, ELOOP: self = .outsideRoot
        case ENXIO, ENODEV: self = .notRegularFile
        case EACCES, EPERM: self = .permissionDenied(Errno(rawValue: code))
        case EISDIR: self = .isDirectory
        case ENOSPC, EDQUOT: self = .noSpace
        default: self = .system(Errno(rawValue: code))
        }
    }
}
