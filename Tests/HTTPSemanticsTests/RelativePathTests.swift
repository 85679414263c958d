import ConfinedPaths
import Testing

@Suite("RelativePath")
struct RelativePathTests {
    @Test(
        "a joined path is taken apart with the segment rules",
        arguments: [
            ("", [String]?.some([])), ("a", ["a"]), ("a/b.txt", ["a", "b.txt"]), ("dir/sub/f", ["dir", "sub", "f"]),
            (".hidden/x", [".hidden", "x"]), ("a..b", ["a..b"]), ("é/ü", ["é", "ü"]),
            ("/a", nil), ("a/", nil), ("a//b", nil), (".", nil), ("..", nil), ("a/../b", nil), ("./a", nil),
            ("a/.", nil), ("a\u{0}b", nil), ("/", nil)
        ])
    func fromJoinedText(text: String, segments: [String]?) {
        let path = RelativePath(text)
        #expect(path?.segments == segments)
        if let path { #expect(path.string == text) }
    }

    @Test func aJoinedPathEqualsTheSameSegments() {
        #expect(RelativePath("a/b") == RelativePath(segments: ["a", "b"]))
        #expect(RelativePath("") == RelativePath.root)
    }

    /// Two spellings of é are two files on disk: they must be two keys, though `String` calls
    /// them equal.
    @Test func equalityAndHashingAreByBytesNotByCanonicalEquivalence() throws {
        let composed = try #require(RelativePath("caf\u{E9}"))
        let decomposed = try #require(RelativePath("cafe\u{301}"))
        #expect(composed.string == decomposed.string, "String equality is canonical equivalence")
        #expect(composed != decomposed)
        #expect(Set([composed, decomposed]).count == 2)
        #expect(composed == RelativePath(segments: ["caf\u{E9}"]))
        #expect(composed.hashValue == RelativePath(segments: ["caf\u{E9}"])!.hashValue)
    }
}
