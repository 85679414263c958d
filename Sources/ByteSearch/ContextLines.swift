import CPOSIXShim
import Glibc
import MappedFiles

/// The lines around a match that `before=N` / `after=N` ask for (grep's `-B` / `-A`): up to N
/// whole lines before the line the match starts on and after the line it ends on, fewer at the
/// buffer's edges. A line is its bytes without the `\n` (a CRLF line keeps its `\r`); the last
/// line of a buffer that ends with `\n` is followed by no further (empty) line.
public struct ContextLines: Sendable, Hashable {
    /// Nearest last, as they appear in the file.
    public var before: [LineText]
    public var after: [LineText]

    public init(before: [LineText], after: [LineText]) {
        self.before = before
        self.after = after
    }

    /// How far one context line is looked for: a line longer than this ends the context on its
    /// side (so a match in a newline-free multi-gigabyte file costs no scan of the file).
    public static let scanLimit = 1 << 20

    /// The context of a match at `offset` of `length` bytes in `buffer`, every read guarded.
    ///
    /// A line of up to ``LineText/windowLimit`` bytes comes whole (there is no match in it to cut
    /// around); a longer one as its first ``LineText/windowLimit`` bytes (cut before a split UTF-8
    /// sequence), `isCut` set.
    public static func around(
        offset: Int, length: Int, before: Int, after: Int, in buffer: UnsafeRawBufferPointer
    ) throws(SearchError) -> ContextLines {
        guard before > 0 || after > 0, let base = buffer.baseAddress, offset >= 0, offset <= buffer.count else {
            return ContextLines(before: [], after: [])
        }
        let size = buffer.count
        do {
            return try MemoryFaultGuard.run { () -> ContextLines in
                var lines = ContextLines(before: [], after: [])
                // Before: from the start of the match's first line, backwards.
                if before > 0, var lineStart = previousNewline(base, before: offset).map({ $0 + 1 }) {
                    while lines.before.count < before, lineStart > 0 {
                        let end = lineStart - 1
                        guard let start = previousNewline(base, before: end).map({ $0 + 1 }) else { break }
                        lines.before.append(render(base, start..<end))
                        lineStart = start
                    }
                    lines.before.reverse()
                }
                // After: from the end of the match's last line (the one holding its last byte).
                let last = length > 0 ? min(size, offset + length) - 1 : offset
                if after > 0, last < size, var lineEnd = nextNewline(base, from: last, size: size) {
                    while lines.after.count < after, lineEnd + 1 < size {
                        let start = lineEnd + 1
                        guard let end = nextNewline(base, from: start, size: size) else { break }
                        lines.after.append(render(base, start..<end))
                        lineEnd = end
                    }
                }
                return lines
            }
        } catch {
            throw .fileChanged
        }
    }

    /// The start of the line holding `position`, minus one: the `\n` before it, `-1` at the
    /// buffer's start, nil when it is further back than ``scanLimit``.
    private static func previousNewline(_ base: UnsafeRawPointer, before position: Int) -> Int? {
        let from = max(0, position - scanLimit)
        if let found = cposix_memrchr(base + from, 0x0A, position - from) { return base.distance(to: UnsafeRawPointer(found)) }
        return from == 0 ? -1 : nil
    }

    /// The `\n` ending the line holding `position` (or `size` for the last line), nil when it is
    /// further than ``scanLimit``.
    private static func nextNewline(_ base: UnsafeRawPointer, from position: Int, size: Int) -> Int? {
        let to = min(size, position + scanLimit)
        if let found = memchr(base + position, 0x0A, to - position) { return base.distance(to: UnsafeRawPointer(found)) }
        return to == size ? size : nil
    }

    private static func render(_ base: UnsafeRawPointer, _ range: Range<Int>) -> LineText {
        var end = range.upperBound
        let isCut = range.count > LineText.windowLimit
        if isCut {
            end = range.lowerBound + LineText.windowLimit
            // Drop a last sequence the cut left incomplete.
            var lead = end - 1
            while lead > range.lowerBound, lead > end - 4, base.load(fromByteOffset: lead, as: UInt8.self) & 0xC0 == 0x80 { lead -= 1 }
            let byte = base.load(fromByteOffset: lead, as: UInt8.self)
            let needed = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC0 ? 2 : 1
            if byte >= 0xC0, lead + needed > end { end = lead }
        }
        let bytes = Array(UnsafeRawBufferPointer(start: base + range.lowerBound, count: end - range.lowerBound))
        return LineText(bytes: bytes, offset: range.lowerBound, isCut: isCut)
    }
}
