import ByteSearch
import TestSupport
import Testing

/// The line index against a direct model (split at `\n`), with tiny strides so that every
/// query crosses checkpoints: random files, appends, rewrites (reported and not), truncations.
@Suite struct LineIndexTests {
    private struct Model {
        var bytes: [UInt8]
        var lines: [ArraySlice<UInt8>] {
            var result: [ArraySlice<UInt8>] = []
            var start = 0
            for (i, byte) in bytes.enumerated() where byte == 0x0A {
                result.append(bytes[start...i])
                start = i + 1
            }
            if start < bytes.count { result.append(bytes[start...]) }
            return result
        }
    }

    private static func randomText(_ random: inout SeededRandom, count: Int) -> [UInt8] {
        (0..<count).map { _ in
            let roll = random.next() % 10
            return roll < 3 ? 0x0A : roll == 3 ? 0x0D : UInt8(0x61 + random.next() % 26)
        }
    }

    private func check(_ model: Model, _ indexes: LineIndexes, _ file: LineIndexes.File, _ random: inout SeededRandom) throws {
        let lines = model.lines
        try model.bytes.withUnsafeBytes { buffer throws in
            for _ in 0..<20 {
                let first = 1 + Int(random.next() % UInt64(lines.count + 3))
                let last = random.next() % 4 == 0 ? nil : first + Int(random.next() % 40)
                let span = try indexes.span(first: first, last: last, of: file, in: buffer)
                let expected = first > lines.count ? [] : Array(lines[(first - 1)..<min(lines.count, last ?? lines.count)].joined())
                #expect(span.map { Array(buffer[$0.bytes]) } ?? [] == expected, "lines \(first)-\(String(describing: last))")
                if let span { #expect(span.lines == first...min(lines.count, last ?? lines.count)) }
                let count = 1 + Int(random.next() % 50)
                let tail = try indexes.tail(count, numbered: true, of: file, in: buffer)
                #expect(tail.map { Array(buffer[$0.bytes]) } ?? [] == Array(lines.suffix(count).joined()))
                if let tail { #expect(tail.lines == max(1, lines.count - count + 1)...lines.count) }
                let offset = Int(random.next() % UInt64(model.bytes.count + 1))
                #expect(try indexes.lineNumber(at: offset, of: file, in: buffer) == 1 + model.bytes[..<offset].filter { $0 == 0x0A }.count)
            }
        }
    }

    @Test(arguments: [1, 2, 3, 4])
    func modelUnderAppendsAndRewrites(seed: UInt64) throws {
        var random = SeededRandom(seed: seed)
        let indexes = LineIndexes(memoryLimit: 1 << 20, configuration: SearchConfiguration(memoryBoundConcurrency: 2), stride: 64)
        var file = LineIndexes.File(path: testPath("log"), device: 1, inode: 1)
        var model = Model(bytes: Self.randomText(&random, count: 3000))
        for _ in 0..<60 {
            switch random.next() % 6 {
            case 0, 1, 2:
                model.bytes += Self.randomText(&random, count: Int(random.next() % 700))
            case 3:
                // A rewrite this server made, reported.
                let offset = Int(random.next() % UInt64(max(1, model.bytes.count)))
                let replacement = Self.randomText(&random, count: min(50, model.bytes.count - offset))
                model.bytes.replaceSubrange(offset..<(offset + replacement.count), with: replacement)
                indexes.rewrote(path: testPath("log"), from: offset)
            case 4:
                // Another process truncated and rewrote from somewhere, then grew the file.
                let cut = Int(random.next() % UInt64(max(1, model.bytes.count)))
                model.bytes = Array(model.bytes[..<cut]) + Self.randomText(&random, count: Int(random.next() % 5000))
            default:
                // Replaced: another inode.
                file.inode += 1
                model.bytes = Self.randomText(&random, count: Int(random.next() % 4000))
            }
            if model.bytes.isEmpty { model.bytes = [0x61] }
            try check(model, indexes, file, &random)
        }
        #expect(indexes.memoryInUse <= 1 << 20)
    }

    @Test func memoryBoundHoldsAcrossFilesAndCoarsens() throws {
        let indexes = LineIndexes(memoryLimit: 4096, configuration: SearchConfiguration(memoryBoundConcurrency: 1), stride: 64)
        var random = SeededRandom(seed: 9)
        let text = Self.randomText(&random, count: 200_000)
        let model = Model(bytes: text)
        for name in 0..<8 {
            let file = LineIndexes.File(path: testPath("f\(name)"), device: 1, inode: UInt64(name))
            try text.withUnsafeBytes { buffer throws in
                let span = try indexes.span(first: model.lines.count, last: nil, of: file, in: buffer)
                #expect(span?.lines == model.lines.count...model.lines.count)
            }
            #expect(indexes.memoryInUse <= 4096)
        }
        try check(model, indexes, LineIndexes.File(path: testPath("f0"), device: 1, inode: 0), &random)
    }

    @Test func emptyAndTinyFiles() throws {
        let indexes = LineIndexes(memoryLimit: 1 << 16)
        let file = LineIndexes.File(path: testPath("e"), device: 1, inode: 1)
        try [UInt8]().withUnsafeBytes { buffer throws in
            #expect(try indexes.span(first: 1, last: nil, of: file, in: buffer) == nil)
            #expect(try indexes.tail(3, numbered: true, of: file, in: buffer) == nil)
        }
        try Array("\n\n".utf8).withUnsafeBytes { buffer throws in
            #expect(try indexes.span(first: 2, last: 5, of: file, in: buffer)?.bytes == 1..<2)
            #expect(try indexes.span(first: 3, last: nil, of: file, in: buffer) == nil)
            #expect(try indexes.tail(1, numbered: true, of: file, in: buffer)?.lines == 2...2)
            #expect(try indexes.tail(1, numbered: false, of: file, in: buffer)?.lines == nil)
        }
    }
}
