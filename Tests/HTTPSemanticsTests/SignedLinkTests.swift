import HTTPSemantics
import Testing

/// The pure rules of signed links: the strict query parser, scopes and the canonical message.
@Suite struct SignedLinkTests {
    static let signature = String(repeating: "0123456789abcdef", count: 4)
    static let signatureBytes: [UInt8] = Array(repeating: [0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef], count: 4).flatMap { $0 }

    static let acceptedQueries: [(String, Int64)] = [
        ("expires=1796172706&signature=\(signature)", Int64(1_796_172_706)),
        ("signature=\(signature)&expires=5", 5),
        ("lines=1-2&expires=0&signature=\(signature)&q=x", 0),
        ("expires=9223372036854775807&signature=\(signature)", Int64.max),
        ("expires=%31%32&signature=\(signature)", 12),  // one percent-decoding, as every parameter
        ("expires=7&signature=\(signature)&&", 7)
    ]

    @Test(arguments: acceptedQueries)
    func accepted(query: String, expires: Int64) {
        #expect(SignedLink.parameters(in: query) == .present(.init(expires: expires, signature: Self.signatureBytes)))
    }

    @Test(arguments: [nil, "", "q=x", "lines=1-2&follow=true", "signaturex=1&xexpires=2", "&&", "q=%zz"])
    func absent(query: String?) {
        #expect(SignedLink.parameters(in: query) == .absent)
    }

    @Test(arguments: [
        "expires=1", "signature=\(signature)", "expires=&signature=\(signature)", "expires=01&signature=\(signature)",
        "expires=-1&signature=\(signature)", "expires=+1&signature=\(signature)", "expires=1.0&signature=\(signature)",
        "expires= 1&signature=\(signature)", "expires=9223372036854775808&signature=\(signature)",
        "expires=99999999999999999999&signature=\(signature)", "expires=1&signature=\(signature.uppercased())",
        "expires=1&signature=\(signature.dropLast())", "expires=1&signature=\(signature)00", "expires=1&signature=",
        "expires=1&signature=\(signature.dropLast())g", "expires=1&expires=1&signature=\(signature)",
        "expires=1&signature=\(signature)&signature=\(signature)", "expires=1&signature=%zz", "expires=1%zz&signature=\(signature)",
        "expires=1&signature=\(signature)&x=%", "expires=1&signature=\(signature)+"
    ])
    func malformed(query: String) {
        #expect(SignedLink.parameters(in: query) == .malformed, "\(query)")
    }

    @Test func theQueryIsPrintedInTheFormItIsParsed() {
        let parameters = SignedLink.Parameters(expires: 42, signature: Self.signatureBytes)
        #expect(parameters.query == "expires=42&signature=\(Self.signature)")
        #expect(SignedLink.parameters(in: parameters.query) == .present(parameters))
    }

    @Test(arguments: [
        ("a.txt", false, "a.txt") as (String, Bool, String), ("a/b.txt", false, "a/b.txt"), ("dir", true, "dir/"), ("a/b", true, "a/b/"),
        ("", true, "/")
    ])
    func scopes(path: String, isDirectory: Bool, scope: String) {
        #expect(SignedLink.scope(path: path, isDirectory: isDirectory) == scope)
    }

    /// Every spelling of one path names one scope, through the request-target rules.
    @Test(arguments: [
        ("/files/dir/x", "dir/x") as (String, String), ("/files/dir//x", "dir/x"), ("/files/./dir/./x", "dir/x"),
        ("/files/dir%2Fx", "dir/x"),
        ("/files/%64ir/x", "dir/x"), ("/files/dir/", "dir/"), ("/files/dir/.", "dir/"), ("/files/dir%2F", "dir/"), ("/files/", "/"),
        ("/search/dir/x", "dir/x"), ("/files/caf%C3%A9", "café")
    ])
    func spellingsOfAPathShareAScope(target: String, scope: String) throws {
        let file: FileTarget
        switch try RequestTarget(parsing: target).route {
        case .files(let named), .search(let named): file = named
        default:
            Issue.record("not a file route")
            return
        }
        #expect(SignedLink.scope(path: file.path.string, isDirectory: file.isDirectory) == scope)
    }

    @Test(arguments: [
        ("a.txt", ["/", "a.txt"]) as (String, [String]),
        ("dir/", ["/", "dir/"]),
        ("dir/x", ["/", "dir/", "dir/x"]),
        ("a/b/c/", ["/", "a/", "a/b/", "a/b/c/"]),
        ("a/b/c.txt", ["/", "a/", "a/b/", "a/b/c.txt"]),
        ("/", ["/"]),
        ("dir2/x", ["/", "dir2/", "dir2/x"])
    ])
    func grantingScopesAreTheAncestorsAndTheScope(scope: String, granting: [String]) {
        #expect(SignedLink.grantingScopes(of: scope) == granting)
    }

    /// The prefix games: a link names whole segments, never a string prefix.
    @Test(arguments: [
        ("dir/", "dir2/x"), ("dir", "dir/x"), ("dir", "dir2"), ("dir/", "dir"), ("a/b/", "a/bc/d"), ("a.txt", "a.txt2"),
        ("dir/x", "dir/x/y"), ("dir/x", "dir/")
    ])
    func aLinkDoesNotGrantASiblingOrAFileItsChildren(link: String, request: String) {
        #expect(!SignedLink.grantingScopes(of: request).contains(link))
    }

    @Test(
        "a grant covers its scope and, for a directory, everything below it; never a sibling or an ancestor",
        arguments: [
            ("/", "", true, true), ("/", "a/b.txt", false, true), ("/", "a", true, true),
            ("dir/", "dir", true, true), ("dir/", "dir/x", false, true), ("dir/", "dir/sub", true, true),
            ("dir/", "", true, false), ("dir/", "dir", false, false), ("dir/", "dir2/x", false, false), ("dir/", "dirx", false, false),
            ("a/b.txt", "a/b.txt", false, true), ("a/b.txt", "a", true, false), ("a/b.txt", "", true, false),
            ("a/b.txt", "a/b.txt", true, false), ("a/b.txt", "a/b.txt2", false, false)
        ] as [(String, String, Bool, Bool)])
    func grantCoverage(scope: String, path: String, isDirectory: Bool, covered: Bool) {
        let grant = SignedLink.Grant(parameters: SignedLink.Parameters(expires: 9, signature: [0xab]), scope: scope)
        #expect(grant.covers(path: path, isDirectory: isDirectory) == covered)
    }

    @Test func aGrantIsCarriedAsItsCanonicalQuery() {
        let grant = SignedLink.Grant(parameters: SignedLink.Parameters(expires: 1_900_000_000, signature: [0x0f, 0xa0]), scope: "/")
        #expect(grant.carried(on: "/files/a.txt") == "/files/a.txt?expires=1900000000&signature=0fa0")
        #expect(grant.carried(on: "/view/a.txt?line=3") == "/view/a.txt?line=3&expires=1900000000&signature=0fa0")
    }

    @Test func theMessageBindsVersionExpiryAndScope() {
        #expect(SignedLink.message(scope: "dir/", expires: 7) == Array("mmapd-link-v1\n7\ndir/".utf8))
        #expect(SignedLink.messagePrefix(expires: 7) + Array("dir/".utf8) == SignedLink.message(scope: "dir/", expires: 7))
        // No two (scope, expiry) pairs share a message: the expiry is digits, the newline ends it.
        #expect(SignedLink.message(scope: "1\nx", expires: 2) != SignedLink.message(scope: "x", expires: 21))
    }

    @Test func hexIsLowercaseAndTwoDigitsPerByte() {
        #expect(LowercaseHex.encode([0x00, 0x0f, 0xa0, 0xff]) == "000fa0ff")
        #expect(LowercaseHex.encode([UInt8]()) == "")
        #expect(LowercaseHex.decode(Array("000fa0ff".utf8)) == [0x00, 0x0f, 0xa0, 0xff])
        for refused in ["0", "0F", "zz", "0g", "abc"] { #expect(LowercaseHex.decode(Array(refused.utf8)) == nil, "\(refused)") }
    }
}
