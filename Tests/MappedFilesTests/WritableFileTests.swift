import Foundation
import Glibc
import TestSupport
import Testing

@testable import MappedFiles

/// A writable file's growth rules, on real files: a reservation never shows as length, the
/// length follows the bytes written, and a file truncated under a writer fails the write instead
/// of trapping or regrowing.
@Suite struct WritableFileTests {
    static func status(_ path: String) throws -> stat {
        var info = stat()
        guard stat(path, &info) == 0 else { throw CocoaError(.fileNoSuchFile) }
        return info
    }

    @Test func aReservationKeepsTheLengthAndWritesGrowItAsTheyLand() throws {
        let sandbox = try Sandbox()
        try sandbox.write("f.bin", "0123456789")
        let path = sandbox.directory.appendingPathComponent("f.bin").path
        let file = try WritableFile(root: sandbox.root, relativePath: testPath("f.bin"))
        try file.reserve(upTo: 10 + (4 << 20))
        #expect(try Self.status(path).st_size == 10)
        #expect(try Self.status(path).st_blocks * 512 >= 4 << 20, "the blocks are reserved")
        let bytes = [UInt8](repeating: 7, count: 5000)
        try bytes.withUnsafeBytes { try file.write($0, at: 10) }
        #expect(try Self.status(path).st_size == 5010)
        #expect(file.size == 5010)
        file.releaseReservation()
        #expect(try Self.status(path).st_size == 5010)
        #expect(try Self.status(path).st_blocks * 512 < 1 << 20, "the unused reservation is given back")
        _ = file.finishWrites()
        try file.sync()
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(Array("0123456789".utf8) + bytes))
    }

    /// Another process truncates the file to 0 between the reservation and the write: the mapping
    /// still spans the reservation (no nil base to unwrap), and the write reports the truncation.
    @Test func aFileTruncatedToZeroAfterTheReservationFailsTheWrite() throws {
        MemoryFaultGuard.install()
        let sandbox = try Sandbox()
        try sandbox.write("f.bin", String(repeating: "x", count: 8192))
        let file = try WritableFile(root: sandbox.root, relativePath: testPath("f.bin"))
        try file.reserve(upTo: 16384)
        sandbox.truncate("f.bin", to: 0)
        let bytes = [UInt8](repeating: 1, count: 100)
        #expect(throws: FileAccessError.changedWhileReading) { try bytes.withUnsafeBytes { try file.write($0, at: 8192) } }
        #expect(throws: FileAccessError.changedWhileReading) { try bytes.withUnsafeBytes { try file.write($0, at: 0) } }
        file.releaseReservation()
        #expect(try Self.status(sandbox.directory.appendingPathComponent("f.bin").path).st_size == 0, "not regrown with a hole")
    }

    /// An empty file, reserved and written: the mapping is made for the reservation, never empty.
    @Test func anEmptyFileGrowsFromNothing() throws {
        let sandbox = try Sandbox()
        try sandbox.write("e.bin", "")
        let file = try WritableFile(root: sandbox.root, relativePath: testPath("e.bin"))
        try file.reserve(upTo: 3)
        try [UInt8]([1, 2, 3]).withUnsafeBytes { try file.write($0, at: 0) }
        _ = file.finishWrites()
        try file.sync()
        #expect(try Data(contentsOf: sandbox.directory.appendingPathComponent("e.bin")) == Data([1, 2, 3]))
    }
}
