/// The byte window of a search, resolved with the slice rules of Python's `mmap.find(sub, start, end)`.
public enum SearchWindow {
    /// Resolves `start`/`end` against a buffer of `size` bytes exactly as CPython's `mmap.find` does:
    /// a negative value counts from the end (`size + value`), then each is clamped to `0...size`;
    /// `nil` means `0` for `start` and `size` for `end` (the contract's defaults; `mmap` itself would
    /// default `start` to the file position). When `start > end` the window is empty: the returned
    /// range is `start..<start` (Python's `find` returns -1 there, even for an empty needle).
    public static func resolve(start: Int64?, end: Int64?, size: Int) -> Range<Int> {
        let (lower, upper) = bounds(start: start, end: end, size: size)
        return upper < lower ? lower..<lower : lower..<upper
    }

    /// Like ``resolve(start:end:size:)`` but `nil` when `start > end` after resolution: Python then
    /// finds nothing at all, not even an empty regex match (`re.compile(b"x*").findall(b"abc", 2, 1)`
    /// is empty while `findall(b"abc", 2, 2)` holds one empty match). Callers that search patterns
    /// can answer "no match" directly for `nil`.
    public static func resolveOrNil(start: Int64?, end: Int64?, size: Int) -> Range<Int>? {
        let (lower, upper) = bounds(start: start, end: end, size: size)
        return upper < lower ? nil : lower..<upper
    }

    private static func bounds(start: Int64?, end: Int64?, size: Int) -> (Int, Int) {
        precondition(size >= 0, "negative size")
        let size64 = Int64(size)
        func clamp(_ value: Int64) -> Int {
            // value < 0: value + size cannot overflow since size >= 0 and value >= Int64.min.
            let shifted = value < 0 ? value + size64 : value
            return Int(min(max(shifted, 0), size64))
        }
        return (start.map(clamp) ?? 0, end.map(clamp) ?? size)
    }
}
