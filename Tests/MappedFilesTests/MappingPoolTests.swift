import ConfinedPaths
import Foundation
import Glibc
import TestSupport
import Testing

@testable import MappedFiles

/// A temporary root with helpers to create, replace, grow and truncate files.
final class Sandbox {
    let directory: URL
    let root: FileRoot

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("pool-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        root = try FileRoot(path: directory.path)
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    func write(_ name: String, _ text: String) throws {
        try Data(text.utf8).write(to: directory.appendingPathComponent(name))
    }

    /// Writes a new file and renames it over `name`: a new inode, as rsync and editors do.
    func replace(_ name: String, _ text: String) throws {
        try write(name + ".tmp", text)
        rename(directory.appendingPathComponent(name + ".tmp").path, directory.appendingPathComponent(name).path)
    }

    func truncate(_ name: String, to size: Int) {
        Glibc.truncate(directory.appendingPathComponent(name).path, off_t(size))
    }

    func append(_ name: String, _ text: String) throws {
        let handle = try FileHandle(forWritingTo: directory.appendingPathComponent(name))
        handle.seekToEndOfFile()
        handle.write(Data(text.utf8))
        try handle.close()
    }
}

private func text(_ lease: MappingPool.Lease) -> String {
    String(decoding: lease.region.bytes, as: UTF8.self)
}

@Suite struct MappingPoolTests {
    @Test func hitReusesTheSameMapping() throws {
        let sandbox = try Sandbox()
        try sandbox.write("a.txt", "hello")
        let pool = MappingPool(root: sandbox.root)
        let first = try pool.lease(testPath("a.txt"))
        let second = try pool.lease(testPath("a.txt"))
        #expect(first.region === second.region)
        #expect(text(second) == "hello")
        #expect(pool.statistics.hits == 1)
        #expect(pool.statistics.misses == 1)
    }

    @Test func leaseOutlivesEviction() throws {
        let sandbox = try Sandbox()
        try sandbox.write("a", "first file")
        try sandbox.write("b", "second file")
        let pool = MappingPool(root: sandbox.root, limits: .init(maxMappings: 1))
        let held = try pool.lease(testPath("a"))
        _ = try pool.lease(testPath("b"))  // evicts "a" from the pool
        #expect(pool.statistics.evictions == 1)
        #expect(pool.statistics.mappings == 1)
        #expect(text(held) == "first file")  // still mapped: the lease keeps it alive
    }

    @Test func evictedRegionIsUnmappedWhenTheLastLeaseGoes() throws {
        let sandbox = try Sandbox()
        try sandbox.write("a", "x")
        try sandbox.write("b", "y")
        let pool = MappingPool(root: sandbox.root, limits: .init(maxMappings: 1))
        weak var weakRegion: MappedRegion?
        do {
            let lease = try pool.lease(testPath("a"))
            weakRegion = lease.region
            _ = try pool.lease(testPath("b"))
            #expect(weakRegion != nil)
        }
        #expect(weakRegion == nil)
    }

    @Test func replacementByRenameIsRemapped() throws {
        let sandbox = try Sandbox()
        try sandbox.write("f", "old!")
        let pool = MappingPool(root: sandbox.root)
        let before = try pool.lease(testPath("f"))
        try sandbox.replace("f", "new!")  // same size, new inode
        let after = try pool.lease(testPath("f"))
        #expect(text(after) == "new!")
        #expect(after.identity.inode != before.identity.inode)
        #expect(text(before) == "old!")  // the old lease still shows the old file
        #expect(pool.statistics.remaps == 1)
    }

    /// A descriptor for sendfile is only handed out while the path still shows the leased file at
    /// the leased size: otherwise the lease's validators would describe other bytes.
    @Test func aSendfileDescriptorShowsTheLeasedFileOrNothing() throws {
        let sandbox = try Sandbox()
        try sandbox.write("f", "old!")
        let pool = MappingPool(root: sandbox.root)
        let lease = try pool.lease(testPath("f"))
        let same = try #require(pool.descriptor(testPath("f"), showing: lease))
        var byte: UInt8 = 0
        #expect(pread(same.rawValue, &byte, 1, 0) == 1 && byte == UInt8(ascii: "o"))
        try same.close()

        try sandbox.replace("f", "new!")  // same size, another inode
        #expect(pool.descriptor(testPath("f"), showing: lease) == nil)
        let fresh = try pool.lease(testPath("f"))
        try sandbox.append("f", "grown")  // same inode, another size
        #expect(pool.descriptor(testPath("f"), showing: fresh) == nil)
        #expect(unlink(sandbox.directory.appendingPathComponent("f").path) == 0)
        #expect(pool.descriptor(testPath("f"), showing: fresh) == nil)
    }

    /// Within the revalidation interval the pool does not stat: a replacement by someone else is
    /// not seen (the old version is served whole), until this process invalidates the path.
    @Test func withinTheRevalidationIntervalTheLastStatIsTrusted() throws {
        let sandbox = try Sandbox()
        try sandbox.write("f", "old!")
        let pool = MappingPool(root: sandbox.root, limits: .init(revalidationInterval: .seconds(3600)))
        let before = try pool.lease(testPath("f"))
        try sandbox.replace("f", "new!")
        let trusted = try pool.lease(testPath("f"))
        #expect(trusted.region === before.region)
        #expect(text(trusted) == "old!")
        #expect(trusted.identity == before.identity)
        pool.expire(testPath("f"))
        let fresh = try pool.lease(testPath("f"))
        #expect(text(fresh) == "new!")
        #expect(pool.statistics.hits == 1)
    }

    /// A missing file is never trusted from a previous lease: only cached mappings skip the stat.
    @Test func theIntervalNeverHidesAMissingOrNewFile() throws {
        let sandbox = try Sandbox()
        let pool = MappingPool(root: sandbox.root, limits: .init(revalidationInterval: .seconds(3600)))
        #expect(throws: FileAccessError.notFound) { try pool.lease(testPath("f")) }
        try sandbox.write("f", "here")
        #expect(text(try pool.lease(testPath("f"))) == "here")
    }

    @Test func growthIsRemapped() throws {
        let sandbox = try Sandbox()
        try sandbox.write("f", "abc")
        let pool = MappingPool(root: sandbox.root)
        _ = try pool.lease(testPath("f"))
        try sandbox.append("f", "def")
        let after = try pool.lease(testPath("f"))
        #expect(text(after) == "abcdef")
        #expect(after.identity.size == 6)
    }

    @Test func truncationIsRemapped() throws {
        let sandbox = try Sandbox()
        try sandbox.write("f", "abcdef")
        let pool = MappingPool(root: sandbox.root)
        _ = try pool.lease(testPath("f"))
        sandbox.truncate("f", to: 2)
        let after = try pool.lease(testPath("f"))
        #expect(text(after) == "ab")
    }

    @Test func inPlaceRewriteAtSameSizeKeepsTheMappingButRefreshesIdentity() throws {
        let sandbox = try Sandbox()
        try sandbox.write("f", "aaaa")
        let pool = MappingPool(root: sandbox.root)
        let before = try pool.lease(testPath("f"))
        let handle = try FileHandle(forWritingTo: sandbox.directory.appendingPathComponent("f"))
        handle.write(Data("bbbb".utf8))
        try handle.close()
        let after = try pool.lease(testPath("f"))
        #expect(after.region === before.region)  // shared mapping sees the write through the page cache
        #expect(text(after) == "bbbb")
        #expect(after.identity.changed >= before.identity.changed)
    }

    @Test func emptyFileIsNotMapped() throws {
        let sandbox = try Sandbox()
        try sandbox.write("empty", "")
        let pool = MappingPool(root: sandbox.root)
        let lease = try pool.lease(testPath("empty"))
        #expect(lease.region.base == nil)
        #expect(lease.region.bytes.isEmpty)
    }

    @Test func byteBudgetEvictsLeastRecentlyUsed() throws {
        let sandbox = try Sandbox()
        for name in ["a", "b", "c"] { try sandbox.write(name, String(repeating: name, count: 100)) }
        let pool = MappingPool(root: sandbox.root, limits: .init(maxMappings: 10, maxMappedBytes: 250))
        _ = try pool.lease(testPath("a"))
        _ = try pool.lease(testPath("b"))
        _ = try pool.lease(testPath("a"))  // "b" is now least recently used
        _ = try pool.lease(testPath("c"))
        #expect(pool.statistics.mappedBytes == 200)
        #expect(pool.statistics.evictions == 1)
        _ = try pool.lease(testPath("a"))
        #expect(pool.statistics.hits == 2)  // "a" survived
    }

    @Test func fileLargerThanTheBudgetIsServedButNotCached() throws {
        let sandbox = try Sandbox()
        try sandbox.write("big", String(repeating: "x", count: 1000))
        let pool = MappingPool(root: sandbox.root, limits: .init(maxMappings: 10, maxMappedBytes: 100))
        let lease = try pool.lease(testPath("big"))
        #expect(lease.region.count == 1000)
        #expect(pool.statistics.mappings == 0)
    }

    /// A path that would leave the root cannot even be named (`RelativePath` refuses it); one that
    /// names nothing is not found.
    @Test(arguments: ["../outside", "dir/../../x", "/etc/passwd", "a//b", "./a"])
    func escapingPathsCannotBeNamed(path: String) {
        #expect(RelativePath(path) == nil)
    }

    @Test func aMissingPathIsNotFound() throws {
        let sandbox = try Sandbox()
        let pool = MappingPool(root: sandbox.root)
        #expect(throws: FileAccessError.notFound) { try pool.lease(testPath("missing")) }
        #expect(throws: FileAccessError.notFound) { try pool.lease(testPath("no/such/dir")) }
    }

    @Test func symlinkOutOfTheRootIsOutsideTheRoot() throws {
        let sandbox = try Sandbox()
        symlink("/etc/hostname", sandbox.directory.appendingPathComponent("escape").path)
        let pool = MappingPool(root: sandbox.root)
        #expect(throws: FileAccessError.outsideRoot) { try pool.lease(testPath("escape")) }
    }

    @Test func symlinkInsideTheRootIsFollowed() throws {
        let sandbox = try Sandbox()
        try sandbox.write("target", "inside")
        symlink("target", sandbox.directory.appendingPathComponent("link").path)
        let pool = MappingPool(root: sandbox.root)
        #expect(text(try pool.lease(testPath("link"))) == "inside")
    }

    @Test func directoryIsReportedAsSuch() throws {
        let sandbox = try Sandbox()
        try FileManager.default.createDirectory(at: sandbox.directory.appendingPathComponent("d"), withIntermediateDirectories: true)
        let pool = MappingPool(root: sandbox.root)
        #expect(throws: FileAccessError.isDirectory) { try pool.lease(testPath("d")) }
    }

    @Test func fifoIsNoRegularFileAndDoesNotBlock() throws {
        let sandbox = try Sandbox()
        mkfifo(sandbox.directory.appendingPathComponent("pipe").path, 0o644)
        let pool = MappingPool(root: sandbox.root)
        #expect(throws: FileAccessError.notRegularFile) { try pool.lease(testPath("pipe")) }
    }

    @Test func missingRootIsOneClearError() {
        #expect(throws: RootError.self) { try FileRoot(path: "/nonexistent/mmapd-root") }
    }
}

@Suite struct MemoryFaultGuardTests {
    @Test func readingATruncatedMappingThrowsInsteadOfCrashing() throws {
        MemoryFaultGuard.install()
        let sandbox = try Sandbox()
        try sandbox.write("f", String(repeating: "z", count: 3 * 4096))
        let pool = MappingPool(root: sandbox.root)
        let lease = try pool.lease(testPath("f"))
        sandbox.truncate("f", to: 0)
        let bytes = lease.region.bytes
        #expect(throws: MemoryFault.self) {
            try MemoryFaultGuard.run { bytes[2 * 4096 + 5] }
        }
        // The guard is reusable on the same thread after a fault.
        #expect(try MemoryFaultGuard.run { 42 } == 42)
    }
}
