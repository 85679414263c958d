import FuzzSupport
import HTTPSemantics

/// Body framing from every Content-Length and Transfer-Encoding field line (MessageFraming):
/// no crash on any bytes, the same answer twice, refusals only 400 or 501, a message with both
/// fields always refused, a transfer-coded body never declaring a length, a declared length
/// equal to every element of every Content-Length line, and `hasBody` agreeing with the framing.
///
/// Input: field lines separated by LF, each led by a byte whose low bit picks the field
/// (0: Content-Length, 1: Transfer-Encoding).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    var lengths: [String] = []
    var codings: [String] = []
    while !input.isAtEnd {
        let selector = input.u8()
        let value = FuzzInput.text(input.bytes(until: UInt8(ascii: "\n")))
        if selector & 1 == 0 { lengths.append(value) } else { codings.append(value) }
    }

    let framing: MessageFraming
    do {
        framing = try MessageFraming(contentLengths: lengths, transferEncodings: codings)
    } catch {
        invariant(error.status == 400 || error.status == 501, "refused with \(error.status)")
        invariant((try? MessageFraming(contentLengths: lengths, transferEncodings: codings)) == nil, "not deterministic")
        return 0
    }
    invariant((try? MessageFraming(contentLengths: lengths, transferEncodings: codings)) == framing, "not deterministic")
    invariant(lengths.isEmpty || codings.isEmpty, "both Content-Length and Transfer-Encoding accepted")
    switch framing {
    case .none:
        invariant(lengths.isEmpty && codings.isEmpty, "no body despite framing fields")
        invariant(!framing.hasBody && framing.declaredLength == nil, "none has a body or a length")
    case .chunked:
        invariant(!codings.isEmpty, "chunked without Transfer-Encoding")
        invariant(framing.declaredLength == nil, "a transfer-coded body declared a length")
        invariant(framing.hasBody, "chunked without a body")
    case .length(let length):
        invariant(codings.isEmpty && !lengths.isEmpty, "a length without Content-Length")
        invariant(framing.declaredLength == length, "declaredLength differs")
        invariant(framing.hasBody == (length > 0), "hasBody disagrees with the length")
        for element in lengths.flatMap({ $0.split(separator: ",") }) {
            let trimmed = element.trimmingPrefix(while: { $0 == " " || $0 == "\t" })
            let digits = trimmed.prefix { $0 != " " && $0 != "\t" }
            invariant(digits.isEmpty || UInt64(digits) == length, "element \(element) differs from \(length)")
        }
    }
    return 0
}
