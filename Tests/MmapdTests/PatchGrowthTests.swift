import Foundation
import Glibc
import Mmapd
import Testing

/// How far a streamed PATCH may grow a file (issue 16, item 3): the reservation never shows as
/// length, the file grows only by bytes that really arrived, and a PATCH cut short (client gone)
/// or refused (too slow a body) leaves it at most that long, with the unused blocks given back.
/// Before, the file was extended to the declared end before the first body byte: any token
/// holder could grow a file by --max-body-bytes of zeros without sending them.
@Suite struct PatchGrowthTests {
    static let original = pseudoRandomBytes(count: 20, seed: 0x6A0)
    /// Declared: two megabytes; sent: a little over one copy batch, then the upload stops.
    static let declared = 2_000_000
    static let sent = heldUpload
    static let upload = pseudoRandomBytes(count: declared, seed: 0x6A1)

    static func status(_ path: String) throws -> stat { try fileStatus(path) }

    /// Starts the upload and waits until the server has written into the file; checks that the
    /// file is no longer than what was sent, although the blocks for the whole range are reserved.
    static func startAndCheckMidUpload(_ server: TestServer) throws -> HTTPConnection {
        let path = server.path("a.bin")
        let connection = try PatchConcurrencyTests.startUpload(
            port: server.port, "/files/a.bin", start: original.count, upload,
            sending: sent)
        let writing = try eventually { try status(path).st_size > off_t(original.count) }
        try #require(writing, "the upload never reached the file")
        let size = Int(try status(path).st_size)
        #expect(size <= original.count + sent, "the file is \(size) bytes, longer than the \(original.count + sent) sent")
        return connection
    }

    /// After the PATCH ended: the original bytes, then a prefix of what was sent, and nothing
    /// beyond; the reservation released; the turn free for the next writer.
    static func expectGrownOnlyByWhatArrived(_ server: TestServer) throws {
        let path = server.path("a.bin")
        // The next PATCH gets the turn only once the interrupted one has let it go.
        let next = try HTTPConnection(port: server.port, timeoutSeconds: 30)
            .send("PATCH", "/files/a.bin", headers: [("Content-Range", "bytes 0-0/*")], body: [original[0]])
        #expect(next.status == 204, "\(next.text)")
        let bytes = try server.read("a.bin")
        #expect(bytes.count >= original.count && bytes.count <= original.count + sent, "\(bytes.count) bytes")
        #expect(Array(bytes.prefix(original.count)) == original)
        #expect(Array(bytes.dropFirst(original.count)) == Array(upload.prefix(bytes.count - original.count)))
        let blocks = Int(try status(path).st_blocks) * 512
        #expect(blocks <= bytes.count + (64 << 10), "\(blocks) bytes of blocks still allocated for a \(bytes.count)-byte file")
    }

    @Test func aClientGoneMidBodyGrowsTheFileOnlyByWhatArrived() throws {
        let server = try TestServer(configure: { $0.writable = true }, files: ["a.bin": Self.original])
        do {
            let connection = try Self.startAndCheckMidUpload(server)
            withExtendedLifetime(connection) {}
        }  // closed: the client is gone
        try Self.expectGrownOnlyByWhatArrived(server)
    }

    /// The server refuses to wait any longer for a body that falls below --min-body-rate.
    @Test func aBodyCutOffForItsRateGrowsTheFileOnlyByWhatArrived() throws {
        let server = try TestServer(
            configure: {
                $0.writable = true
                $0.headerTimeout = 1
                $0.minBodyRate = 1 << 20
            }, files: ["a.bin": Self.original])
        let connection = try Self.startAndCheckMidUpload(server)
        #expect(connection.isClosedByServer(), "the stalled upload was not cut off")
        try Self.expectGrownOnlyByWhatArrived(server)
    }

    /// A growing PATCH that completes still ends at the declared length, flushed.
    @Test func aCompletePatchReachesTheDeclaredEnd() throws {
        let server = try TestServer(configure: { $0.writable = true }, files: ["a.bin": Self.original])
        let response = try server.request(
            "PATCH", "/files/a.bin", headers: [("Content-Range", "bytes 20-\(20 + Self.declared - 1)/*")],
            body: Self.upload)
        #expect(response.status == 204)
        #expect(try server.read("a.bin") == Self.original + Self.upload)
    }

    /// ramfs has no fallocate (EOPNOTSUPP): growth falls back to ftruncate as bytes land. With
    /// glibc's posix_fallocate this path was dead (glibc emulates fallocate by writing zeros).
    @Test(.enabled("needs mount: root with CAP_SYS_ADMIN") { Privileges.canMount })
    func aFilesystemWithoutFallocateStillGrows() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("mmapd-ramfs-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let mounted = try run("/bin/mount", ["-t", "ramfs", "ramfs", path])
        try #require(mounted.status == 0, "mount -t ramfs: \(mounted.stderr)")
        let mount = ScratchMount(path: path)
        defer { mount.unmount() }
        try Data(Self.original).write(to: URL(fileURLWithPath: path + "/a.bin"))
        let server = try TestServer(configure: {
            $0.writable = true
            $0.root = path
        })
        let grow = try server.request(
            "PATCH", "/files/a.bin", headers: [("Content-Range", "bytes 20-\(20 + Self.declared - 1)/*")],
            body: Self.upload)
        #expect(grow.status == 204, "\(grow.text)")
        let multipart = try server.patchMultipart("/files/a.bin", [PatchWrite(start: 20 + Self.declared, bytes: [1, 2, 3])])
        #expect(multipart.status == 204, "\(multipart.text)")
        #expect(try server.read(at: path + "/a.bin") == Self.original + Self.upload + [1, 2, 3])
    }
}
