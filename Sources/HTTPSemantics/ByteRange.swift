/// A non-empty span of a representation's bytes, `[start, start + length)`.
///
/// HTTP writes byte ranges inclusively (`first-pos "-" last-pos`, RFC 9110 §14.1.2 and §14.4);
/// this type is half-open with an explicit length because that is what a memory-map slice and an
/// iovec take. ``last`` gives the inclusive form back for headers.
///
/// A range is never empty: RFC 9110 has no way to write an empty byte range, so an empty one can
/// only be a bug, and the initializer traps on it.
public struct ByteRange: Sendable, Hashable {
    /// Offset of the first byte.
    public let start: UInt64
    /// Number of bytes; always at least 1.
    public let length: UInt64

    /// - Precondition: `length > 0` and `start + length` fits in `UInt64`.
    public init(start: UInt64, length: UInt64) {
        precondition(length > 0, "a byte range is never empty")
        precondition(start <= UInt64.max - length, "byte range runs past UInt64.max")
        self.start = start
        self.length = length
    }

    /// The range HTTP writes as `first-last` (both inclusive), or nil when `last < first` (an
    /// invalid range, RFC 9110 §14.1.2) or when the end offset `last + 1` would not fit in
    /// `UInt64`.
    public init?(first: UInt64, last: UInt64) {
        guard first <= last, last < UInt64.max else { return nil }
        self.init(start: first, length: last - first + 1)
    }

    /// One past the last byte: the exclusive end.
    public var end: UInt64 { start + length }

    /// The last byte's offset: HTTP's inclusive `last-pos`.
    public var last: UInt64 { start + length - 1 }
}
