import Foundation
import Glibc
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
        let first = try pool.lease("a.txt")
        let second = try pool.lease("a.txt")
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
        let held = try pool.lease("a")
        _ = try pool.lease("b")  // evicts "a" from the pool
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
            let lease = try pool.lease("a")
            weakRegion = lease.region
            _ = try pool.lease("b")
            #expect(weakRegion != nil)
        }
        #expect(weakRegion == nil)
    }

    @Test func replacementByRenameIsRemapped() throws {
        let sandbox = try Sandbox()
        try sandbox.write("f", "old!")
        let pool = MappingPool(root: sandbox.root)
        let before = try pool.lease("f")
        try sandbox.replace("f", "new!")  // same size, new inode
        let after = try pool.lease("f")
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
        let lease = try pool.lease("f")
        let same = try #require(pool.descriptor("f", showing: lease))
        var byte: UInt8 = 0
        #expect(pread(same, &byte, 1, 0) == 1 && byte == UInt8(ascii: "o"))
        close(same)

        try sandbox.replace("f", "new!")  // same size, another inode
        #expect(pool.descriptor("f", showing: lease) == nil)
        let fresh = try pool.lease("f")
        try sandbox.append("f", "grown")  // same inode, another size
        #expect(pool.descriptor("f", showing: fresh) == nil)
        #expect(unlink(sandbox.directory.appendingPathComponent("f").path) == 0)
        #expect(pool.descriptor("f", showing: fresh) == nil)
    }

    /// Within the revalidation interval the pool does not stat: a replacement by someone else is
    /// not seen (the old version is served whole), until this process invalidates the path.
    @Test func withinTheRevalidationIntervalTheLastStatIsTrusted() throws {
        let sandbox = try Sandbox()
        try sandbox.write("f", "old!")
        let pool = MappingPool(root: sandbox.root, limits: .init(revalidationInterval: .seconds(3600)))
        let before = try pool.lease("f")
        try sandbox.replace("f", "new!")
        let trusted = try pool.lease("f")
        #expect(trusted.region === before.region)
        #expect(text(trusted) == "old!")
        #expect(trusted.identity == before.identity)
        pool.expire("f")
        let fresh = try pool.lease("f")
        #expect(text(fresh) == "new!")
        #expect(pool.statistics.hits == 1)
    }

    /// A missing file is never trusted from a previous lease: only cached mappings skip the stat.
    @Test func theIntervalNeverHidesAMissingOrNewFile() throws {
        let sandbox = try Sandbox()
        let pool = MappingPool(root: sandbox.root, limits: .init(revalidationInterval: .seconds(3600)))
        #expect(throws: FileAccessError.notFound) { try pool.lease("f") }
        try sandbox.write("f", "here")
        #expect(text(try pool.lease("f")) == "here")
    }

    @Test func growthIsRemapped() throws {
        let sandbox = try Sandbox()
        try sandbox.write("f", "abc")
        let pool = MappingPool(root: sandbox.root)
        _ = try pool.lease("f")
        try sandbox.append("f", "def")
        let after = try pool.lease("f")
        #expect(text(after) == "abcdef")
        #expect(after.identity.size == 6)
    }

    @Test func truncationIsRemapped() throws {
        let sandbox = try Sandbox()
        try sandbox.write("f", "abcdef")
        let pool = MappingPool(root: sandbox.root)
        _ = try pool.lease("f")
        sandbox.truncate("f", to: 2)
        let after = try pool.lease("f")
        #expect(text(after) == "ab")
    }

    @Test func inPlaceRewriteAtSameSizeKeepsTheMappingButRefreshesIdentity() throws {
        let sandbox = try Sandbox()
        try sandbox.write("f", "aaaa")
        let pool = MappingPool(root: sandbox.root)
        let before = try pool.lease("f")
        let handle = try FileHandle(forWritingTo: sandbox.directory.appendingPathComponent("f"))
        handle.write(Data("bbbb".utf8))
        try handle.close()
        let after = try pool.lease("f")
        #expect(after.region === before.region)  // shared mapping sees the write through the page cache
        #expect(text(after) == "bbbb")
        #expect(after.identity.changed >= before.identity.changed)
    }

    @Test func emptyFileIsNotMapped() throws {
        let sandbox = try Sandbox()
        try sandbox.write("empty", "")
        let pool = MappingPool(root: sandbox.root)
        let lease = try pool.lease("empty")
        #expect(lease.region.base == nil)
        #expect(lease.region.bytes.isEmpty)
    }

    @Test func byteBudgetEvictsLeastRecentlyUsed() throws {
        let sandbox = try Sandbox()
        for name in ["a", "b", "c"] { try sandbox.write(name, String(repeating: name, count: 100)) }
        let pool = MappingPool(root: sandbox.root, limits: .init(maxMappings: 10, maxMappedBytes: 250))
        _ = try pool.lease("a")
        _ = try pool.lease("b")
        _ = try pool.lease("a")  // "b" is now least recently used
        _ = try pool.lease("c")
        #expect(pool.statistics.mappedBytes == 200)
        #expect(pool.statistics.evictions == 1)
        _ = try pool.lease("a")
        #expect(pool.statistics.hits == 2)  // "a" survived
    }

    @Test func fileLargerThanTheBudgetIsServedButNotCached() throws {
        let sandbox = try Sandbox()
        try sandbox.write("big", String(repeating: "x", count: 1000))
        let pool = MappingPool(root: sandbox.root, limits: .init(maxMappings: 10, maxMappedBytes: 100))
        let lease = try pool.lease("big")
        #expect(lease.region.count == 1000)
        #expect(pool.statistics.mappings == 0)
    }

    @Test(arguments: ["missing", "../outside", "dir/../../x", "/etc/passwd"])
    func unreachablePathsAreNotFoundOrOutside(path: String) throws {
        let sandbox = try Sandbox()
        let pool = MappingPool(root: sandbox.root)
        let error = #expect(throws: FileAccessError.self) { try pool.lease(path) }
        #expect(error == .notFound || error == .outsideRoot)
    }

    @Test func symlinkOutOfTheRootIsOutsideTheRoot() throws {
        let sandbox = try Sandbox()
        symlink("/etc/hostname", sandbox.directory.appendingPathComponent("escape").path)
        let pool = MappingPool(root: sandbox.root)
        #expect(throws: FileAccessError.outsideRoot) { try pool.lease("escape") }
    }

    @Test func symlinkInsideTheRootIsFollowed() throws {
        let sandbox = try Sandbox()
        try sandbox.write("target", "inside")
        symlink("target", sandbox.directory.appendingPathComponent("link").path)
        let pool = MappingPool(root: sandbox.root)
        #expect(text(try pool.lease("link")) == "inside")
    }

    @Test func directoryIsReportedAsSuch() throws {
        let sandbox = try Sandbox()
        try FileManager.default.createDirectory(at: sandbox.directory.appendingPathComponent("d"), withIntermediateDirectories: true)
        let pool = MappingPool(root: sandbox.root)
        #expect(throws: FileAccessError.isDirectory) { try pool.lease("d") }
    }

    @Test func fifoIsNoRegularFileAndDoesNotBlock() throws {
        let sandbox = try Sandbox()
        mkfifo(sandbox.directory.appendingPathComponent("pipe").path, 0o644)
        let pool = MappingPool(root: sandbox.root)
        #expect(throws: FileAccessError.notRegularFile) { try pool.lease("pipe") }
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
        let lease = try pool.lease("f")
        sandbox.truncate("f", to: 0)
        let bytes = lease.region.bytes
        #expect(throws: MemoryFault.self) {
            try MemoryFaultGuard.run { bytes[2 * 4096 + 5] }
        }
        // The guard is reusable on the same thread after a fault.
        #expect(try MemoryFaultGuard.run { 42 } == 42)
    }
}
