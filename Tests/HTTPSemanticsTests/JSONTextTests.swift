import Foundation
import HTTPSemantics
import TestSupport
import Testing

@Suite("JSONText")
struct JSONTextTests {
    /// (input bytes, exact JSON text expected)
    static let exact: [([UInt8], String)] = [
        ([], #""""#),
        (Array("abc".utf8), #""abc""#),
        (Array("\"".utf8), #""\"""#),
        (Array("\\".utf8), #""\\""#),
        (Array("/".utf8), #""/""#),
        (Array("a\"b\\c".utf8), #""a\"b\\c""#),
        ([0x08], #""\b""#), ([0x09], #""\t""#), ([0x0A], #""\n""#), ([0x0C], #""\f""#), ([0x0D], #""\r""#),
        ([0x00], #""\u0000""#), ([0x01], #""\u0001""#), ([0x0B], #""\u000b""#), ([0x1B], #""\u001b""#),
        ([0x1F], #""\u001f""#),
        ([0x20], #"" ""#), ([0x7E], #""~""#), ([0x7F], "\"\u{7F}\""),
        // valid UTF-8 passes through
        ([0xC3, 0xA9], #""é""#),
        ([0xE2, 0x82, 0xAC], #""€""#),
        ([0xF0, 0x9F, 0x98, 0x80], #""😀""#),
        ([0xC2, 0x80], "\"\u{80}\""),
        ([0xDF, 0xBF], "\"\u{7FF}\""),
        ([0xE0, 0xA0, 0x80], "\"\u{800}\""),
        ([0xED, 0x9F, 0xBF], "\"\u{D7FF}\""),
        ([0xEE, 0x80, 0x80], "\"\u{E000}\""),
        ([0xEF, 0xBB, 0xBF], "\"\u{FEFF}\""),
        ([0xEF, 0xBF, 0xBF], "\"\u{FFFF}\""),
        ([0xF0, 0x90, 0x80, 0x80], "\"\u{10000}\""),
        ([0xF4, 0x8F, 0xBF, 0xBF], "\"\u{10FFFF}\""),
        // line and paragraph separators are escaped for JavaScript's sake
        ([0xE2, 0x80, 0xA8], #""\u2028""#),
        ([0xE2, 0x80, 0xA9], #""\u2029""#),
        ([0xE2, 0x80, 0xAA], "\"\u{202A}\""),
        // bytes that are not UTF-8: \xNN, lowercase, the backslash itself escaped in JSON
        ([0xFF], #""\\xff""#),
        ([0xFE], #""\\xfe""#),
        ([0x80], #""\\x80""#),
        ([0xBF], #""\\xbf""#),
        (Array("a".utf8) + [0xFF] + Array("b".utf8), #""a\\xffb""#),
        // overlong encodings
        ([0xC0, 0x80], #""\\xc0\\x80""#),
        ([0xC0, 0xAF], #""\\xc0\\xaf""#),
        ([0xC1, 0xBF], #""\\xc1\\xbf""#),
        ([0xE0, 0x80, 0xAF], #""\\xe0\\x80\\xaf""#),
        ([0xE0, 0x9F, 0xBF], #""\\xe0\\x9f\\xbf""#),
        ([0xF0, 0x80, 0x80, 0x80], #""\\xf0\\x80\\x80\\x80""#),
        ([0xF0, 0x8F, 0xBF, 0xBF], #""\\xf0\\x8f\\xbf\\xbf""#),
        // UTF-16 surrogates encoded in UTF-8 (CESU-8 / WTF-8)
        ([0xED, 0xA0, 0x80], #""\\xed\\xa0\\x80""#),
        ([0xED, 0xBF, 0xBF], #""\\xed\\xbf\\xbf""#),
        ([0xED, 0xA0, 0xBD, 0xED, 0xB8, 0x80], #""\\xed\\xa0\\xbd\\xed\\xb8\\x80""#),
        // beyond U+10FFFF and never-valid lead bytes
        ([0xF4, 0x90, 0x80, 0x80], #""\\xf4\\x90\\x80\\x80""#),
        ([0xF5, 0x80, 0x80, 0x80], #""\\xf5\\x80\\x80\\x80""#),
        ([0xF8, 0x88, 0x80, 0x80, 0x80], #""\\xf8\\x88\\x80\\x80\\x80""#),
        // truncated sequences, at the end and before other characters
        ([0xC3], #""\\xc3""#),
        ([0xE2, 0x82], #""\\xe2\\x82""#),
        ([0xF0, 0x9F, 0x98], #""\\xf0\\x9f\\x98""#),
        ([0xC3, 0x41], #""\\xc3A""#),
        ([0xE2, 0x28, 0xA1], #""\\xe2(\\xa1""#),
        ([0xF0, 0x9F, 0x98, 0x22], #""\\xf0\\x9f\\x98\"""#),
        ([0xE2, 0x82, 0xC3, 0xA9], #""\\xe2\\x82é""#),
        ([0xC3, 0xC3, 0xA9], #""\\xc3é""#),
        // a continuation byte after a complete character
        ([0xC3, 0xA9, 0xA9], #""é\\xa9""#),
        // mixed
        ([0xC3, 0xA9, 0xFF, 0xE2, 0x82, 0xAC, 0x0A], #""é\\xff€\n""#),
        (Array(#"C:\x41"#.utf8), #""C:\\x41""#)
    ]

    @Test("exact output", arguments: exact)
    func exactOutput(input: [UInt8], expected: String) {
        #expect(JSONText.stringLiteral(input) == expected)
    }

    @Test("every control character is escaped and decodes back", arguments: 0..<0x20)
    func controlCharacters(value: Int) throws {
        let literal = JSONText.stringLiteral([UInt8(value)])
        #expect(!literal.unicodeScalars.contains { $0.value < 0x20 })
        #expect(try decodeJSONString(literal) == String(UnicodeScalar(UInt8(value))))
    }

    @Test("every lone byte 0x80...0xFF is escaped as \\xNN", arguments: 0x80...0xFF)
    func loneHighBytes(value: Int) {
        let hex = String(value, radix: 16)
        #expect(JSONText.stringLiteral([UInt8(value)]) == "\"\\\\x\(hex)\"")
    }

    @Test("output is valid JSON decoding to Python's backslashreplace, for every two-byte input")
    func allTwoByteInputs() throws {
        var output: [UInt8] = []
        for first in 0...255 {
            for second in 0...255 {
                let input = [UInt8(first), UInt8(second)]
                output.removeAll(keepingCapacity: true)
                JSONText.appendStringLiteral(input, to: &output)
                let decoded = try decodeJSONString(String(decoding: output, as: UTF8.self))
                #expect(decoded == backslashReplace(input), "input \(input)")
            }
        }
    }

    @Test("random inputs decode to Python's backslashreplace", arguments: 0..<8)
    func randomInputs(seed: Int) throws {
        var generator = SeededRandom(seed: UInt64(seed))
        for _ in 0..<200 {
            let length = Int.random(in: 0..<64, using: &generator)
            // Bias towards interesting bytes: ASCII, controls, UTF-8 lead and continuation bytes.
            let palette: [UInt8] = [
                0x00, 0x0A, 0x22, 0x5C, 0x41, 0x7F, 0x80, 0xA9, 0xBF, 0xC3, 0xE2, 0x82, 0xAC, 0xED, 0xA0, 0xF0, 0x9F, 0xF4, 0x90, 0xFF
            ]
            let input = (0..<length).map { _ in
                Bool.random(using: &generator) ? palette.randomElement(using: &generator)! : UInt8.random(in: 0...255, using: &generator)
            }
            let literal = JSONText.stringLiteral(input)
            #expect(try decodeJSONString(literal) == backslashReplace(input), "input \(input)")
        }
    }

    @Test("valid UTF-8 text round-trips unchanged")
    func validTextRoundTrips() throws {
        let text = "Grüße, 世界! 😀 \"quoted\" back\\slash\ttab\r\nline \u{7F} \u{10FFFF} \u{FEFF}"
        #expect(try decodeJSONString(JSONText.stringLiteral(Array(text.utf8))) == text)
        #expect(JSONText.stringLiteral(text.utf8) == JSONText.stringLiteral(Array(text.utf8)))
    }

    @Test("appends after what the buffer already holds")
    func appends() {
        var output = Array("{\"text\":".utf8)
        JSONText.appendStringLiteral([0x61, 0xFF], to: &output)
        output.append(UInt8(ascii: "}"))
        #expect(String(decoding: output, as: UTF8.self) == #"{"text":"a\\xff"}"#)
    }

    @Test("raw buffers, slices and non-contiguous collections give the same output")
    func inputKinds() {
        let bytes: [UInt8] = [0x78, 0xC3, 0xA9, 0xFF, 0x0A, 0x22, 0x79]
        let expected = JSONText.stringLiteral(bytes)
        var fromBuffer: [UInt8] = []
        bytes.withUnsafeBytes { JSONText.appendStringLiteral($0, to: &fromBuffer) }
        #expect(String(decoding: fromBuffer, as: UTF8.self) == expected)
        #expect(JSONText.stringLiteral(bytes[...]) == expected)
        #expect(JSONText.stringLiteral(bytes.lazy.map { $0 }) == expected)
        let padded = [0x41] + bytes + [0x42]
        #expect(JSONText.stringLiteral(padded[1..<(padded.count - 1)]) == expected)
    }

    @Test("an empty raw buffer without a base address is an empty string")
    func emptyRawBuffer() {
        var output: [UInt8] = []
        JSONText.appendStringLiteral(UnsafeRawBufferPointer(start: nil, count: 0), to: &output)
        #expect(output == Array(#""""#.utf8))
    }

    @Test("a large mixed buffer escapes fully and stays valid JSON")
    func largeBuffer() throws {
        var generator = SeededRandom(seed: 42)
        let text = Array("plain ASCII run, then é and € and 😀; ".utf8)
        var input: [UInt8] = []
        while input.count < 50_000 {
            input += text
            input += (0..<8).map { _ in UInt8.random(in: 0...255, using: &generator) }
        }
        let literal = JSONText.stringLiteral(input)
        #expect(try decodeJSONString(literal) == backslashReplace(input))
    }
}

/// Python's `bytes.decode("utf-8", "backslashreplace")`, written against the standard
/// library's own UTF-8 validation rather than the code under test.
private func backslashReplace(_ bytes: [UInt8]) -> String {
    var result = ""
    var index = 0
    while index < bytes.count {
        if let length = (1...4).first(where: { length in
            index + length <= bytes.count && String(validating: bytes[index..<(index + length)], as: UTF8.self)?.unicodeScalars.count == 1
        }) {
            result += String(decoding: bytes[index..<(index + length)], as: UTF8.self)
            index += length
        } else {
            result += "\\x" + (bytes[index] < 0x10 ? "0" : "") + String(bytes[index], radix: 16)
            index += 1
        }
    }
    return result
}

private func decodeJSONString(_ literal: String) throws -> String {
    let object = try JSONSerialization.jsonObject(with: Data(literal.utf8), options: .fragmentsAllowed)
    return try #require(object as? String)
}
