import CMicroHTTPD
import CPOSIXShim
import Glibc

/// A body in borrowed memory (a mapping, and the generated parts around it) that libmicrohttpd
/// takes through a content reader, copied into its buffer block by block under the fault guard.
/// For TLS: GnuTLS would otherwise encrypt straight from the mapping on a network thread, where
/// a file truncated under the answer is a SIGBUS outside any guard; and libmicrohttpd's file
/// reader, the other way to keep off the mapping, reads 4 KiB per call (a 1 MiB range ran at
/// 0.39× nginx). A copy fault ends the answer with the connection closed, as a short file does.
package final class GuardedCopyReader {
    /// The largest block libmicrohttpd asks for: large enough for GnuTLS to fill whole 16 KiB
    /// records many times per call, small enough that a response's buffer is cheap to allocate.
    static let maximumBlock = 256 * 1024

    private let pieces: [Response.Piece]
    /// Where each piece begins in the body.
    private let starts: [Int]
    package let count: Int

    package init(pieces: [Response.Piece]) {
        self.pieces = pieces.filter { $0.count > 0 }
        var starts: [Int] = []
        var offset = 0
        for piece in self.pieces {
            starts.append(offset)
            offset += piece.count
        }
        self.starts = starts
        count = offset
    }

    /// libmicrohttpd's buffer for this body: a whole small body, or one maximum block.
    var blockSize: Int { max(1, min(count, Self.maximumBlock)) }

    /// Copies the body from `position` into `buffer`: the number of bytes, or -2 (end with an
    /// error: close the connection) when the memory's pages are gone.
    package func read(at position: Int, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        guard position < count else { return -1 }
        var index = indexOfPiece(holding: position)
        var copied = 0
        var offset = position - starts[index]
        while copied < buffer.count, index < pieces.count {
            let destination = buffer.baseAddress! + copied
            let length = min(buffer.count - copied, pieces[index].count - offset)
            switch pieces[index] {
            case .bytes(let bytes):
                bytes.withUnsafeBytes { destination.copyMemory(from: $0.baseAddress! + offset, byteCount: length) }
            case .borrowed(let memory):
                guard cposix_guarded_copy(destination, memory.baseAddress! + offset, length) == 0 else { return -2 }
            }
            copied += length
            index += 1
            offset = 0
        }
        return copied
    }

    /// The whole body copied into memory from `malloc` (the caller frees it), or nil when the
    /// memory's pages are gone. For a body of one block: libmicrohttpd sends a buffer's body in
    /// the same turn of its loop as the head, a content reader's only in the next turn.
    func copiedWhole() -> UnsafeMutableRawBufferPointer? {
        let buffer = UnsafeMutableRawBufferPointer(start: malloc(max(count, 1)), count: count)
        guard buffer.baseAddress != nil else { return nil }
        guard count == 0 || read(at: 0, into: buffer) == count else {
            free(buffer.baseAddress)
            return nil
        }
        return buffer
    }

    /// The last piece starting at or before `position` (binary search: a multipart body may have
    /// hundreds of pieces).
    private func indexOfPiece(holding position: Int) -> Int {
        var low = 0
        var high = starts.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if starts[middle] <= position { low = middle } else { high = middle - 1 }
        }
        return low
    }
}
