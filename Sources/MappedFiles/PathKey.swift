import Glibc

/// A path compared by its UTF-8 bytes. `String` equality is canonical equivalence, under which
/// a precomposed "é" and "e" + combining accent are equal; on disk they are two different files,
/// so every cache keyed by path uses this. Both operations work on the contiguous bytes: a
/// byte-by-byte `elementsEqual` over the UTF-8 view showed in a small GET's profile.
public struct PathKey: Hashable, Sendable {
    public let path: String
    public init(_ path: String) { self.path = path }

    public static func == (lhs: PathKey, rhs: PathKey) -> Bool {
        var left = lhs.path, right = rhs.path
        return left.withUTF8 { a in
            right.withUTF8 { b in a.count == b.count && (a.isEmpty || memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0) }
        }
    }

    public func hash(into hasher: inout Hasher) {
        var path = path
        path.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }
}
