import FuzzSupport
import HTTPSemantics

/// JSON string literals from arbitrary bytes (search result lines, paths, problem details).
/// Invariants: the output is one valid JSON string in valid UTF-8 with no raw control character
/// and no raw U+2028/U+2029, and it decodes to Python's `bytes.decode("utf-8", "backslashreplace")`
/// of the input. Also the problem+json body built around client text stays valid.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    var output: [UInt8] = []
    JSONText.appendStringLiteral(bytes, to: &output)
    invariant(String(validating: output, as: UTF8.self) != nil, "output is not UTF-8")
    invariant(!output.contains { $0 < 0x20 }, "raw control character in output")
    let text = String(decoding: output, as: UTF8.self)
    invariant(!text.unicodeScalars.contains { $0.value == 0x2028 || $0.value == 0x2029 }, "raw U+2028/2029")
    guard let decoded = decodeJSONString(output) else {
        fatalError("invariant violated: not a single JSON string: \(text.debugDescription)")
    }
    invariant(decoded == backslashReplace(bytes), "decodes to something else than backslashreplace")

    let problem = ProblemDetails.badRequest("echo " + String(decoding: bytes, as: UTF8.self))
    invariant(decodeJSONObjectShape(problem.json), "problem+json body is not a flat JSON object")
    return 0
}

/// Python's backslashreplace: well-formed UTF-8 as is, every other byte as the text `\xNN`.
private func backslashReplace(_ bytes: [UInt8]) -> [UInt8] {
    var result: [UInt8] = []
    var index = 0
    while index < bytes.count {
        var iterator = bytes[index...].makeIterator()
        var parser = Unicode.UTF8.ForwardParser()
        switch parser.parseScalar(from: &iterator) {
        case .valid(let encoded):
            result += encoded
            index += encoded.count
        case .error(let length):
            for byte in bytes[index..<(index + length)] {
                result += Array("\\x".utf8) + hexPair(byte)
            }
            index += length
        case .emptyInput:
            index = bytes.count
        }
    }
    return result
}

private func hexPair(_ byte: UInt8) -> [UInt8] {
    let digits = Array("0123456789abcdef".utf8)
    return [digits[Int(byte >> 4)], digits[Int(byte & 15)]]
}

/// Decodes one JSON string literal (RFC 8259 §7) to UTF-8 bytes; nil if `text` is not exactly one.
private func decodeJSONString(_ text: [UInt8]) -> [UInt8]? {
    guard text.count >= 2, text.first == 0x22, text.last == 0x22 else { return nil }
    var result: [UInt8] = []
    var index = 1
    let end = text.count - 1
    var pendingHigh: UInt32?
    while index < end {
        let byte = text[index]
        if byte == 0x22 { return nil }
        guard byte == 0x5C else {
            guard pendingHigh == nil else { return nil }
            result.append(byte)
            index += 1
            continue
        }
        guard index + 1 < end else { return nil }
        let escape = text[index + 1]
        index += 2
        var scalar: UInt32
        switch escape {
        case 0x22, 0x5C, 0x2F: scalar = UInt32(escape)
        case UInt8(ascii: "b"): scalar = 8
        case UInt8(ascii: "f"): scalar = 12
        case UInt8(ascii: "n"): scalar = 10
        case UInt8(ascii: "r"): scalar = 13
        case UInt8(ascii: "t"): scalar = 9
        case UInt8(ascii: "u"):
            guard index + 4 <= end, let value = UInt32(String(decoding: text[index..<(index + 4)], as: UTF8.self), radix: 16) else { return nil }
            index += 4
            scalar = value
        default: return nil
        }
        if let high = pendingHigh {
            guard (0xDC00...0xDFFF).contains(scalar) else { return nil }
            scalar = 0x10000 + ((high - 0xD800) << 10) + (scalar - 0xDC00)
            pendingHigh = nil
        } else if (0xD800...0xDBFF).contains(scalar) {
            pendingHigh = scalar
            continue
        } else if (0xDC00...0xDFFF).contains(scalar) {
            return nil
        }
        guard let unicode = Unicode.Scalar(scalar) else { return nil }
        result += Array(String(unicode).utf8)
    }
    return pendingHigh == nil ? result : nil
}

/// `{"title":"…","status":400,"detail":"…"}`: checks the three members' shape.
private func decodeJSONObjectShape(_ json: [UInt8]) -> Bool {
    let text = String(decoding: json, as: UTF8.self)
    guard text.hasPrefix(#"{"title":"Bad Request","status":400,"detail":"#), text.hasSuffix("}") else { return false }
    let literal = Array(json.dropFirst(#"{"title":"Bad Request","status":400,"detail":"#.utf8.count).dropLast())
    return decodeJSONString(literal) != nil
}
