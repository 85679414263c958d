import ConfinedPaths

/// A path a test writes out (`pool.lease(testPath("a.txt"))`): one that is not a plain relative
/// path is a mistake in the test, so it traps. The server builds every `RelativePath` through
/// the checks that can fail.
public func testPath(_ text: String) -> RelativePath {
    guard let path = RelativePath(text) else { preconditionFailure("not a relative path: \(text)") }
    return path
}
