/// A path compared by its UTF-8 bytes. `String` equality is canonical equivalence, under which
/// a precomposed "é" and "e" + combining accent are equal; on disk they are two different files,
/// so every cache keyed by path uses this.
struct PathKey: Hashable, Sendable {
    let path: String
    init(_ path: String) { self.path = path }
    static func == (lhs: PathKey, rhs: PathKey) -> Bool { lhs.path.utf8.elementsEqual(rhs.path.utf8) }
    func hash(into hasher: inout Hasher) {
        var path = path
        path.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }
}
