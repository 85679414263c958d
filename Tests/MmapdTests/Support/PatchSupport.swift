import Foundation
import Glibc
import Synchronization
import Testing

@testable import Mmapd

/// Helpers shared by the PATCH suites: request bodies in the three forms, file snapshots for
/// "nothing changed" checks, real threads for concurrent clients, and scratch mounts.

/// A streamed PATCH reaches the file a batch at a time (`StreamingPatch.batchBytes`, copied by a
/// worker): an upload that must be seen writing before it completes sends this much first.
let heldUpload = uploadBatch + (64 << 10)
let uploadBatch = StreamingPatch.batchBytes

// MARK: Bodies

/// One write of a PATCH body: `bytes` at file offset `start`; `complete` is what follows the `/`
/// of its Content-Range (`*` or the file's length after the PATCH).
struct PatchWrite: Sendable {
    let start: Int
    let bytes: [UInt8]
    var complete = "*"

    var contentRange: String { "bytes \(start)-\(start + bytes.count - 1)/\(complete)" }
}

/// A `message/byterange` body: the write's own header block, an empty line, the bytes.
func messageByterange(_ write: PatchWrite, extraHeaders: [String] = []) -> [UInt8] {
    let head = (["Content-Range: \(write.contentRange)"] + extraHeaders).map { $0 + "\r\n" }.joined() + "\r\n"
    return Array(head.utf8) + write.bytes
}

/// A `multipart/byteranges` body framed with `boundary`, one part per write, in the order given.
/// `close: false` leaves out the closing delimiter (a truncated upload).
func multipartByteranges(
    _ writes: [PatchWrite], boundary: String, partHeaders: [String] = [],
    preamble: String = "", epilogue: String = "", close: Bool = true
) -> [UInt8] {
    var body = Array(preamble.utf8)
    if !preamble.isEmpty { body += Array("\r\n".utf8) }
    for (index, write) in writes.enumerated() {
        body += Array("\(index == 0 ? "" : "\r\n")--\(boundary)\r\n".utf8)
        body += Array((["Content-Range: \(write.contentRange)"] + partHeaders).map { $0 + "\r\n" }.joined().utf8)
        body += Array("\r\n".utf8)
        body += write.bytes
    }
    if close { body += Array("\r\n--\(boundary)--\r\n\(epilogue)".utf8) }
    return body
}

/// `bytes` in HTTP/1.1 chunked transfer coding, cut into chunks of at most `chunkSize` bytes.
func chunked(_ bytes: [UInt8], chunkSize: Int = 7) -> [UInt8] {
    var body: [UInt8] = []
    var offset = 0
    while offset < bytes.count {
        let end = min(offset + chunkSize, bytes.count)
        body += Array("\(String(end - offset, radix: 16))\r\n".utf8) + bytes[offset..<end] + [13, 10]
        offset = end
    }
    return body + Array("0\r\n\r\n".utf8)
}

/// `count` copies of `byte`.
func fill(_ byte: UInt8, _ count: Int) -> [UInt8] { [UInt8](repeating: byte, count: count) }

/// `model` after writing `bytes` at `offset` (growing it when the write runs past the end).
func applied(_ model: [UInt8], _ bytes: [UInt8], at offset: Int) -> [UInt8] {
    var result = model
    if offset + bytes.count > result.count { result += fill(0, offset + bytes.count - result.count) }
    result.replaceSubrange(offset..<(offset + bytes.count), with: bytes)
    return result
}

extension TestServer {
    /// A raw-form PATCH (`Content-Range` header, body = the bytes) on a new connection.
    func patch(_ target: String, _ write: PatchWrite, headers: [(String, String)] = []) throws -> HTTPResponse {
        try request("PATCH", target, headers: [("Content-Range", write.contentRange)] + headers, body: write.bytes)
    }

    /// A `multipart/byteranges` PATCH on a new connection.
    func patchMultipart(
        _ target: String, _ writes: [PatchWrite], boundary: String = "mmapd-test-boundary",
        headers: [(String, String)] = []
    ) throws -> HTTPResponse {
        try request(
            "PATCH", target, headers: [("Content-Type", "multipart/byteranges; boundary=\(boundary)")] + headers,
            body: multipartByteranges(writes, boundary: boundary))
    }
}

// MARK: Files

/// Everything a rejected PATCH must leave alone: the bytes, the size, the inode and the
/// timestamps (mtime and ctime to the nanosecond).
struct FileSnapshot: Equatable, CustomStringConvertible {
    let bytes: [UInt8]
    let inode: UInt64
    let size: Int
    let modified: timespec
    let changed: timespec

    init(_ path: String) throws {
        let status = try fileStatus(path)
        bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        inode = UInt64(status.st_ino)
        size = Int(status.st_size)
        modified = status.st_mtim
        changed = status.st_ctim
    }

    static func == (lhs: FileSnapshot, rhs: FileSnapshot) -> Bool {
        lhs.bytes == rhs.bytes && lhs.inode == rhs.inode && lhs.size == rhs.size
            && lhs.modified.tv_sec == rhs.modified.tv_sec && lhs.modified.tv_nsec == rhs.modified.tv_nsec
            && lhs.changed.tv_sec == rhs.changed.tv_sec && lhs.changed.tv_nsec == rhs.changed.tv_nsec
    }

    var description: String {
        "\(size) bytes, inode \(inode), mtime \(modified.tv_sec).\(modified.tv_nsec), ctime \(changed.tv_sec).\(changed.tv_nsec)"
    }
}

/// `count` bytes at `offset` of the file at `path`, read with pread (no whole-file buffer).
func readBytes(_ path: String, at offset: Int, count: Int) throws -> [UInt8] {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { throw HTTPTestError(description: "open \(path): errno \(errno)") }
    defer { close(fd) }
    var bytes = [UInt8](repeating: 0, count: count)
    let got = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, count, off_t(offset)) }
    guard got >= 0 else { throw HTTPTestError(description: "pread \(path): errno \(errno)") }
    return Array(bytes[..<got])
}

/// Polls `condition` until it holds, for at most `seconds`: waits on state the test can observe
/// (bytes reaching the page cache), never on a guessed delay. Returns whether it held.
func eventually(within seconds: Double = 20, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
        if try condition() { return true }
        usleep(1000)
    }
    return try condition()
}

/// Anonymous resident memory of this process (`RssAnon`): heap and stacks, where a buffered
/// body would live. Unlike `VmRSS` it leaves out the file pages of shared mappings, which
/// readers of the written file touch by design.
/// With `pid`, another process's (a spawned server, which parallel tests cannot disturb).
func anonymousResidentBytes(pid: Int32? = nil) throws -> UInt64 {
    let status = try String(contentsOfFile: "/proc/\(pid.map(String.init) ?? "self")/status", encoding: .utf8)
    guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("RssAnon:") }),
        let kilobytes = line.split(separator: " ").dropFirst().first.flatMap({ UInt64($0) })
    else { throw HTTPTestError(description: "no RssAnon in /proc/self/status") }
    return kilobytes * 1024
}

// MARK: Threads

/// Runs `body(0..<count)` on `count` real threads at once and waits for all. Blocking socket
/// clients need their own threads: on the cooperative pool (two threads here) they would take
/// turns instead of overlapping.
func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    let group = DispatchGroup()
    for index in 0..<count {
        group.enter()
        let thread = Thread {
            body(index)
            group.leave()
        }
        thread.start()
    }
    group.wait()
}

/// A value shared between client threads.
final class Shared<Value: Sendable>: Sendable {
    private let value: Mutex<Value>
    init(_ value: Value) { self.value = Mutex(value) }
    func update<R: Sendable>(_ body: (inout Value) -> R) -> R { value.withLock { body(&$0) } }
    var current: Value { value.withLock { $0 } }
}

// MARK: Mounts (the tests run as root)

/// A scratch directory with a filesystem mounted on it, unmounted (lazily: the server may still
/// hold descriptors) and removed by `unmount()`.
struct ScratchMount {
    let path: String

    /// Mounts a tmpfs of `size` (mount(8) syntax, e.g. "1m"); nil when mounting is not possible
    /// here (not root, no CAP_SYS_ADMIN), with the reason.
    static func tmpfs(size: String) -> (ScratchMount?, String) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("mmapd-tmpfs-\(UUID().uuidString)").path
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            let result = try run("/bin/mount", ["-t", "tmpfs", "-o", "size=\(size)", "tmpfs", path])
            guard result.status == 0 else {
                rmdir(path)
                return (nil, "mount -t tmpfs failed (\(result.status)): \(result.stderr)")
            }
            return (ScratchMount(path: path), "")
        } catch {
            rmdir(path)
            return (nil, "mount -t tmpfs could not run: \(error)")
        }
    }

    /// Bind-mounts `path` onto itself read-only; nil with the reason when that is not possible.
    static func readOnlyBind(_ path: String) -> (ScratchMount?, String) {
        do {
            let bind = try run("/bin/mount", ["--bind", path, path])
            guard bind.status == 0 else { return (nil, "mount --bind failed (\(bind.status)): \(bind.stderr)") }
            let remount = try run("/bin/mount", ["-o", "remount,ro,bind", path])
            guard remount.status == 0 else {
                _ = try? run("/bin/umount", ["-l", path])
                return (nil, "mount -o remount,ro,bind failed (\(remount.status)): \(remount.stderr)")
            }
            return (ScratchMount(path: path), "")
        } catch {
            return (nil, "mount could not run: \(error)")
        }
    }

    func unmount(remove: Bool = true) {
        _ = try? run("/bin/umount", ["-l", path])
        if remove { try? FileManager.default.removeItem(atPath: path) }
    }
}

/// Hands a non-Sendable value to client threads that use it one at a time (each thread its own
/// element, or strictly one after another).
final class Unchecked<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// What this environment allows the tests that need privileges, probed once.
enum Privileges {
    /// Whether `mount -t tmpfs` works (root with CAP_SYS_ADMIN, not in a locked-down container).
    static let canMount: Bool = {
        let (mount, _) = ScratchMount.tmpfs(size: "64k")
        mount?.unmount()
        return mount != nil
    }()

    /// Whether `chattr +i` works on the temporary directory's filesystem (root, and a
    /// filesystem with the immutable flag: ext4, xfs, btrfs; not tmpfs or overlayfs).
    static let canMakeImmutable: Bool = {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("mmapd-chattr-\(UUID().uuidString)").path
        guard FileManager.default.createFile(atPath: path, contents: Data([1])) else { return false }
        defer { unlink(path) }
        guard (try? run("/usr/bin/chattr", ["+i", path]))?.status == 0 else { return false }
        _ = try? run("/usr/bin/chattr", ["-i", path])
        return true
    }()

    static var isRoot: Bool { getuid() == 0 }
}
