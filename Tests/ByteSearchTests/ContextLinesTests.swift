import ByteSearch
import Testing

/// `before`/`after` context against a plain reference: split the bytes into lines, take the
/// neighbours of the match's first and last line.
@Suite struct ContextLinesTests {
    /// The lines of `data` as (start, end) without their `\n`; a final `\n` ends the last line.
    static func lines(_ data: [UInt8]) -> [Range<Int>] {
        var result: [Range<Int>] = []
        var start = 0
        for (index, byte) in data.enumerated() where byte == 0x0A {
            result.append(start..<index)
            start = index + 1
        }
        if start < data.count { result.append(start..<data.count) }
        return result
    }

    static func rendered(_ data: [UInt8], _ range: Range<Int>) -> [UInt8] {
        range.count > LineText.windowLimit ? Array(data[range.lowerBound..<(range.lowerBound + LineText.windowLimit)]) : Array(data[range])
    }

    @Test(arguments: 0..<12)
    func agreesWithAReference(seed: Int) throws {
        var random = SeededRandom(seed: UInt64(seed) &+ 77)
        // Some seeds make long lines (rare newlines), which come back cut.
        let alphabet = seed % 3 == 0 ? Array(repeating: UInt8(ascii: "a"), count: 3000) + [0x0A] : Array("ab\n\r".utf8)
        let data = random.bytes([0, 1, 5, 40, 400, 20_000][seed % 6], from: alphabet)
        let lines = Self.lines(data)
        for _ in 0..<200 {
            let offset = Int.random(in: 0...data.count, using: &random)
            let length = Int.random(in: 0...min(8, data.count - offset), using: &random)
            let (before, after) = (Int.random(in: 0...4, using: &random), Int.random(in: 0...4, using: &random))
            let first = data[..<offset].filter { $0 == 0x0A }.count
            let lastByte = length > 0 ? offset + length - 1 : offset
            let last = data[..<min(lastByte, data.count)].filter { $0 == 0x0A }.count
            let expectedBefore = lines[max(0, first - before)..<min(first, lines.count)].map { Self.rendered(data, $0) }
            let afterLines = last + 1 < lines.count ? Array(lines[(last + 1)..<min(lines.count, last + 1 + after)]) : []
            let context = try data.withUnsafeBytes { buffer in
                try ContextLines.around(offset: offset, length: length, before: before, after: after, in: buffer)
            }
            #expect(context.before.map(\.bytes) == (before == 0 ? [] : expectedBefore), "\(offset)+\(length) B\(before)")
            #expect(context.after.map(\.bytes) == afterLines.map { Self.rendered(data, $0) }, "\(offset)+\(length) A\(after)")
            #expect((context.before + context.after).allSatisfy { !$0.isCut || $0.bytes.count == LineText.windowLimit })
        }
    }

    @Test("CRLF lines keep their \\r; the edges of the buffer give fewer lines; a cut keeps UTF-8 whole")
    func edges() throws {
        let data = Array("one\r\ntwo\r\nthree\r\n".utf8)
        let context = try data.withUnsafeBytes { try ContextLines.around(offset: 5, length: 3, before: 5, after: 5, in: $0) }
        #expect(context.before.map(\.bytes) == [Array("one\r".utf8)])
        #expect(context.after.map(\.bytes) == [Array("three\r".utf8)])
        let none = try data.withUnsafeBytes { try ContextLines.around(offset: 5, length: 3, before: 0, after: 0, in: $0) }
        #expect(none == ContextLines(before: [], after: []))
        // A long line made of two-byte characters, cut at 4,096 bytes: no half character.
        let long = Array("x\n".utf8) + Array(String(repeating: "é", count: 3000).utf8) + [0x0A]
        let cut = try long.withUnsafeBytes { try ContextLines.around(offset: 0, length: 1, before: 0, after: 1, in: $0) }
        #expect(cut.after.count == 1 && cut.after[0].isCut && cut.after[0].bytes.count == LineText.windowLimit)
        #expect(String(validating: cut.after[0].bytes, as: UTF8.self) != nil)
        var odd = Array("x\n".utf8) + Array(repeating: UInt8(ascii: "a"), count: 4095) + Array("é".utf8)
        odd.append(0x0A)
        let trimmed = try odd.withUnsafeBytes { try ContextLines.around(offset: 0, length: 1, before: 0, after: 1, in: $0) }
        #expect(trimmed.after[0].bytes == Array(repeating: UInt8(ascii: "a"), count: 4095))
    }

    @Test("a line longer than the scan limit ends the context on its side")
    func scanLimit() throws {
        var data = Array("before\n".utf8) + Array(repeating: UInt8(ascii: "a"), count: ContextLines.scanLimit + 10)
        data += Array("\nmatch\nafter\n".utf8)
        let offset = data.count - 12
        let context = try data.withUnsafeBytes { try ContextLines.around(offset: offset, length: 5, before: 3, after: 3, in: $0) }
        #expect(context.before.isEmpty)
        #expect(context.after.map(\.bytes) == [Array("after".utf8)])
    }
}
