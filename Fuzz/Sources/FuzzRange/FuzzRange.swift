import FuzzSupport
import HTTPSemantics

/// `Range` header: parse, then resolve against a random size and range limit, and compare with
/// an independent model of RFC 9110 §14.1.2 plus the merge rule. Invariants: the ranges lie
/// within the file, ascend, neither overlap nor touch, number at most `maxRanges`, and cover
/// exactly the bytes the satisfiable specs ask for; the multipart framing adds up.
///
/// Input: size selector, size bytes, maxRanges byte, then the header value.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let fileSize: UInt64
    switch input.u8() % 5 {
    case 0: fileSize = UInt64(input.u8())
    case 1: fileSize = UInt64(input.u16())
    case 2: fileSize = UInt64(input.u32())
    case 3: fileSize = input.u64()
    default: fileSize = UInt64.max - UInt64(input.u8())
    }
    let maxRanges = Int(input.u8() % 24) - 2  // -2...21: zero and negative limits included
    let value = FuzzInput.text(input.rest())

    let parsed = RangeHeader.parse(value)
    invariant(parsed == RangeHeader.parse(value), "parse is not deterministic")

    let trimmed = Array(value.utf8).drop { $0 == 0x20 || $0 == 0x09 }
    let hasBytesUnit = trimmed.count >= 6 && zip(trimmed, "bytes=".utf8).allSatisfy { ($0 | ($0 >= 65 && $0 <= 90 ? 0x20 : 0)) == $1 }
    switch parsed {
    case .ignored:
        invariant(!hasBytesUnit, "a bytes= header was ignored: \(value.debugDescription)")
        return 0
    case .invalid:
        invariant(hasBytesUnit, "a header without bytes= was called invalid")
        return 0
    case .specs(let specs):
        invariant(hasBytesUnit, "specs parsed from a header without bytes=")
        invariant(!specs.isEmpty, "empty spec list")
        for case .fromTo(let first, let last?) in specs {
            invariant(first <= last, "parser produced first > last")
        }
        check(specs, size: fileSize, maxRanges: maxRanges)
    }
    return 0
}

/// Inclusive intervals, as the model computes them.
private struct Interval: Equatable {
    var first: UInt64
    var last: UInt64
}

private func check(_ specs: [RangeSpec], size: UInt64, maxRanges: Int) {
    let resolution = RangeResolution.resolve(specs, size: size, maxRanges: maxRanges)
    invariant(resolution == RangeResolution.resolve(specs, size: size, maxRanges: maxRanges), "resolve is not deterministic")
    if size == 0 {
        invariant(resolution == .whole, "an empty file must be served whole")
        return
    }
    let satisfiable: [Interval] = specs.compactMap { spec in
        switch spec {
        case .fromTo(let first, let last):
            return first < size ? Interval(first: first, last: min(last ?? (size - 1), size - 1)) : nil
        case .suffix(let length):
            return length > 0 ? Interval(first: size - min(length, size), last: size - 1) : nil
        }
    }
    if satisfiable.isEmpty {
        invariant(resolution == .unsatisfiable, "nothing satisfiable, yet \(resolution)")
        return
    }
    var merged: [Interval] = []
    for interval in satisfiable.sorted(by: { $0.first < $1.first }) {
        if let previous = merged.last, interval.first <= previous.last + 1 {
            merged[merged.count - 1].last = max(previous.last, interval.last)
        } else {
            merged.append(interval)
        }
    }
    if merged.count > max(maxRanges, 0) {
        invariant(resolution == .whole, "\(merged.count) ranges above the limit \(maxRanges), yet \(resolution)")
        return
    }
    let ranges: [ByteRange]
    switch resolution {
    case .single(let range):
        invariant(merged.count == 1, "single range, model has \(merged.count)")
        ranges = [range]
    case .multiple(let list):
        invariant(list.count >= 2, "multiple with fewer than two ranges")
        ranges = list
    case .whole, .unsatisfiable:
        fatalError("invariant violated: model has \(merged.count) ranges within the limit, resolution is \(resolution)")
    }
    invariant(ranges.count <= max(maxRanges, 0), "more ranges than maxRanges")
    invariant(ranges.map { Interval(first: $0.start, last: $0.last) } == merged, "ranges differ from the model")
    var total: UInt64 = 0
    for (index, range) in ranges.enumerated() {
        invariant(range.length > 0 && range.end <= size, "range \(range) outside a \(size)-byte file")
        if index > 0 { invariant(ranges[index - 1].end < range.start, "ranges overlap, touch or are unsorted") }
        total += range.length
    }
    invariant(total <= size, "ranges add up to more than the file")

    for range in ranges {
        let header = ContentRange(range: range, completeLength: size)
        invariant(ContentRange.parse(header.headerValue) == header, "Content-Range of a 206 does not round-trip")
    }
    // Multipart answers exist for files, which are at most Int64.max bytes (off_t).
    if ranges.count >= 2, size <= UInt64(Int64.max) {
        let body = MultipartByteranges(ranges: ranges, size: size, contentType: "text/plain", boundary: "fuzz0boundary")
        let framing = body.partHeaders.reduce(body.closing.count) { $0 + $1.count }
        invariant(body.contentLength == UInt64(framing) + total, "multipart contentLength does not add up")
    }
}
