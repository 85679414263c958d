/// What to send for a parsed `bytes` range set against a representation of a known size.
public enum RangeResolution: Sendable, Equatable {
    /// 200 with the whole representation: the Range header is ignored.
    case whole
    /// 416 with `Content-Range: bytes */size`.
    case unsatisfiable
    /// 206 with one `Content-Range`.
    case single(ByteRange)
    /// 206 `multipart/byteranges`: at least two ranges, ascending, none overlapping or touching.
    case multiple([ByteRange])

    /// Resolves `specs` (as produced by ``RangeHeader/parse(_:)``) against `size` bytes.
    ///
    /// - Per RFC 9110 §14.1.2, `a-b` and `a-` are satisfiable when `a < size` and their end is
    ///   clamped to `size - 1`; `-n` is satisfiable when `n > 0` and means the last
    ///   `min(n, size)` bytes. Unsatisfiable specs among satisfiable ones are dropped; when none is
    ///   satisfiable the answer is ``unsatisfiable`` (§15.5.17).
    /// - The satisfiable ranges are sorted and every overlapping or adjacent pair is merged, which
    ///   §14.1.2 allows ("MAY coalesce"). Without it `bytes=0-,0-,0-,…` asks for the whole file
    ///   once per spec: the amplification behind Apache's CVE-2011-3192. After merging the ranges
    ///   are disjoint, so the bytes sent never exceed `size`, whatever the header says.
    /// - When more than `maxRanges` ranges remain the header is ignored (``whole``), which §14.2
    ///   permits for GET; this bounds the multipart framing added to the body. `maxRanges` of 0
    ///   (or less) turns range serving off while still answering 416 to unsatisfiable sets, and 1
    ///   allows only single-part answers.
    /// - A zero-length representation is always served ``whole``. §14.1.2 counts `-n` (n > 0) as
    ///   satisfiable there, yet no `Content-Range` can describe an empty range, and answering 416
    ///   to `bytes=0-` would break clients that send a Range header on every request. Ignoring the
    ///   header (a 200 of length 0) is what Go's `ServeContent` does, and what nginx does for
    ///   every range that starts at 0.
    /// - A `.fromTo(a, b)` with `b < a` cannot come from the parser; if built by hand it is
    ///   treated as unsatisfiable rather than trusted.
    public static func resolve(_ specs: [RangeSpec], size: UInt64, maxRanges: Int) -> RangeResolution {
        guard size > 0 else { return .whole }
        // One spec, nearly every request: the same answer as below without the three arrays
        // (a tenth of a 1 KiB range GET's own work went to building them).
        if specs.count == 1 {
            guard let range = satisfiableRange(specs[0], size: size) else { return .unsatisfiable }
            return maxRanges >= 1 ? .single(range) : .whole
        }

        let satisfiable = specs.compactMap { satisfiableRange($0, size: size) }
        guard !satisfiable.isEmpty else { return .unsatisfiable }

        let merged = coalesced(satisfiable)
        if merged.count > max(maxRanges, 0) { return .whole }
        return merged.count == 1 ? .single(merged[0]) : .multiple(merged)
    }

    private static func satisfiableRange(_ spec: RangeSpec, size: UInt64) -> ByteRange? {
        switch spec {
        case .fromTo(let first, let last):
            guard first < size else { return nil }
            let clampedLast = min(last ?? size - 1, size - 1)
            return ByteRange(first: first, last: clampedLast)
        case .suffix(let length):
            guard length > 0 else { return nil }
            let taken = min(length, size)
            return ByteRange(start: size - taken, length: taken)
        }
    }

    /// Sorts by start and merges ranges that overlap or touch (`end == next.start`).
    private static func coalesced(_ ranges: [ByteRange]) -> [ByteRange] {
        var merged: [ByteRange] = []
        for range in ranges.sorted(by: { $0.start < $1.start }) {
            if let previous = merged.last, range.start <= previous.end {
                let end = max(previous.end, range.end)
                merged[merged.count - 1] = ByteRange(start: previous.start, length: end - previous.start)
            } else {
                merged.append(range)
            }
        }
        return merged
    }
}
