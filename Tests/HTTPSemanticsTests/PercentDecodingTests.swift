import HTTPSemantics
import Testing

@Suite("PercentDecoding")
struct PercentDecodingTests {
    static let decodingTable: [(String, PercentDecoding.Component, [UInt8])] = [
        ("", .path, []),
        ("abc", .path, Array("abc".utf8)),
        ("%41", .path, [0x41]),
        ("%4a%4A", .path, Array("JJ".utf8)),
        ("%2e%2E", .path, Array("..".utf8)),
        ("%2F", .path, Array("/".utf8)),
        ("%00", .path, [0]),
        ("%FF%fe", .path, [0xFF, 0xFE]),
        ("%e2%82%ac", .path, [0xE2, 0x82, 0xAC]),
        ("%25", .path, Array("%".utf8)),
        ("%2525", .path, Array("%25".utf8)),
        ("a%20b", .path, Array("a b".utf8)),
        ("a+b", .path, Array("a+b".utf8)),
        ("a+b", .query, Array("a b".utf8)),
        ("+++", .query, Array("   ".utf8)),
        ("%2B", .query, Array("+".utf8)),
        ("%2B", .path, Array("+".utf8)),
        ("%20", .query, Array(" ".utf8)),
        ("é", .path, [0xC3, 0xA9]),
        ("x%3Dy%26z", .query, Array("x=y&z".utf8))
    ]

    @Test("decodes each escape once", arguments: decodingTable)
    func decodes(encoded: String, component: PercentDecoding.Component, expected: [UInt8]) throws {
        #expect(try PercentDecoding.decode(encoded, as: component) == expected)
        #expect(try PercentDecoding.decode(Array(encoded.utf8), as: component) == expected)
    }

    @Test(
        "a '%' not followed by two hex digits is an error at its offset",
        arguments: [
            ("%", 0), ("%2", 0), ("%zz", 0), ("%2g", 0), ("%g2", 0), ("a%", 1), ("ab%4", 2), ("%41%", 3),
            ("% 41", 0), ("%+1", 0), ("%-1", 0), ("%%41", 0), ("abc%0", 3), ("%4%41", 0), ("é%", 2)
        ])
    func rejects(encoded: String, offset: Int) {
        for component in [PercentDecoding.Component.path, .query] {
            #expect(failureOffset { () throws(PercentDecodingError) in try PercentDecoding.decode(encoded, as: component) } == offset)
        }
    }

    @Test("every byte value survives an encode/decode round trip")
    func allBytes() throws {
        let hex = Array("0123456789ABCDEF".utf8)
        let encoded = (0...255).flatMap { [UInt8(ascii: "%"), hex[$0 >> 4], hex[$0 & 0xF]] }
        #expect(try PercentDecoding.decode(encoded, as: .path) == (0...255).map(UInt8.init))
    }

    @Test("works on slices with non-zero start indices")
    func slices() throws {
        let bytes = Array("xx/%41%42".utf8)
        #expect(try PercentDecoding.decode(bytes[3...], as: .path) == Array("AB".utf8))
        #expect(failureOffset { () throws(PercentDecodingError) in try PercentDecoding.decode(bytes[3..<5], as: .path) } == 0)
    }
}

/// The offset reported by `body`'s error, or nil when it succeeded.
private func failureOffset(_ body: () throws(PercentDecodingError) -> [UInt8]) -> Int? {
    do {
        _ = try body()
        return nil
    } catch {
        return error.offset
    }
}
