import Glibc

/// A path below the root that cannot leave it: every segment is a plain name. The one path type
/// of mmapd: parsed from request targets (HTTPSemantics), and what the storage layer keys its
/// mappings, writable files and entry turns by (MappedFiles).
///
/// Every way to build one refuses `""`, `.`, `..`, and names containing `/` or NUL, so joining
/// the segments under the root always stays under the root (symlinks aside; those are the
/// opener's to refuse).
///
/// Equality and hashing compare the UTF-8 bytes, not `String`'s canonical equivalence: on disk
/// `é` precomposed and `e` + combining accent are two different files, and a cache keyed by
/// path must keep them apart. Key such caches by `RelativePath`, not by ``string``.
public struct RelativePath: Sendable, Hashable, CustomStringConvertible {
    /// The segments joined with `/`, no leading slash; `""` for the root. Ready to hand to
    /// `openat` relative to the root directory. Stored rather than joined on use: every file
    /// request needs it.
    public let string: String

    /// The names from the root down; empty for the root itself.
    public var segments: [String] {
        string.isEmpty ? [] : string.utf8.split(separator: UInt8(ascii: "/")).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The last name, `""` for the root.
    public var lastSegment: Substring {
        string[(string.lastIndex(of: "/").map { string.index(after: $0) } ?? string.startIndex)...]
    }

    /// The root directory.
    public static let root = RelativePath(checked: "")

    /// Fails when a segment is empty, `.`, `..`, or contains `/` or NUL.
    public init?(segments: [String]) {
        for segment in segments {
            guard !segment.isEmpty, segment != ".", segment != "..",
                !segment.utf8.contains(UInt8(ascii: "/")), !segment.utf8.contains(0)
            else { return nil }
        }
        self.init(checked: segments.joined(separator: "/"))
    }

    /// `text` split at `/`, with the rules of ``init(segments:)``: nil for a leading, trailing or
    /// doubled `/`, a `.` or `..` segment, or NUL. `""` is the root. For paths the storage layer
    /// puts together itself (a canonical entry path, a walked file's path).
    public init?(_ text: String) {
        guard !text.isEmpty else {
            self.init(checked: "")
            return
        }
        self.init(segments: text.split(separator: "/", omittingEmptySubsequences: false).map(String.init))
    }

    private init(checked string: String) {
        self.string = string
    }

    /// `segments` are ranges of `bytes` already checked to be plain names (not empty, `.` or
    /// `..`, no `/` or NUL); nil when one is not UTF-8.
    package init?(validating bytes: UnsafeBufferPointer<UInt8>, segments: UnsafeBufferPointer<Range<Int>>) {
        guard let first = segments.first, let last = segments.last else {
            self.init(checked: "")
            return
        }
        if last.upperBound - first.lowerBound == segments.reduce(segments.count - 1, { $0 + $1.count }) {
            // No empty or `.` segment between them: the path is one contiguous run of the bytes,
            // valid UTF-8 exactly when each segment is (`/` never occurs inside a sequence).
            let run = UnsafeBufferPointer(rebasing: bytes[first.lowerBound..<last.upperBound])
            // ASCII needs no validation (the generic validator showed in a small GET's profile).
            if !run.contains(where: { $0 >= 0x80 }) {
                self.init(checked: String(decoding: run, as: UTF8.self))
                return
            }
            guard let string = String(validating: run, as: UTF8.self) else { return nil }
            self.init(checked: string)
        } else {
            var names: [String] = []
            for segment in segments {
                guard let name = String(validating: bytes[segment], as: UTF8.self) else { return nil }
                names.append(name)
            }
            self.init(checked: names.joined(separator: "/"))
        }
    }

    public var description: String { string }

    /// Joined with `/` and free of empty segments, the string determines the segments: comparing
    /// its bytes compares them. Both operations work on the contiguous bytes: a byte-by-byte
    /// `elementsEqual` over the UTF-8 view showed in a small GET's profile.
    public static func == (lhs: RelativePath, rhs: RelativePath) -> Bool {
        var left = lhs.string
        var right = rhs.string
        return left.withUTF8 { a in
            right.withUTF8 { b in a.count == b.count && (a.isEmpty || memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0) }
        }
    }

    public func hash(into hasher: inout Hasher) {
        var string = string
        string.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }
}
