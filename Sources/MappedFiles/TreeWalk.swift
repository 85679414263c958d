import CPOSIXShim
import Glibc
import SystemPackage

/// An open directory of a walk. Files found in it are opened relative to it (one openat2 of a
/// plain name, no path resolved again from the root), so it stays open while any of them waits
/// to be searched, and closes when the last holder lets go.
public final class DirectoryHandle: Sendable {
    public let descriptor: FileDescriptor

    init(descriptor: FileDescriptor) { self.descriptor = descriptor }

    deinit { try? descriptor.close() }
}

/// A descriptor the walk already opened (a file reached through a symlink, which had to be opened
/// to learn what it is); closed when its holder lets go.
public final class OpenedFile: Sendable {
    public let descriptor: FileDescriptor

    init(descriptor: FileDescriptor) { self.descriptor = descriptor }

    deinit { try? descriptor.close() }
}

/// A regular file found by a ``TreeWalk``.
public struct WalkedFile: Sendable {
    /// The directory holding the entry, and the entry's name in it.
    public let directory: DirectoryHandle
    public let name: [UInt8]
    /// The walked path relative to the walked directory (`a/b.txt`).
    public let path: [UInt8]
    /// The walked path relative to the root, as answers show it and the mapping pool takes it.
    public var rootPath: String { String(decoding: rootPathBytes, as: UTF8.self) }
    /// Put together when asked (for a file with matches, or a large one): most files of a tree
    /// search have none, and one allocation fewer per file shows in a kernel-tree search.
    public var rootPathBytes: [UInt8] { rootPrefix.isEmpty ? path : rootPrefix + path }
    /// The walked directory's path relative to the root, with a trailing `/` (empty for the root).
    let rootPrefix: [UInt8]
    /// Set when the entry is a symlink: the file it leads to, opened and checked to be inside.
    public let opened: OpenedFile?

    /// Opens the file read-only: the symlink's descriptor (duplicated), or the name relative to its
    /// directory without following anything (a name swapped for a symlink since the walk saw it
    /// fails, as anything leaving the directory does).
    public func open() throws(FileAccessError) -> FileDescriptor {
        let fd =
            opened.map { fcntl($0.descriptor.rawValue, F_DUPFD_CLOEXEC, 0) }
            ?? TreeWalk.openName(name, in: directory.descriptor, flags: O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY)
        guard fd >= 0 else { throw FileAccessError(errno: errno) }
        return FileDescriptor(rawValue: fd)
    }
}

/// What a walk yields, in walk order.
public enum WalkEntry: Sendable {
    case file(WalkedFile)
    /// An entry that could not be followed: a symlink leaving the root or dangling, a directory
    /// or symlink target that could not be opened, a name that is not UTF-8 (unreachable over
    /// HTTP). Its walked path.
    case skipped([UInt8])
}

/// A depth-first walk of a directory below the root in a fixed order: each directory's entries
/// sorted byte-wise by name, a subdirectory walked at its place among them.
///
/// Confinement is the kernel's: every directory and file is opened with openat2(RESOLVE_BENEATH)
/// relative to its parent's descriptor without following symlinks, and a symlink is resolved from
/// the root's descriptor (RESOLVE_BENEATH again), so it is followed exactly when its target lies
/// inside the root. Each directory (by device and inode) is walked at most once, at its first
/// place in walk order, so symlink loops end.
///
/// Memory: the stack of directories being walked, each with its sorted names; nothing else
/// grows with the tree.
public final class TreeWalk {
    public struct Options {
        /// Walk names starting with `.`.
        public var hidden: Bool
        /// Whether a file (by walked path) is yielded at all.
        public var includesFile: (UnsafeBufferPointer<UInt8>) -> Bool
        /// Whether a directory (by walked path) is entered.
        public var walksDirectory: (UnsafeBufferPointer<UInt8>) -> Bool

        public init(
            hidden: Bool, includesFile: @escaping (UnsafeBufferPointer<UInt8>) -> Bool = { _ in true },
            walksDirectory: @escaping (UnsafeBufferPointer<UInt8>) -> Bool = { _ in true }
        ) {
            self.hidden = hidden
            self.includesFile = includesFile
            self.walksDirectory = walksDirectory
        }
    }

    private struct Entry {
        let name: [UInt8]
        let type: UInt8
    }

    private struct Frame {
        let handle: DirectoryHandle
        let entries: [Entry]
        var index = 0
        /// The directory's walked path, with a trailing `/` unless it is the walked directory.
        let prefix: [UInt8]
    }

    private struct DirectoryKey: Hashable {
        let device: UInt64
        let inode: UInt64
    }

    private let root: FileRoot
    private let rootPrefix: [UInt8]
    private let options: Options
    private var stack: [Frame] = []
    private var seen: Set<DirectoryKey> = []

    /// Starts a walk of `directory` (relative to the root, `""` for the root itself).
    ///
    /// - Throws: `.notFound` when it is no directory inside the root.
    public init(root: FileRoot, directory: String, options: Options) throws(FileAccessError) {
        self.root = root
        self.options = options
        rootPrefix = directory.isEmpty ? [] : Array(directory.utf8) + [0x2F]
        let fd = try root.open(directory, flags: O_RDONLY | O_DIRECTORY)
        let handle = DirectoryHandle(descriptor: fd)
        guard enter(handle, prefix: []) else { throw .notFound }
    }

    /// The next entry in walk order, or nil at the end.
    public func next() -> WalkEntry? {
        while let top = stack.indices.last {
            let frame = stack[top]
            guard frame.index < frame.entries.count else {
                stack.removeLast()
                continue
            }
            stack[top].index += 1
            let entry = frame.entries[frame.index]
            if let found = visit(entry, in: frame) { return found }
        }
        return nil
    }

    /// One directory entry: a file to yield, a skip to report, or a directory entered (nil).
    private func visit(_ entry: Entry, in frame: Frame) -> WalkEntry? {
        if !options.hidden, entry.name.first == 0x2E { return nil }
        if TemporaryUploads.isTemporary(entry.name) { return nil }
        let path = frame.prefix + entry.name
        // An ASCII name (nearly every one) is UTF-8 without making a String of it.
        guard entry.name.allSatisfy({ $0 < 0x80 }) || String(validating: entry.name, as: UTF8.self) != nil else {
            return .skipped(path)
        }
        var type = entry.type
        if type == UInt8(DT_UNKNOWN) {
            var status = stat()
            let found = entry.name.withCString { name in fstatat(frame.handle.descriptor.rawValue, name, &status, AT_SYMLINK_NOFOLLOW) }
            guard found == 0 else { return nil }  // vanished
            type = Self.directoryType(of: status.st_mode)
        }
        switch type {
        case UInt8(DT_REG):
            guard path.withUnsafeBufferPointer(options.includesFile) else { return nil }
            return .file(WalkedFile(directory: frame.handle, name: entry.name, path: path, rootPrefix: rootPrefix, opened: nil))
        case UInt8(DT_DIR):
            guard path.withUnsafeBufferPointer(options.walksDirectory) else { return nil }
            let fd = Self.openName(entry.name, in: frame.handle.descriptor, flags: O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
            guard fd >= 0 else { return .skipped(path) }
            _ = enter(DirectoryHandle(descriptor: FileDescriptor(rawValue: fd)), prefix: path + [0x2F])
            return nil
        case UInt8(DT_LNK):
            return followLink(path, in: frame)
        default:
            return nil  // FIFOs, sockets, devices: not regular files, never opened
        }
    }

    /// A symlink: resolved from the root, followed when it stays inside.
    private func followLink(_ path: [UInt8], in frame: Frame) -> WalkEntry? {
        let rootPath = rootPrefix + path
        guard let fd = try? root.open(String(decoding: rootPath, as: UTF8.self), flags: O_RDONLY) else { return .skipped(path) }
        var status = stat()
        guard fstat(fd.rawValue, &status) == 0 else {
            try? fd.close()
            return .skipped(path)
        }
        switch Self.directoryType(of: status.st_mode) {
        case UInt8(DT_REG):
            guard path.withUnsafeBufferPointer(options.includesFile) else {
                try? fd.close()
                return nil
            }
            return .file(
                WalkedFile(
                    directory: frame.handle, name: Array(path.split(separator: 0x2F).last ?? []), path: path,
                    rootPrefix: rootPrefix, opened: OpenedFile(descriptor: fd)))
        case UInt8(DT_DIR):
            guard path.withUnsafeBufferPointer(options.walksDirectory) else {
                try? fd.close()
                return nil
            }
            _ = enter(DirectoryHandle(descriptor: fd), prefix: path + [0x2F])
            return nil
        default:
            try? fd.close()
            return nil
        }
    }

    /// Reads and sorts a directory and pushes it; false when it was walked before (or unreadable).
    @discardableResult
    private func enter(_ handle: DirectoryHandle, prefix: [UInt8]) -> Bool {
        var status = stat()
        guard fstat(handle.descriptor.rawValue, &status) == 0 else { return false }
        guard seen.insert(DirectoryKey(device: UInt64(status.st_dev), inode: UInt64(status.st_ino))).inserted else { return false }
        // fdopendir takes over the descriptor it is given, so it gets a duplicate.
        let copy = fcntl(handle.descriptor.rawValue, F_DUPFD_CLOEXEC, 0)
        guard copy >= 0, let stream = fdopendir(copy) else {
            if copy >= 0 { close(copy) }
            return false
        }
        defer { closedir(stream) }
        var entries: [Entry] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in Array(raw.prefix { $0 != 0 }) }
            if name == [0x2E] || name == [0x2E, 0x2E] { continue }
            entries.append(Entry(name: name, type: entry.pointee.d_type))
        }
        entries.sort { $0.name.bytewisePrecedes($1.name) }
        stack.append(Frame(handle: handle, entries: entries, prefix: prefix))
        return true
    }

    private static func directoryType(of mode: mode_t) -> UInt8 {
        switch mode & S_IFMT {
        case S_IFREG: UInt8(DT_REG)
        case S_IFDIR: UInt8(DT_DIR)
        case S_IFLNK: UInt8(DT_LNK)
        default: UInt8(DT_UNKNOWN)
        }
    }

    /// openat2 of one plain name relative to a directory descriptor.
    static func openName(_ name: [UInt8], in directory: FileDescriptor, flags: Int32) -> Int32 {
        name.withCString { cposix_open_beneath(directory.rawValue, $0, flags) }
    }
}

extension [UInt8] {
    /// The bytes as a NUL-terminated C string for the duration of `body`.
    fileprivate func withCString<T>(_ body: (UnsafePointer<CChar>) -> T) -> T {
        (self + [0]).withUnsafeBufferPointer { raw in
            raw.withMemoryRebound(to: CChar.self) { body($0.baseAddress!) }
        }
    }
}
