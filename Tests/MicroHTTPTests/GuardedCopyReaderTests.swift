import CPOSIXShim
import Foundation
import Glibc
import Testing

@testable import MicroHTTP

/// The TLS body reader walks generated and borrowed pieces by position: whatever block size
/// libmicrohttpd asks for and wherever it resumes, the bytes are the pieces' concatenation.
/// (A truncated mapping under it is `TLSTests.aFileTruncatedMidDownloadEndsTheDownload`.)
extension MicroHTTPSuites {
    @Suite struct GuardedCopyReaderTests {
        @Test(arguments: [1 as UInt64, 2, 3, 4, 5])
        func everyPositionAndBlockSizeReadsTheConcatenation(seed: UInt64) {
            var random = SeededRandom(seed: seed)
            let memory = (0..<4096).map { _ in UInt8.random(in: 0...255, using: &random) }
            memory.withUnsafeBytes { mapped in
                var pieces: [Response.Piece] = []
                var expected: [UInt8] = []
                for _ in 0..<random.int(1...12) {
                    if random.int(0...1) == 0 {
                        let bytes = (0..<random.int(0...40)).map { _ in UInt8.random(in: 0...255, using: &random) }
                        pieces.append(.bytes(bytes))
                        expected += bytes
                    } else {
                        let start = random.int(0...4000)
                        let slice = UnsafeRawBufferPointer(rebasing: mapped[start..<start + random.int(0...96)])
                        pieces.append(.borrowed(slice))
                        expected += slice
                    }
                }
                let reader = GuardedCopyReader(pieces: pieces)
                #expect(reader.count == expected.count)
                #expect(reader.blockSize == max(1, expected.count))
                for block in [1, 7, 64, 1000] {
                    for start in 0..<expected.count {
                        var buffer = [UInt8](repeating: 0, count: block)
                        let count = buffer.withUnsafeMutableBytes { reader.read(at: start, into: $0) }
                        #expect(count == min(block, expected.count - start))
                        #expect(
                            Array(buffer.prefix(max(0, count))) == Array(expected[start..<start + max(0, count)]),
                            "seed \(seed), block \(block), position \(start)")
                    }
                }
                var buffer = [UInt8](repeating: 0, count: 8)
                #expect(buffer.withUnsafeMutableBytes { reader.read(at: expected.count, into: $0) } == -1)
            }
        }

        @Test func aWholeCopyHoldsThePiecesInOrder() throws {
            let bytes: [UInt8] = Array("--b\r\n".utf8)
            let body = (0..<5000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
            try body.withUnsafeBytes { mapped in
                let reader = GuardedCopyReader(pieces: [.bytes(bytes), .borrowed(mapped), .bytes([])])
                let copy = try #require(reader.copiedWhole())
                defer { free(copy.baseAddress) }
                #expect(Array(copy) == bytes + body)
            }
            let empty = try #require(GuardedCopyReader(pieces: []).copiedWhole())
            #expect(empty.count == 0)
            free(empty.baseAddress)
        }

        /// The pages of a mapping whose file was cut are gone: the copy reports it instead of the
        /// process dying of SIGBUS.
        @Test func aWholeCopyOfACutMappingIsRefused() throws {
            try #require(cposix_fault_guard_install() == 0)
            let path = FileManager.default.temporaryDirectory.appendingPathComponent(
                "guarded-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
            ).path
            let descriptor = open(path, O_RDWR | O_CREAT | O_EXCL, 0o600)
            try #require(descriptor >= 0)
            defer {
                close(descriptor)
                unlink(path)
            }
            try #require(ftruncate(descriptor, 3 * 4096) == 0)
            let mapped = try #require(mmap(nil, 3 * 4096, PROT_READ, MAP_SHARED, descriptor, 0))
            try #require(mapped != MAP_FAILED)
            defer { munmap(mapped, 3 * 4096) }
            let reader = GuardedCopyReader(pieces: [.bytes([1, 2]), .borrowed(UnsafeRawBufferPointer(start: mapped, count: 3 * 4096))])
            let whole = try #require(reader.copiedWhole())
            #expect(whole.count == 2 + 3 * 4096)
            free(whole.baseAddress)
            try #require(ftruncate(descriptor, 4096) == 0)
            #expect(reader.copiedWhole() == nil)
        }

        @Test func aLargeBodyIsReadInBlocksOfAtMost256KiB() {
            let reader = GuardedCopyReader(pieces: [.bytes([UInt8](repeating: 1, count: 1 << 20))])
            #expect(reader.blockSize == 256 * 1024)
            #expect(GuardedCopyReader(pieces: []).blockSize == 1)
        }
    }
}
