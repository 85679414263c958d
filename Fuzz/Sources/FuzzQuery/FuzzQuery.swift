import FuzzSupport
import HTTPSemantics
import SearchWindow

/// The query of `GET /search/<path>`: QueryParameters then SearchParameters, then the byte window
/// with Python's slice rules against a random size. Invariants: accepted parameters obey the
/// contract (non-empty pattern, 0 ≤ limit ≤ maximum), refusals are 400, the window lies within
/// the file and matches a direct model of `mmap.find(sub, start, end)`.
///
/// Input: flags, maximum limit, size, then the raw query (absent when flag bit 0 is set).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let flags = input.u8()
    let maximumLimit = flags & 2 == 2 ? Int.max : Int(input.u16())
    let fileSize = flags & 4 == 4 ? Int(input.u64() >> 2) : Int(input.u16())
    let raw = input.rest()
    let query: String? = flags & 1 == 1 ? nil : FuzzInput.text(raw)

    let parameters: SearchParameters
    do {
        parameters = try SearchParameters(QueryParameters(parsing: query), maximumLimit: maximumLimit)
    } catch {
        invariant(error.status == 400, "query refused with \(error.status)")
        return 0
    }
    invariant(query != nil, "no query accepted (q is required)")
    invariant(!parameters.pattern.isEmpty, "empty pattern accepted")
    invariant(parameters.limit >= 0 && parameters.limit <= maximumLimit, "limit \(parameters.limit) outside 0...\(maximumLimit)")
    let again = try? SearchParameters(QueryParameters(parsing: query), maximumLimit: maximumLimit)
    invariant(again == parameters, "parsing is not deterministic")

    let window = SearchWindow.resolve(start: parameters.start, end: parameters.end, size: fileSize)
    invariant(window.lowerBound >= 0 && window.upperBound <= fileSize, "window \(window) outside \(fileSize) bytes")
    func python(_ value: Int64?, default fallback: Int) -> Int {
        guard let value else { return fallback }
        let size = Int64(fileSize)
        let shifted = value < 0 ? max(value + size, 0) : value  // value + size cannot overflow: size >= 0
        return Int(min(shifted, size))
    }
    let start = python(parameters.start, default: 0)
    let end = python(parameters.end, default: fileSize)
    if start <= end {
        invariant(window == start..<end, "window \(window), Python says \(start)..<\(end)")
        invariant(SearchWindow.resolveOrNil(start: parameters.start, end: parameters.end, size: fileSize) == window, "resolveOrNil differs")
    } else {
        invariant(window.isEmpty && window.lowerBound == start, "crossed window should be empty at start")
        invariant(SearchWindow.resolveOrNil(start: parameters.start, end: parameters.end, size: fileSize) == nil, "crossed window not nil")
    }
    return 0
}
