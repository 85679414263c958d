/// The `lines` view of `GET /files/<path>`: which lines a client asked for, parsed from the
/// query value, and the headers that say what was served.
///
/// | value | lines | like |
/// |---|---|---|
/// | `A-B` | A to B, inclusive | `sed -n 'A,Bp'` |
/// | `A-` | A to the end | `sed -n 'A,$p'` |
/// | `A` | A alone | `sed -n 'Ap'` |
/// | `-N` | the last N | `tail -n N` |
///
/// Numbers are 1-based decimal digits only (no sign, no spaces, leading zeros allowed as sed
/// allows them). `0` anywhere, `B < A`, anything else (`1-2-3`, `-`, `a`, `+5`, `1,5`) and
/// numbers above `Int64.max` are refused with a 400 that says why: a guess could serve the wrong
/// lines and the client would not know.
public enum LineSelection: Sendable, Hashable {
    /// Lines `first` through `last` (nil: to the end of the file).
    case range(first: Int, last: Int?)
    /// The last `count` lines.
    case last(count: Int)

    /// Parses a `lines=` value (already percent-decoded).
    ///
    /// - Throws: 400 for every value the table above does not name.
    public init(parsing value: [UInt8]) throws(ProblemDetails) {
        let dash = value.firstIndex(of: UInt8(ascii: "-"))
        guard let dash else {
            let line = try Self.number(value[...], in: value)
            self = .range(first: line, last: line)
            return
        }
        let left = value[..<dash]
        let right = value[(dash + 1)...]
        if left.isEmpty {
            self = .last(count: try Self.number(right, in: value))
            return
        }
        let first = try Self.number(left, in: value)
        if right.isEmpty {
            self = .range(first: first, last: nil)
            return
        }
        let last = try Self.number(right, in: value)
        guard last >= first else {
            throw .badRequest("The lines range \(ProblemDetails.quoted(value)) ends before it starts (\(last) < \(first)).")
        }
        self = .range(first: first, last: last)
    }

    /// A positive decimal number, or the 400 that names the whole value.
    private static func number(_ digits: ArraySlice<UInt8>, in value: [UInt8]) throws(ProblemDetails) -> Int {
        guard !digits.isEmpty, digits.allSatisfy({ UInt8(ascii: "0")...UInt8(ascii: "9") ~= $0 }) else {
            throw .badRequest(
                "The query parameter 'lines' must be A-B, A-, A or -N with positive decimal line numbers, not \(ProblemDetails.quoted(value))."
            )
        }
        var number = 0
        for digit in digits {
            let (times, overflowA) = number.multipliedReportingOverflow(by: 10)
            let (sum, overflowB) = times.addingReportingOverflow(Int(digit - UInt8(ascii: "0")))
            guard !overflowA, !overflowB else {
                throw .badRequest("The line number in \(ProblemDetails.quoted(value)) is too large.")
            }
            number = sum
        }
        guard number > 0 else {
            throw .badRequest("Lines are numbered from 1: \(ProblemDetails.quoted(value)) names line 0.")
        }
        return number
    }

    /// The value as a canonical token (`10-20`, `10-`, `-5`), for the view's ETag: two spellings
    /// of one selection (`7` and `7-7`, `007-9`) share a tag.
    public var canonical: String {
        switch self {
        case .range(let first, let last?): "\(first)-\(last)"
        case .range(let first, nil): "\(first)-"
        case .last(let count): "-\(count)"
        }
    }

    /// The strong ETag of this view of a file whose own ETag is `fileTag`: it changes exactly when
    /// the file's does, and differs from the file's and from every other selection's, so a cache
    /// never confuses the view with the whole file or with another view.
    public func entityTag(of fileTag: EntityTag) -> EntityTag {
        EntityTag(strong: fileTag.opaque + ".lines." + canonical)
    }
}

/// What a `lines` answer served: the line numbers and the byte span, as response headers.
public struct ServedLines: Sendable, Hashable {
    /// 1-based numbers of the first and last line served; nil when nothing was served or the
    /// numbers were not counted (`line_numbers=false` on a tail).
    public var lines: ClosedRange<Int>?
    /// The bytes served, `[lowerBound, upperBound)` of the file.
    public var bytes: Range<Int>
    /// The file's length in bytes.
    public var fileSize: Int

    public init(lines: ClosedRange<Int>?, bytes: Range<Int>, fileSize: Int) {
        self.lines = lines
        self.bytes = bytes
        self.fileSize = fileSize
    }

    /// `Mmapd-Lines`: the lines served, `A-B`.
    public static let linesHeader = "Mmapd-Lines"
    /// `Mmapd-Byte-Span`: the bytes served as `a-b/len` (inclusive, as Content-Range writes them),
    /// `*/len` when the body is empty.
    public static let byteSpanHeader = "Mmapd-Byte-Span"

    /// The two headers: `Mmapd-Lines` only when lines were served and counted.
    public var headers: [(name: String, value: String)] {
        var headers: [(name: String, value: String)] = []
        if let lines, !bytes.isEmpty { headers.append((Self.linesHeader, "\(lines.lowerBound)-\(lines.upperBound)")) }
        headers.append((Self.byteSpanHeader, byteSpan))
        return headers
    }

    /// `a-b/len` or `*/len`.
    public var byteSpan: String {
        bytes.isEmpty ? "*/\(fileSize)" : "\(bytes.lowerBound)-\(bytes.upperBound - 1)/\(fileSize)"
    }
}
