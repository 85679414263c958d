import HTTPSemantics
import Testing

@Suite("PercentEncoding")
struct PercentEncodingTests {
    @Test(
        "segments escape everything outside the unreserved set",
        arguments: [
            ("plain.txt", "plain.txt"),
            ("a b", "a%20b"),
            ("a/b", "a%2Fb"),
            ("a:b", "a%3Ab"),
            ("it's", "it%27s"),
            ("q\"uote", "q%22uote"),
            ("what?", "what%3F"),
            ("#1", "%231"),
            ("50%", "50%25"),
            ("a&b=c", "a%26b%3Dc"),
            ("a+b", "a%2Bb"),
            ("<x>", "%3Cx%3E"),
            ("été", "%C3%A9t%C3%A9"),
            ("~user-_.", "~user-_."),
            ("☃", "%E2%98%83"),
            ("", "")
        ])
    func segment(name: String, encoded: String) throws {
        #expect(PercentEncoding.segment(name.utf8) == encoded)
        // Decoding once gives the name back: the link names the file.
        #expect(try PercentDecoding.decode(encoded, as: .path) == Array(name.utf8))
    }

    @Test("every byte round-trips")
    func everyByte() throws {
        let all = (0...255).map { UInt8($0) }
        let encoded = PercentEncoding.segment(all)
        #expect(!encoded.contains("/") && !encoded.contains("\"") && !encoded.contains("'"))
        #expect(try PercentDecoding.decode(encoded, as: .path) == all)
    }

    @Test("paths join encoded segments")
    func path() {
        #expect(PercentEncoding.path(["a b", "c/d", "e"]) == "a%20b/c%2Fd/e")
        #expect(PercentEncoding.path([]) == "")
    }
}
