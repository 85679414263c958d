import Foundation
import HTTPSemantics
import Testing

@testable import Mmapd

/// `/assets/<name>` (the pages' scripts and style sheet, from inside the executable) and
/// `/view/<path>` (the viewer page), over real sockets.
@Suite struct PageAssetTests {
    static let assets = [
        ("mmapd.css", "text/css; charset=utf-8"), ("pages.js", "text/javascript; charset=utf-8"),
        ("listing.js", "text/javascript; charset=utf-8"), ("viewer.js", "text/javascript; charset=utf-8"),
        ("favicon.svg", "image/svg+xml")
    ]

    @Test("every asset is served from the binary, byte for byte the source file", arguments: assets)
    func servedFromTheBinary(name: String, contentType: String) throws {
        let server = try TestServer()
        let response = try server.request("GET", "/assets/\(name)")
        #expect(response.status == 200)
        #expect(response.header("Content-Type") == contentType)
        #expect(response.header("X-Content-Type-Options") == "nosniff")
        #expect(response.header("Cache-Control") == "no-cache")
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources/Mmapd/Assets/\(name)")
        #expect(response.body == [UInt8](try Data(contentsOf: source)))
        #expect(response.header("ETag") == "\"\(try #require(PageAssets.assets[name]).version)\"")
    }

    @Test("the versioned URL is cached for a year; a stale or missing version revalidates")
    func versionedCaching() throws {
        let server = try TestServer()
        let url = PageAssets.url("viewer.js")
        #expect(url.hasPrefix("/assets/viewer.js?v="))
        let current = try server.request("GET", url)
        #expect(current.header("Cache-Control") == "public, max-age=31536000, immutable")
        let stale = try server.request("GET", "/assets/viewer.js?v=0000000000000000")
        #expect(stale.header("Cache-Control") == "no-cache")
        #expect(stale.body == current.body)
    }

    @Test("If-None-Match with the asset's tag (or *) answers 304 without a body; another tag 200")
    func revalidation() throws {
        let server = try TestServer()
        let etag = try #require(try server.request("GET", "/assets/mmapd.css").header("ETag"))
        for value in [etag, "W/\(etag)", "\"other\", \(etag)", "*"] {
            let response = try server.request("GET", "/assets/mmapd.css", headers: [("If-None-Match", value)])
            #expect(response.status == 304, "If-None-Match: \(value)")
            #expect(response.body.isEmpty)
            #expect(response.header("ETag") == etag)
        }
        #expect(try server.request("GET", "/assets/mmapd.css", headers: [("If-None-Match", "\"other\"")]).status == 200)
        #expect(try server.request("GET", "/assets/mmapd.css", headers: [("If-None-Match", "garbage")]).status == 200)
    }

    @Test(
        "unknown names and anything path-like are 404; only GET, HEAD and OPTIONS are allowed",
        arguments: [
            "/assets/", "/assets/nope.js", "/assets/../Package.swift", "/assets/%2e%2e/Package.swift", "/assets/VIEWER.JS",
            "/assets/viewer.js/", "/assets/sub/viewer.js"
        ])
    func unknownAssets(target: String) throws {
        let server = try TestServer()
        let response = try server.request("GET", target)
        #expect(response.status == 404)
        #expect(response.header("Content-Type") == ProblemDetails.mediaType)
    }

    @Test func headAndMethods() throws {
        let server = try TestServer()
        let head = try HTTPConnection(port: server.port).send("HEAD", "/assets/viewer.js", expectBody: false)
        #expect(head.status == 200)
        #expect(head.header("Content-Length") == String(try #require(PageAssets.assets["viewer.js"]).bytes.count))
        let post = try server.request("POST", "/assets/viewer.js")
        #expect(post.status == 405)
        #expect(post.header("Allow") == "GET, HEAD, OPTIONS")
    }

    @Test("with read tokens, assets still need none; the viewer page needs one like /files")
    func readTokens() throws {
        let server = try TestServer(configure: { $0.readTokens = ["reader-secret"] }, files: ["a.txt": Array("x".utf8)])
        #expect(try server.request("GET", "/assets/viewer.js").status == 200)
        #expect(try server.request("GET", PageAssets.url("mmapd.css")).status == 200)
        #expect(try server.request("GET", "/assets/nope.js").status == 404)
        let refused = try server.request("GET", "/view/a.txt")
        #expect(refused.status == 401)
        #expect(refused.header("WWW-Authenticate")?.hasPrefix("Bearer") == true)
        #expect(try server.request("GET", "/view/missing", headers: [("Authorization", "Bearer wrong")]).status == 401)
        #expect(try server.request("GET", "/view/a.txt", headers: [("Authorization", "Bearer reader-secret")]).status == 200)
    }

    @Test(
        "the fingerprint is FNV-1a 64 in 16 hex digits",
        arguments: [
            ("", "cbf29ce484222325"), ("a", "af63dc4c8601ec8c"), ("foobar", "85944171f73967e8")
        ])
    func fingerprint(input: String, expected: String) {
        #expect(PageAssets.Asset.fingerprint(Array(input.utf8)) == expected)
    }
}

@Suite struct ViewerPageTests {
    @Test("the page names the file, its size and ETag, and links its assets by version")
    func page() throws {
        let server = try TestServer(files: ["logs/app.log": Array(repeating: UInt8(ascii: "x"), count: 3000)])
        let response = try server.request("GET", "/view/logs/app.log")
        #expect(response.status == 200)
        #expect(response.header("Content-Type") == "text/html; charset=utf-8")
        #expect(response.header("Cache-Control") == "no-cache")
        #expect(response.header("X-Content-Type-Options") == "nosniff")
        #expect(response.header("Content-Security-Policy")?.contains("script-src 'self'") == true)
        let html = response.text
        let etag = try #require(try server.request("HEAD", "/files/logs/app.log").header("ETag"))
        #expect(html.contains(#"data-file="/files/logs/app.log""#))
        #expect(html.contains(#"data-search="/search/logs/app.log""#))
        #expect(html.contains(#"data-size="3000""#))
        #expect(html.contains("data-etag=\"\(etag.replacingOccurrences(of: "\"", with: "&quot;"))\""))
        #expect(html.contains("2.9 KiB (3000 bytes)"))
        #expect(html.contains(#"<a class="crumb" href="/files/logs/">logs</a>"#))
        for name in ["mmapd.css", "pages.js", "viewer.js"] { #expect(html.contains(PageAssets.url(name))) }
        #expect(!html.contains("<script>"))  // nothing inline: the CSP forbids it
    }

    @Test("names are escaped in markup and percent-encoded in URLs")
    func escaping() throws {
        let name = "a <b> & \"c\" 'd' é?.txt"
        let server = try TestServer(files: ["dir one/\(name)": Array("hi\n".utf8)])
        let encoded = "dir%20one/a%20%3Cb%3E%20%26%20%22c%22%20%27d%27%20%C3%A9%3F.txt"
        let response = try server.request("GET", "/view/\(encoded)")
        #expect(response.status == 200)
        let html = response.text
        #expect(html.contains("<h1>a &lt;b&gt; &amp; &quot;c&quot; &#39;d&#39; é?.txt</h1>"))
        #expect(html.contains("data-file=\"/files/\(encoded)\""))
        #expect(html.contains(#"href="/files/dir%20one/">dir one</a>"#))
        #expect(!html.contains("<b>"))
    }

    @Test(
        "query parameters open the page at a line or offset; bad ones are 400",
        arguments: [
            ("line=7", 200, #"data-line="7""#), ("offset=12&length=3", 200, #"data-offset="12" data-length="3""#),
            ("mode=hex", 200, #"data-mode="hex""#), ("line=5&offset=100", 200, #"data-line="5" data-offset="100""#),
            ("cachebuster=1", 200, #"data-grant="""#), ("offset=999999", 200, #"data-offset="999999""#),
            ("expires=1893456000&signature=abc123", 200, #"data-grant="""#),  // no key: nothing to carry
            ("line=0", 400, ""), ("line=-3", 400, ""), ("line=x", 400, ""), ("offset=-1", 400, ""),
            ("length=3", 400, ""), ("offset=1&length=-1", 400, ""), ("mode=binary", 400, ""), ("line=%zz", 400, ""),
            ("line=99999999999999999999", 400, "")
        ])
    func parameters(query: String, status: Int, fragment: String) throws {
        let server = try TestServer(files: ["a.txt": Array("one\ntwo\n".utf8)])
        let response = try server.request("GET", "/view/a.txt?\(query)")
        #expect(response.status == status)
        if status == 200 {
            #expect(response.text.contains(fragment))
        } else {
            #expect(response.header("Content-Type") == ProblemDetails.mediaType)
            #expect((response.json["detail"] as? String)?.isEmpty == false)
        }
    }

    @Test("a directory redirects to its listing; missing files, traversal and escaping links are 404")
    func directoriesAndMissing() throws {
        let server = try TestServer(files: ["d/a.txt": Array("x".utf8)])
        try FileManager.default.createSymbolicLink(atPath: server.path("out"), withDestinationPath: "/etc/passwd")
        for (target, location) in [
            ("/view/d/", "/files/d/"), ("/view/d", "/files/d/"), ("/view/", "/files/"),
            ("/view/d?signature=s&expires=1", "/files/d/")
        ] {
            let response = try server.request("GET", target)
            #expect(response.status == 302, "\(target)")
            #expect(response.header("Location") == location, "\(target)")
        }
        for target in ["/view/missing.txt", "/view/../etc/passwd", "/view/%2e%2e/x", "/view/out", "/view/d/a.txt/"] {
            let response = try server.request("GET", target)
            #expect(response.status == 404, "\(target)")
        }
    }

    @Test("an empty file has a page too, and HEAD answers its headers")
    func emptyFileAndHead() throws {
        let server = try TestServer(files: ["empty": []])
        #expect(try server.request("GET", "/view/empty").text.contains(#"data-size="0""#))
        let head = try HTTPConnection(port: server.port).send("HEAD", "/view/empty", expectBody: false)
        #expect(head.status == 200)
        #expect(head.body.isEmpty)
    }
}
