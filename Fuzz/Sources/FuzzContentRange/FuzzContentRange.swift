import FuzzSupport
import HTTPSemantics

/// `Content-Range` (PATCH header, and the part headers of PATCH bodies). Mode 0: arbitrary text;
/// a parsed value must be valid per RFC 9110 §14.4 and round-trip through `headerValue`, and as
/// the target of a write it must fit in an off_t. Mode 1: values built from random numbers must
/// parse back to themselves.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    if input.u8() % 4 == 0 {
        roundTrip(&input)
    } else {
        parse(FuzzInput.text(input.rest()))
    }
    return 0
}

private func parse(_ value: String) {
    let parsed = ContentRange.parse(value)
    invariant(parsed == ContentRange.parse(value), "parse is not deterministic")
    if let parsed {
        if let range = parsed.range {
            invariant(range.length > 0 && range.last < UInt64.max, "invalid range \(range)")
            if let length = parsed.completeLength { invariant(range.end <= length, "last-pos at or beyond complete length") }
        } else {
            invariant(parsed.completeLength != nil, "*/* accepted")
        }
        invariant(ContentRange.parse(parsed.headerValue) == parsed, "\(parsed.headerValue) does not round-trip")
        invariant(ContentRange.parse("  " + parsed.headerValue + "\t") == parsed, "surrounding OWS changes the value")
    }
    // The same value as a PATCH's Content-Range header (form 1).
    do {
        let form = try PatchForm(contentType: nil, contentRange: value)
        if case .resize(let length) = form {
            // `bytes */N` with no body is a resize (docs/PATCH.md), the one form without a range.
            invariant(parsed?.range == nil && parsed?.completeLength == length, "a resize from a value with a range")
            return
        }
        guard case .contentRange(let start, let length, let complete) = form else {
            fatalError("invariant violated: a Content-Range header selected \(form)")
        }
        invariant(parsed?.range != nil, "PatchForm accepted what ContentRange.parse refused")
        invariant(length > 0 && start <= UInt64(Int64.max) - length, "write range does not fit in off_t")
        invariant(parsed?.range?.start == start && parsed?.range?.length == length && parsed?.completeLength == complete,
                  "PatchForm disagrees with ContentRange.parse")
    } catch {
        invariant(error.status == 400, "a bad Content-Range answered \(error.status)")
    }
}

private func roundTrip(_ input: inout FuzzInput) {
    let first = input.u64() >> (input.u8() % 64)
    let last = first &+ (input.u64() >> (input.u8() % 64))
    let lengthMode = input.u8() % 3
    guard let range = ByteRange(first: first, last: last) else {
        invariant(last < first || last == UInt64.max, "ByteRange refused a valid pair")
        return
    }
    let complete: UInt64? = lengthMode == 0 ? nil : (lengthMode == 1 ? range.end : range.end &+ input.u64() >> 8)
    guard complete.map({ $0 >= range.end }) ?? true else { return }
    let value = ContentRange(range: range, completeLength: complete)
    invariant(ContentRange.parse(value.headerValue) == value, "\(value.headerValue) does not parse back")
    let unsatisfied = ContentRange(unsatisfied: first)
    invariant(ContentRange.parse(unsatisfied.headerValue) == unsatisfied, "\(unsatisfied.headerValue) does not parse back")
}
