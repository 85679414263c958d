import HTTPSemantics
import Testing

@Suite("Entity tags (RFC 9110 §8.8.3)")
struct EntityTagTests {
    @Test(
        "header values",
        arguments: [
            (EntityTag(strong: "xyzzy"), #""xyzzy""#),
            (EntityTag(weak: "xyzzy"), #"W/"xyzzy""#),
            (EntityTag(strong: ""), #""""#),
            (EntityTag(strong: "1a2b-3c4d-5e6f"), #""1a2b-3c4d-5e6f""#),
            (EntityTag(strong: "!#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"), #""!#$%&'()*+,-./:;<=>?@[\]^_`{|}~""#)
        ] as [(EntityTag, String)])
    func headerValue(tag: EntityTag, expected: String) {
        #expect(tag.headerValue == expected)
        #expect(EntityTag.parse(expected) == tag)
    }

    @Test(
        "single tags",
        arguments: [
            (#""xyzzy""#, EntityTag(strong: "xyzzy")),
            (#"W/"xyzzy""#, EntityTag(weak: "xyzzy")),
            (#""""#, EntityTag(strong: "")),
            (#"W/"""#, EntityTag(weak: "")),
            (#"  "a"  "#, EntityTag(strong: "a")),
            (#""W/a""#, EntityTag(strong: "W/a")),
            (#""a,b""#, EntityTag(strong: "a,b")),
            (#""étude""#, EntityTag(strong: "étude"))
        ] as [(String, EntityTag)])
    func parseSingle(value: String, expected: EntityTag) {
        #expect(EntityTag.parse(value) == expected)
    }

    @Test(
        "not a single tag",
        arguments: [
            "",
            "xyzzy",
            #""xyzzy"#,
            #"xyzzy""#,
            #"w/"case-sensitive""#,
            #"W/ "x""#,
            #"W"x""#,
            "W/",
            #"W/"truc"#,
            #""spaced etag""#,
            "\"tab\tinside\"",
            "\"ctl\u{7F}\"",
            #""a""b""#,
            #""a", "b""#,
            "*",
            #""a"x"#
        ])
    func parseSingleInvalid(value: String) {
        #expect(EntityTag.parse(value) == nil)
    }

    @Test(
        "If-Match / If-None-Match lists",
        arguments: [
            ("*", EntityTagList.any),
            ("  *  ", .any),
            (#""xyzzy""#, .tags([EntityTag(strong: "xyzzy")])),
            (
                #""xyzzy", "r2d2xxxx", "c3piozzzz""#,
                .tags([EntityTag(strong: "xyzzy"), EntityTag(strong: "r2d2xxxx"), EntityTag(strong: "c3piozzzz")])
            ),
            (#"W/"xyzzy", W/"r2d2xxxx""#, .tags([EntityTag(weak: "xyzzy"), EntityTag(weak: "r2d2xxxx")])),
            (#""baz", W/"foo""#, .tags([EntityTag(strong: "baz"), EntityTag(weak: "foo")])),
            (#""a","b""#, .tags([EntityTag(strong: "a"), EntityTag(strong: "b")])),
            ("\"a\" ,\t\"b\"", .tags([EntityTag(strong: "a"), EntityTag(strong: "b")])),
            (#""a",,"b","#, .tags([EntityTag(strong: "a"), EntityTag(strong: "b")])),
            (#", "a""#, .tags([EntityTag(strong: "a")])),
            (#""a,b", "c""#, .tags([EntityTag(strong: "a,b"), EntityTag(strong: "c")])),
            ("", .tags([])),
            (",", .tags([])),
            (" , ,", .tags([]))
        ] as [(String, EntityTagList)])
    func parseList(value: String, expected: EntityTagList) {
        #expect(EntityTag.parseList(value) == expected)
    }

    @Test(
        "malformed lists",
        arguments: [
            "xyzzy",
            #""a" "b""#,
            #""a"; "b""#,
            #"*, "a""#,
            #""a", *"#,
            "*,*",
            "**",
            #""unterminated"#,
            #""a", b"#,
            #"w/"a""#,
            #""a"W/"b""#,
            #""sp ace""#
        ])
    func parseListInvalid(value: String) {
        #expect(EntityTag.parseList(value) == nil)
    }

    /// Matching in place must say exactly what parsing the list and then matching says, for
    /// valid and malformed lists, strong and weak current tags, heap-sized and small ones.
    @Test(
        "matching a list in place agrees with parsing it",
        arguments: [
            "*", "  *  ", "", ",", #""xyzzy""#, #"W/"xyzzy""#, #""a", W/"xyzzy", "b""#, #""xyzzy", "xyzzy""#,
            #""xyzzyx""#, #""xyzz""#, #""XYZZY""#, #""51421b-1000-18e9ebca124b013b-18e9ebca124b013b-0""#,
            #"W/"51421b-1000-18e9ebca124b013b-18e9ebca124b013b-0", "q""#, #""51421b-1000-18e9ebca124b013b-18e9ebca124b013b-1""#,
            #""xyzzy" "b""#, #""xyzzy", *"#, #""xyzzy", b"#, #""unterminated"#, #"w/"xyzzy""#, #""""#
        ])
    func listMatchingInPlace(value: String) {
        let parsed = EntityTag.parseList(value)
        for current in [
            EntityTag(strong: "xyzzy"), EntityTag(weak: "xyzzy"), EntityTag(strong: ""),
            EntityTag(strong: "51421b-1000-18e9ebca124b013b-18e9ebca124b013b-0"),
            EntityTag(weak: "51421b-1000-18e9ebca124b013b-18e9ebca124b013b-0")
        ] {
            #expect(EntityTag.list(value, matches: current, strongly: true) == parsed?.strongMatch(current), "\(value) vs \(current)")
            #expect(EntityTag.list(value, matches: current, strongly: false) == parsed?.weakMatch(current), "\(value) vs \(current)")
        }
    }

    /// RFC 9110 §8.8.3.2's comparison table.
    @Test(
        "strong and weak comparison",
        arguments: [
            (EntityTag(weak: "1"), EntityTag(weak: "1"), false, true),
            (EntityTag(weak: "1"), EntityTag(weak: "2"), false, false),
            (EntityTag(weak: "1"), EntityTag(strong: "1"), false, true),
            (EntityTag(strong: "1"), EntityTag(weak: "1"), false, true),
            (EntityTag(strong: "1"), EntityTag(strong: "1"), true, true),
            (EntityTag(strong: "1"), EntityTag(strong: "2"), false, false),
            (EntityTag(strong: "a"), EntityTag(strong: "A"), false, false),
            (EntityTag(strong: ""), EntityTag(strong: ""), true, true),
            // Longer than a small string (15 bytes), as mmapd's own tags are: stored on the heap.
            (
                EntityTag(strong: "51421b-1000-18e9ebca124b013b-18e9ebca124b013b-0"),
                EntityTag(strong: "51421b-1000-18e9ebca124b013b-18e9ebca124b013b-0"), true, true
            ),
            (
                EntityTag(strong: "51421b-1000-18e9ebca124b013b-18e9ebca124b013b-0"),
                EntityTag(weak: "51421b-1000-18e9ebca124b013b-18e9ebca124b013b-1"), false, false
            ),
            (
                EntityTag(strong: "01421b-1000-18e9ebca124b013b-18e9ebca124b013b-0"),
                EntityTag(strong: "51421b-1000-18e9ebca124b013b-18e9ebca124b013b-0"), false, false
            ),
            (
                EntityTag(strong: "51421b-1000-18e9ebca124b013b-18e9ebca124b013b-0"),
                EntityTag(strong: "51421b-1000-18e9ebca124b013b-18e9ebca124b013b-00"), false, false
            ),
            (EntityTag(weak: "51421b-1000-18e9ebca124b013b"), EntityTag(strong: "51421b"), false, false)
        ] as [(EntityTag, EntityTag, Bool, Bool)])
    func comparison(lhs: EntityTag, rhs: EntityTag, strong: Bool, weak: Bool) {
        #expect(lhs.strongMatch(rhs) == strong)
        #expect(rhs.strongMatch(lhs) == strong)
        #expect(lhs.weakMatch(rhs) == weak)
        #expect(rhs.weakMatch(lhs) == weak)
    }

    @Test("comparison is by bytes, not by Unicode canonical equivalence")
    func comparesBytes() {
        let precomposed = EntityTag(strong: "\u{E9}")
        let decomposed = EntityTag(strong: "e\u{301}")
        #expect(precomposed.opaque == decomposed.opaque)  // Swift's String equality…
        #expect(!precomposed.strongMatch(decomposed))  // …is not what HTTP compares.
        #expect(!precomposed.weakMatch(decomposed))
        #expect(precomposed != decomposed)
        #expect(Set([precomposed, decomposed]).count == 2)
    }

    @Test(
        "list matching",
        arguments: [
            (EntityTagList.any, EntityTag(strong: "x"), true, true),
            (.any, EntityTag(weak: "x"), true, true),
            (.tags([]), EntityTag(strong: "x"), false, false),
            (.tags([EntityTag(strong: "a"), EntityTag(strong: "x")]), EntityTag(strong: "x"), true, true),
            (.tags([EntityTag(weak: "x")]), EntityTag(strong: "x"), false, true),
            (.tags([EntityTag(strong: "x")]), EntityTag(weak: "x"), false, true),
            (.tags([EntityTag(strong: "a"), EntityTag(strong: "b")]), EntityTag(strong: "x"), false, false)
        ] as [(EntityTagList, EntityTag, Bool, Bool)])
    func listMatching(list: EntityTagList, current: EntityTag, strong: Bool, weak: Bool) {
        #expect(list.strongMatch(current) == strong)
        #expect(list.weakMatch(current) == weak)
    }
}
