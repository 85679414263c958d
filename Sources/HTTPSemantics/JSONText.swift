/// JSON string literals from arbitrary bytes.
///
/// Search results quote lines from files that may hold anything. Valid UTF-8 passes through as
/// UTF-8 (escaped only where JSON requires it); every byte that is not part of a well-formed
/// UTF-8 sequence is shown as the four characters `\xNN` (lowercase hex), so `FF` appears in the
/// JSON text as `"\\xff"`. That is Python's `bytes.decode("utf-8", "backslashreplace")`, which
/// makes the output familiar and lets a reader recover the original bytes. (As with Python, a
/// literal backslash followed by `xff` in the file reads the same; the escape is for display.)
///
/// "Well-formed" is Unicode's definition (Table 3-7): no overlong forms, no surrogates
/// (`ED A0..BF`), nothing above U+10FFFF, no truncated sequences. An ill-formed sequence is
/// escaped one byte at a time, which gives the same result as escaping its maximal subpart.
///
/// This runs for every match line, so it works on raw buffers, copies runs of plain bytes in
/// bulk, and never creates a `String` or `Character` per input character.
public enum JSONText {
    /// Appends `"…"`, the JSON string literal for `bytes`, to `output`.
    ///
    /// No capacity is reserved here: `Array.reserveCapacity` is exact, so reserving on every
    /// call would turn many small appends into quadratic copying. Reserve once up front when
    /// the total size is known.
    public static func appendStringLiteral(_ bytes: UnsafeRawBufferPointer, to output: inout [UInt8]) {
        output.append(quote)
        let count = bytes.count
        var index = 0
        var runStart = 0
        while index < count {
            let byte = bytes[index]
            if byte >= 0x20 && byte < 0x80 && byte != quote && byte != backslash {
                index += 1
                continue
            }
            let sequenceLength = byte < 0x80 ? 1 : wellFormedSequenceLength(bytes, at: index)
            if sequenceLength > 1 && !isLineOrParagraphSeparator(bytes, at: index, length: sequenceLength) {
                index += sequenceLength
                continue
            }
            appendRun(bytes, runStart..<index, to: &output)
            if byte < 0x80 {
                appendEscapedASCII(byte, to: &output)
                index += 1
            } else if sequenceLength > 1 {
                // U+2028 / U+2029 are legal in JSON but end a line in JavaScript before ES2019;
                // escaping them keeps the body safe to embed in a script.
                appendUnicodeEscape(bytes[index + 2] == 0xA8 ? 0x2028 : 0x2029, to: &output)
                index += sequenceLength
            } else {
                output.append(backslash)
                output.append(backslash)
                output.append(UInt8(ascii: "x"))
                output.append(hexDigit(byte >> 4))
                output.append(hexDigit(byte & 0xF))
                index += 1
            }
            runStart = index
        }
        appendRun(bytes, runStart..<count, to: &output)
        output.append(quote)
    }

    /// Appends the JSON string literal for any byte collection (a `String`'s `utf8`, an array,
    /// a slice); contiguous storage is used in place, anything else is copied once.
    public static func appendStringLiteral(_ bytes: some Collection<UInt8>, to output: inout [UInt8]) {
        let handled: Void? = bytes.withContiguousStorageIfAvailable { buffer in
            appendStringLiteral(UnsafeRawBufferPointer(buffer), to: &output)
        }
        if handled == nil {
            Array(bytes).withUnsafeBytes { appendStringLiteral($0, to: &output) }
        }
    }

    /// The JSON string literal for `bytes`, quotes included, as a `String`.
    public static func stringLiteral(_ bytes: some Collection<UInt8>) -> String {
        var output: [UInt8] = []
        appendStringLiteral(bytes, to: &output)
        return String(decoding: output, as: UTF8.self)
    }

    /// Copies `range` of `bytes` in one `memcpy`-like step. Viewing the bytes as `UInt8` is
    /// sound for any memory (a byte is trivial and may alias anything), and the typed buffer is
    /// what lets `Array.append` copy in bulk rather than through the generic sequence path.
    @inline(__always)
    private static func appendRun(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, to output: inout [UInt8]) {
        guard !range.isEmpty, let base = bytes.baseAddress else { return }
        output.append(
            contentsOf: UnsafeBufferPointer(start: base.assumingMemoryBound(to: UInt8.self) + range.lowerBound, count: range.count))
    }

    private static let quote = UInt8(ascii: "\"")
    private static let backslash = UInt8(ascii: "\\")

    /// Length (2...4) of the well-formed UTF-8 sequence starting with the non-ASCII byte at
    /// `index`, or 0 when there is none.
    private static func wellFormedSequenceLength(_ bytes: UnsafeRawBufferPointer, at index: Int) -> Int {
        let lead = bytes[index]
        let length: Int
        var secondRange: ClosedRange<UInt8> = 0x80...0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0:
            length = 3
            secondRange = 0xA0...0xBF
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED:
            length = 3
            secondRange = 0x80...0x9F
        case 0xF0:
            length = 4
            secondRange = 0x90...0xBF
        case 0xF1...0xF3: length = 4
        case 0xF4:
            length = 4
            secondRange = 0x80...0x8F
        default: return 0
        }
        guard bytes.count - index >= length, secondRange.contains(bytes[index + 1]) else { return 0 }
        for offset in 2..<length where bytes[index + offset] & 0xC0 != 0x80 {
            return 0
        }
        return length
    }

    private static func isLineOrParagraphSeparator(_ bytes: UnsafeRawBufferPointer, at index: Int, length: Int) -> Bool {
        length == 3 && bytes[index] == 0xE2 && bytes[index + 1] == 0x80
            && (bytes[index + 2] == 0xA8 || bytes[index + 2] == 0xA9)
    }

    private static func appendEscapedASCII(_ byte: UInt8, to output: inout [UInt8]) {
        let shortForm: UInt8? =
            switch byte {
            case quote: quote
            case backslash: backslash
            case 0x08: UInt8(ascii: "b")
            case 0x09: UInt8(ascii: "t")
            case 0x0A: UInt8(ascii: "n")
            case 0x0C: UInt8(ascii: "f")
            case 0x0D: UInt8(ascii: "r")
            default: nil
            }
        if let shortForm {
            output.append(backslash)
            output.append(shortForm)
        } else {
            appendUnicodeEscape(UInt16(byte), to: &output)
        }
    }

    /// `\uXXXX` with lowercase hex, as Python's `json.dumps` writes it.
    private static func appendUnicodeEscape(_ codeUnit: UInt16, to output: inout [UInt8]) {
        output.append(backslash)
        output.append(UInt8(ascii: "u"))
        for shift in stride(from: 12, through: 0, by: -4) {
            output.append(hexDigit(UInt8(codeUnit >> UInt16(shift) & 0xF)))
        }
    }

    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
    }
}
