import HTTPSemantics
import Testing

@Suite("PathGlob")
struct PathGlobTests {
    private func glob(_ pattern: String) throws -> PathGlob { try PathGlob(Array(pattern.utf8)) }

    @Test(
        "matches",
        arguments: [
            // Literal names and separators.
            ("a.txt", "a.txt", true), ("a.txt", "b.txt", false), ("a/b", "a/b", true), ("a/b", "a/b/c", false),
            ("a/b/c", "a/b", false), ("./a//b", "a/b", true), ("/a", "a", true),
            // `*` within one name, never across `/`.
            ("*.txt", "a.txt", true), ("*.txt", ".txt", true), ("*.txt", "d/a.txt", false), ("*", "a", true),
            ("*", "a/b", false), ("a*", "a", true), ("a*b", "ab", true), ("a*b", "axxb", true), ("a*b", "axxbc", false),
            ("*a*a*", "aa", true), ("*a*a*", "a", false), ("a*b*c", "abbbc", true), ("a*b*c", "acb", false),
            ("**.txt", "a.txt", true), ("**.txt", "d/a.txt", false),
            // `?` is one character: a whole UTF-8 sequence, or one stray byte.
            ("?", "a", true), ("?", "", false), ("?", "ab", false), ("a?c", "abc", true), ("a?c", "a/c", false),
            ("?", "é", true), ("??", "é", false), ("caf?", "café", true),
            // Sets.
            ("[abc]", "b", true), ("[abc]", "d", false), ("[a-c]x", "bx", true), ("[!a-c]x", "dx", true),
            ("[^a-c]x", "ax", false), ("[]]", "]", true), ("[!]]", "a", true), ("[!]]", "]", false), ("[a-]", "-", true),
            ("[a\\]]", "]", true), ("[é]", "é", true), ("[a-z]", "é", false), ("[!a-z]", "é", true),
            ("f[0-9][0-9].log", "f07.log", true), ("f[0-9][0-9].log", "f7.log", false),
            // Escapes.
            ("\\*", "*", true), ("\\*", "a", false), ("a\\?", "a?", true), ("a\\?", "ab", false),
            // `**` as whole names.
            ("**/a", "a", true), ("**/a", "x/a", true), ("**/a", "x/y/a", true), ("**/a", "xa", false),
            ("a/**/b", "a/b", true), ("a/**/b", "a/x/b", true), ("a/**/b", "a/x/y/b", true), ("a/**/b", "a/x/y/c", false),
            ("a/**/b", "b", false), ("**/*.c", "x.c", true), ("**/*.c", "d/e/x.c", true), ("**/*.c", "d/e/x.h", false),
            ("**/d/**/*.c", "x/d/y/z.c", true), ("**/d/**/*.c", "d/z.c", true), ("**/d/**/*.c", "x/dd/z.c", false),
            ("a/**/b/**/c", "a/b/c", true), ("a/**/b/**/c", "a/x/b/y/b/z/c", true), ("**/**/a", "a", true),
            // A trailing `/**`: everything below, not the directory itself.
            ("a/**", "a/b", true), ("a/**", "a/b/c", true), ("a/**", "a", false), ("a/**", "ab/c", false),
            ("**", "a", true), ("**", "a/b/c", true), ("a/**/**", "a/b", true), ("a/**/**", "a", false),
            ("**/x/**", "x/y", true), ("**/x/**", "a/x/y/z", true), ("**/x/**", "a/x", false),
            // An empty path has no name to match.
            ("*", "", false), ("a", "", false)
        ])
    func matches(pattern: String, path: String, expected: Bool) throws {
        #expect(try glob(pattern).matches(Array(path.utf8)) == expected, "\(pattern) ~ \(path)")
    }

    @Test("stray bytes: ? and * take one byte at a time, a literal byte matches itself only")
    func strayBytes() throws {
        let path: [UInt8] = [0x61, 0xFF, 0x62]
        #expect(try PathGlob([0x61, 0x3F, 0x62]).matches(path))
        #expect(try PathGlob([0x61, 0x2A]).matches(path))
        #expect(try PathGlob([0x61, 0xFF, 0x62]).matches(path))
        #expect(try !PathGlob([0x61, 0xFE, 0x62]).matches(path))
        // An overlong encoding is not the character it would spell.
        #expect(try !PathGlob(Array("a".utf8)).matches([0xC1, 0xA1]))
        #expect(try PathGlob(Array("??".utf8)).matches([0xC1, 0xA1]))
    }

    @Test(
        "everything below a directory",
        arguments: [
            ("a/**", "a", true), ("a/**", "b", false), ("a/**", "a/b", false), ("**", "a", true), ("**", "a/b", true),
            ("**/node_modules/**", "x/node_modules", true), ("**/node_modules/**", "node_modules", true),
            ("a", "a", false), ("a/*", "a", false)
        ])
    func everythingBelow(pattern: String, directory: String, expected: Bool) throws {
        #expect(try glob(pattern).matchesEverythingBelow(directory: Array(directory.utf8)) == expected)
    }

    @Test("malformed patterns are 400", arguments: ["", "/", ".", "./", "[", "a[", "[]", "[!]", "[z-a]", "a\\", "[a\\", "x/[b-a]/y"])
    func malformed(pattern: String) {
        let failure = problem { () throws(ProblemDetails) in try PathGlob(Array(pattern.utf8), parameter: "exclude") }
        #expect(failure?.status == 400)
        #expect(failure?.detail.contains("exclude") == true)
    }

    @Test("a pathological pattern stays linear enough")
    func pathological() throws {
        let pattern = try glob(String(repeating: "*a", count: 40) + "b")
        let name = Array(String(repeating: "a", count: 255).utf8)
        #expect(!pattern.matches(name))
        let deep = try glob(String(repeating: "**/a/", count: 20) + "b")
        #expect(!deep.matches(Array(Array(repeating: "a", count: 200).joined(separator: "/").utf8)))
    }

    @Test("filters: excludes win over globs, prune directories; globs never prune")
    func filter() throws {
        let filter = PathFilter(globs: [try glob("**/*.c"), try glob("Makefile")], excludes: [try glob("build/**"), try glob("**/test")])
        #expect(filter.includesFile(Array("a/b.c".utf8)))
        #expect(filter.includesFile(Array("Makefile".utf8)))
        #expect(!filter.includesFile(Array("a/Makefile".utf8)))
        #expect(!filter.includesFile(Array("build/x.c".utf8)))
        #expect(!filter.walksDirectory(Array("build".utf8)))
        #expect(!filter.walksDirectory(Array("x/test".utf8)))
        #expect(filter.walksDirectory(Array("src".utf8)))
        #expect(PathFilter().includesFile(Array("anything".utf8)))
        #expect(PathFilter().walksDirectory(Array("anything".utf8)))
    }
}

@Suite("TreeSearchParameters")
struct TreeSearchParametersTests {
    private func parse(_ raw: String, directory: String = "logs") throws(ProblemDetails) -> TreeSearchParameters {
        try TreeSearchParameters(QueryParameters(parsing: raw), directory: directory, maximumLimit: 1000, maximumPatternBytes: 16)
    }

    @Test("defaults and every parameter")
    func parameters() throws {
        let defaults = try parse("q=x")
        #expect(defaults.hidden == false && defaults.binary == .skip && defaults.cursor == nil)
        #expect(defaults.filter.globs.isEmpty && defaults.filter.excludes.isEmpty)
        #expect(defaults.search.limit == 100 && defaults.search.before == 0 && defaults.search.lineNumbers)
        let all = try parse("q=x&glob=*.c&glob=**/*.h&exclude=b/**&hidden=true&binary=text&before=2&after=3&line_numbers=0&limit=0")
        #expect(all.filter.globs.count == 2 && all.filter.excludes.count == 1)
        #expect(all.hidden && all.binary == .text && all.search.before == 2 && all.search.after == 3 && !all.search.lineNumbers)
        #expect(all.search.limit == 0)
    }

    @Test(
        "refusals",
        arguments: [
            "q=x&start=0", "q=x&end=5", "q=x&reverse=false", "q=x&binary=maybe", "q=x&binary=", "q=x&hidden=2",
            "q=x&glob=[", "q=x&exclude=", "q=x&glob=aaaaaaaaaaaaaaaaa", "q=x&cursor=", "q=x&cursor=00", "q=x&before=101",
            "q=x&after=-1", "q=x&limit=1001", "q=", "regex=true", "q=x&follow=true", "q=x&follow=true&limit=1000000"
        ])
    func refusals(raw: String) {
        #expect(problem { () throws(ProblemDetails) in try parse(raw) }?.status == 400)
    }

    @Test("a cursor continues only the search that made it")
    func cursors() throws {
        let first = try parse("q=x&glob=*.c")
        let cursor = TreeSearchCursor(path: Array("a/b.c".utf8), offset: 42, fingerprint: first.fingerprint).encoded
        let continued = try parse("q=x&glob=*.c&limit=5&before=3&cursor=\(cursor)")
        #expect(continued.cursor == TreeSearchCursor(path: Array("a/b.c".utf8), offset: 42, fingerprint: first.fingerprint))
        for other in [
            "q=y&glob=*.c", "q=x", "q=x&glob=*.c&hidden=true", "q=x&glob=*.c&binary=text", "q=x&glob=*.c&icase=1",
            "q=x&glob=*.c&regex=1", "q=x&exclude=*.c", "q=x&glob=*.c&glob=*.h"
        ] {
            #expect(problem { () throws(ProblemDetails) in try parse(other + "&cursor=\(cursor)") }?.status == 400, "\(other)")
        }
        #expect(problem { () throws(ProblemDetails) in try parse("q=x&glob=*.c&cursor=\(cursor)", directory: "other") }?.status == 400)
    }

    @Test("cursor encoding round-trips and refuses what it did not make")
    func cursorEncoding() throws {
        for path in ["a", "a/b", "é/x y", String(repeating: "n/", count: 100) + "z"] {
            for offset in [0, 1, 1 << 40, Int(Int64.max)] {
                let cursor = TreeSearchCursor(path: Array(path.utf8), offset: offset, fingerprint: 0xDEAD_BEEF)
                #expect(TreeSearchCursor(encoded: Array(cursor.encoded.utf8)) == cursor)
            }
        }
        let good = TreeSearchCursor(path: Array("a".utf8), offset: 1, fingerprint: 0xABCDEF).encoded
        var versionTwo = Array(good.utf8)
        versionTwo[1] = UInt8(ascii: "2")
        for bad in [
            "", "0", good + "0", good.uppercased(), String(good.dropLast(2)) + "zz", String(decoding: versionTwo, as: UTF8.self),
            TreeSearchCursor(path: Array("a/../b".utf8), offset: 0, fingerprint: 7).encoded,
            TreeSearchCursor(path: Array("a//b".utf8), offset: 0, fingerprint: 7).encoded,
            TreeSearchCursor(path: [0x61, 0], offset: 0, fingerprint: 7).encoded,
            TreeSearchCursor(path: [], offset: 0, fingerprint: 7).encoded,
            TreeSearchCursor(path: Array("a".utf8), offset: -1, fingerprint: 7).encoded
        ] {
            #expect(TreeSearchCursor(encoded: Array(bad.utf8)) == nil, "\(bad)")
        }
    }

    @Test(
        "walk order: names byte-wise from the top down",
        arguments: [
            ("a/b", "a.txt", -1), ("a.txt", "a/b", 1), ("a", "a/b", -1), ("a/b", "a/b", 0), ("A", "a", -1),
            ("a/z", "b/a", -1), ("ab/c", "a/z", 1), ("x/y/z", "x/y0", -1), ("é", "z", 1)
        ])
    func walkOrder(lhs: String, rhs: String, expected: Int) {
        #expect(TreeSearchCursor.walkOrder(Array(lhs.utf8), Array(rhs.utf8)) == expected)
    }
}
