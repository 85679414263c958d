import FuzzSupport
import HTTPSemantics

/// Signed links: the query parser (`expires`, `signature`) and the scope rules over a fuzzed
/// request path. Invariants: parsing is deterministic; an accepted link has a positive canonical
/// expiry and a 32-byte signature, and its printed query parses back to itself; a file scope
/// never ends in `/` and a directory scope always does; the granting prefixes grow strictly, end
/// at the whole scope, are ancestors (each ending in `/`) before it, and never cut a segment, so
/// no scope can grant a sibling that merely shares a prefix (`dir` vs `dir2/`).
///
/// Input: the raw query up to the first NUL, then the raw path after `/files/`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let query = FuzzInput.text(input.bytes(until: 0))
    let rawPath = FuzzInput.text(input.rest())

    let presence = SignedLink.parameters(in: query)
    invariant(SignedLink.parameters(in: query) == presence, "parsing is not deterministic")
    if case .present(let parameters) = presence {
        invariant(parameters.expires >= 0, "negative expiry \(parameters.expires)")
        invariant(parameters.signature.count == SignedLink.signatureBytes, "signature of \(parameters.signature.count) bytes")
        invariant(SignedLink.parameters(in: parameters.query) == presence, "the printed query does not parse back")
        invariant(SignedLink.parameters(in: parameters.query + "&" + parameters.query) == .malformed, "a repeated link is accepted")
    }

    guard let target = try? RequestTarget(parsing: "/files/" + rawPath), case .files(let file) = target.route else { return 0 }
    let scope = SignedLink.scope(path: file.path.string, isDirectory: file.isDirectory)
    let bytes = Array(scope.utf8)
    invariant(!bytes.isEmpty, "empty scope")
    invariant(file.isDirectory == (bytes.last == UInt8(ascii: "/")), "scope '\(scope)' disagrees with isDirectory \(file.isDirectory)")
    invariant(scope == "/" || bytes.first != UInt8(ascii: "/"), "a non-root scope starts with '/'")
    let lengths = SignedLink.grantingLengths(of: scope)
    invariant(scope == "/" ? lengths.isEmpty : lengths.last == bytes.count, "the scope does not grant itself")
    for (index, length) in lengths.enumerated() {
        invariant(length > 0 && length <= bytes.count, "length \(length) outside the scope")
        if index > 0 { invariant(length > lengths[index - 1], "lengths do not grow") }
        if length < bytes.count { invariant(bytes[length - 1] == UInt8(ascii: "/"), "an ancestor that cuts a segment") }
    }
    invariant(SignedLink.grantingScopes(of: scope).first == "/", "the root does not grant")
    let expires = Int64(bytes.count)
    invariant(SignedLink.message(scope: scope, expires: expires) == SignedLink.messagePrefix(expires: expires) + bytes, "message layout")
    return 0
}
