import FuzzSupport
import HTTPSemantics

/// A tree search's `glob`/`exclude` patterns (PathGlob) on arbitrary bytes. Invariants: a pattern
/// compiles or is refused with 400; matching is deterministic and never hangs (libFuzzer's
/// timeout); a pattern without metacharacters matches exactly its own path; `**/P` matches
/// whatever `P` matches, also below more directories; `matchesEverythingBelow(directory:)` means
/// every name below matches.
///
/// Input: the pattern up to the first NUL, then the path up to the next NUL, then a name.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let pattern = input.bytes(until: 0)
    let path = input.bytes(until: 0)
    let name = input.rest().filter { $0 != UInt8(ascii: "/") }
    let glob: PathGlob
    do {
        glob = try PathGlob(pattern)
    } catch {
        invariant(error.status == 400, "glob refused with \(error.status)")
        return 0
    }
    let matched = glob.matches(path)
    invariant(glob.matches(path) == matched, "matching is not deterministic")
    // A pattern drops its `.` names; a path is taken as given (walked paths have none).
    let names = { (bytes: [UInt8]) in bytes.split(separator: UInt8(ascii: "/")).map(Array.init) }
    if !pattern.contains(where: { [0x2A, 0x3F, 0x5B, 0x5C].contains($0) }) {
        invariant(matched == (names(pattern).filter { $0 != [0x2E] } == names(path)), "a literal pattern is its path")
    }
    if matched, let deeper = try? PathGlob(Array("**/".utf8) + pattern) {
        invariant(deeper.matches(path), "**/P misses what P matches")
        invariant(deeper.matches(Array("x/y/".utf8) + path), "**/P misses what P matches below x/y")
    }
    if !name.isEmpty, glob.matchesEverythingBelow(directory: path), !names(path).isEmpty {
        invariant(glob.matches(path + [UInt8(ascii: "/")] + name), "everything below, except a name")
    }
    return 0
}
