import Foundation
import Glibc
import Testing

@testable import Mmapd

/// Directory listings over a live server: both representations, negotiation, validators,
/// symlinks, the entry limit, and the autoindex layout the mirroring clients parse.
@Suite struct ListingTests {
    static let files: [String: [UInt8]] = [
        "d/one.txt": [1, 2, 3],
        "d/sub/two": [4],
        "d/a b&<c>'.bin": Array(repeating: 7, count: 2048),
        "d/été.txt": Array("ete".utf8),
        "d/what?#.txt": [9],
        "d/sub/deeper/x": [1]
    ]

    /// The hrefs of every `<a>` on the page, in order.
    static func links(_ page: String) -> [String] {
        let pattern = try! NSRegularExpression(pattern: #"<a\b[^>]*?\bhref="([^"]*)""#)
        return pattern.matches(in: page, range: NSRange(page.startIndex..., in: page)).map {
            String(page[Range($0.range(at: 1), in: page)!])
        }
    }

    /// Every URL the page refers to (links, assets, the form's action).
    static func references(_ page: String) -> [String] {
        let pattern = try! NSRegularExpression(pattern: #"\b(?:href|src|action)="([^"]*)""#)
        return pattern.matches(in: page, range: NSRange(page.startIndex..., in: page)).map {
            String(page[Range($0.range(at: 1), in: page)!])
        }
    }

    @Test func htmlByDefaultInTheAutoindexLayout() throws {
        let server = try TestServer(files: Self.files)
        for accept in [
            nil, "*/*", "text/html", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            "application/json, text/html"
        ] as [String?] {
            let response = try server.request("GET", "/files/d/", headers: accept.map { [("Accept", $0)] } ?? [])
            #expect(response.status == 200)
            #expect(response.header("Content-Type") == "text/html; charset=utf-8", "\(accept ?? "no Accept")")
            #expect(response.header("Vary") == "Accept")
            // A page like the viewer: its scripts from this server only, not framed.
            #expect(response.header("Content-Security-Policy")?.contains("script-src 'self'") == true)
            #expect(response.header("X-Content-Type-Options") == "nosniff")
        }
        let page = try server.request("GET", "/files/d/").text
        let lines = page.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.contains("<title>Index of /files/d/</title>"))
        let entryLines = lines.filter { $0.hasPrefix("<a href=\"") }
        // Directories first, then files, each in byte order of their names.
        #expect(
            entryLines.map { Self.links($0).first! } == [
                "sub/", "a%20b%26%3Cc%3E%27.bin", "one.txt", "what%3F%23.txt", "%C3%A9t%C3%A9.txt"
            ])
        let one = try #require(entryLines.first { $0.hasPrefix("<a href=\"one.txt\">one.txt</a> ") })
        let modified = try FileManager.default.attributesOfItem(atPath: server.path("d/one.txt"))[.modificationDate] as! Date
        #expect(one.contains(DirectoryListingHTML.autoindexDate(Int64(modified.timeIntervalSince1970)) + "                   3 "))
        #expect(one.contains("<a class=\"view\" href=\"/view/d/one.txt\">view</a>"))
        let special = try #require(entryLines.first { $0.hasPrefix("<a href=\"a%20b") })
        #expect(special.contains(">a b&amp;&lt;c&gt;&#39;.bin</a>"))
        #expect(special.contains("                2048 <span class=\"human\">2.0 KiB</span>"))
        let directory = try #require(entryLines.first { $0.hasPrefix("<a href=\"sub/\">sub/</a> ") })
        #expect(directory.hasSuffix("                   -"))
        // GDAL reads the first `<a href="` of every line as an entry: only entry lines have one.
        #expect(lines.filter { $0.contains("<a href=\"") } == entryLines)
        #expect(!page.contains("<table"))
    }

    @Test func noLinkButTheEntriesResolvesInsideTheDirectory() throws {
        let server = try TestServer(files: Self.files)
        let base = try #require(URL(string: "\(server.baseURL)/files/d/sub/"))
        let page = try server.request("GET", "/files/d/sub/").text
        let inside = Self.references(page).compactMap { URL(string: $0, relativeTo: base)?.absoluteURL }
            .filter { $0.absoluteString.hasPrefix(base.absoluteString) && $0.absoluteString != base.absoluteString }
        #expect(inside.map { String($0.absoluteString.dropFirst(base.absoluteString.count)) } == ["deeper/", "two"])
        // Nothing names the directory itself either (fsspec would list it as its own entry).
        #expect(!Self.references(page).contains { URL(string: $0, relativeTo: base)?.absoluteString == base.absoluteString })
        // Breadcrumbs: the ancestors, not the directory.
        #expect(
            page.contains(
                #"<a class="crumb" href="/files/">files</a> / <a class="crumb" href="/files/d/">d</a> / <span aria-current="page">sub</span>"#
            ))
        #expect(page.contains(#"<form class="tree-search" role="search" method="get" action="/search/d/sub/" data-dir="/files/d/sub/">"#))
        #expect(page.contains(#"name="q""#))
        // The assets by their versioned URLs, pages.js (what listing.js builds on) first.
        let scripts = ["pages.js", "listing.js"].map { "<script src=\"\(PageAssets.url($0))\" defer></script>" }
        #expect(page.contains("<link rel=\"stylesheet\" href=\"\(PageAssets.url("mmapd.css"))\">"))
        #expect(page.contains(scripts.joined(separator: "\n")))
        #expect(page.contains("<link rel=\"icon\" href=\"\(PageAssets.url("favicon.svg"))\">"))
        #expect(!page.contains("http://"))
    }

    @Test func jsonByAcceptOrFormat() throws {
        let server = try TestServer(files: Self.files)
        let cases: [(String, [(String, String)])] = [
            ("/files/d/", [("Accept", "application/json")]),
            ("/files/d/", [("Accept", "application/json, text/html;q=0.5")]),
            ("/files/d/", [("Accept", "application/*")]),
            ("/files/d/?format=json", []),
            ("/files/d/?format=json", [("Accept", "text/html")])
        ]
        for (target, headers) in cases {
            let response = try server.request("GET", target, headers: headers)
            #expect(response.status == 200)
            #expect(response.header("Content-Type") == "application/json", "\(target) \(headers)")
            #expect(response.header("Vary") == "Accept")
            #expect(response.json["path"] as? String == "d")
            let entries = try #require(response.json["entries"] as? [[String: Any]])
            #expect(entries.map { $0["name"] as? String } == ["a b&<c>'.bin", "one.txt", "sub", "what?#.txt", "été.txt"])
            #expect(entries.map { $0["type"] as? String } == ["file", "file", "directory", "file", "file"])
            #expect(entries.map { $0["size"] as? Int } == [2048, 3, 0, 1, 3])
            // The same relative, percent-encoded hrefs as the HTML's entries.
            #expect(
                entries.map { $0["href"] as? String } == [
                    "a%20b%26%3Cc%3E%27.bin", "one.txt", "sub/", "what%3F%23.txt", "%C3%A9t%C3%A9.txt"
                ])
        }
        let html = try server.request("GET", "/files/d/?format=html", headers: [("Accept", "application/json")])
        #expect(html.header("Content-Type") == "text/html; charset=utf-8")
        let bad = try server.request("GET", "/files/d/?format=xml")
        #expect(bad.status == 400)
        #expect(bad.header("Content-Type") == "application/problem+json")
    }

    @Test func validatorsAndConditionals() throws {
        let server = try TestServer(files: Self.files)
        let first = try server.request("GET", "/files/d/")
        let etag = try #require(first.header("ETag"))
        let lastModified = try #require(first.header("Last-Modified"))
        let json = try server.request("GET", "/files/d/", headers: [("Accept", "application/json")])
        #expect(json.header("ETag") != etag, "each representation has its own strong tag")
        #expect(try server.request("GET", "/files/d/").header("ETag") == etag, "a listing's tag is stable")

        let revalidated = try server.request("GET", "/files/d/", headers: [("If-None-Match", etag)])
        #expect(revalidated.status == 304)
        #expect(revalidated.header("ETag") == etag)
        #expect(revalidated.header("Vary") == "Accept")
        #expect(revalidated.body.isEmpty)
        #expect(try server.request("GET", "/files/d/", headers: [("If-Modified-Since", lastModified)]).status == 304)
        #expect(try server.request("GET", "/files/d/", headers: [("If-None-Match", "\"other\"")]).status == 200)
        #expect(try server.request("GET", "/files/d/", headers: [("If-Match", "\"other\"")]).status == 412)
        #expect(try server.request("GET", "/files/d/", headers: [("If-Match", etag)]).status == 200)

        // A file inside grows: the directory's own mtime does not move, the listing's tag does.
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: server.path("d/one.txt")))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data([4, 5]))
        try handle.close()
        let changed = try server.request("GET", "/files/d/", headers: [("If-None-Match", etag)])
        #expect(changed.status == 200)
        #expect(changed.header("ETag") != etag)
    }

    @Test func headAnswersTheHeadersAlone() throws {
        let server = try TestServer(files: Self.files)
        let get = try server.request("GET", "/files/d/")
        let head = try server.request("HEAD", "/files/d/")
        #expect(head.status == 200)
        #expect(head.body.isEmpty)
        #expect(head.header("Content-Length") == String(get.body.count))
        #expect(head.header("ETag") == get.header("ETag"))
    }

    @Test func symlinksAreListedAsTheirTargetsAndEscapesLeftOut() throws {
        let outside = FileManager.default.temporaryDirectory.appendingPathComponent("outside-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: outside) }
        try Data("secret".utf8).write(to: outside.appendingPathComponent("secret.txt"))
        let server = try TestServer(files: ["d/real.txt": Array("12345".utf8), "d/sub/x": [1]])
        symlink("real.txt", server.path("d/link.txt"))
        symlink("sub", server.path("d/linkdir"))
        symlink("../d/real.txt", server.path("d/updown.txt"))
        symlink(outside.appendingPathComponent("secret.txt").path, server.path("d/escape-absolute"))
        symlink("../../" + outside.lastPathComponent + "/secret.txt", server.path("d/escape-relative"))
        symlink(outside.path, server.path("d/escape-dir"))
        symlink("missing", server.path("d/dangling"))
        mkfifo(server.path("d/fifo"), 0o644)
        // A name that is not UTF-8 cannot be requested, so it is not listed either.
        let raw = Array(server.path("d/").utf8) + [0x6F, 0xFF, 0x00]
        let fd = raw.withUnsafeBufferPointer {
            open(UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), O_CREAT | O_WRONLY, 0o644)
        }
        #expect(fd >= 0)
        close(fd)

        let response = try server.request("GET", "/files/d/?format=json")
        let entries = try #require(response.json["entries"] as? [[String: Any]])
        #expect(entries.map { $0["name"] as? String } == ["link.txt", "linkdir", "real.txt", "sub", "updown.txt"])
        #expect(entries.map { $0["type"] as? String } == ["file", "directory", "file", "directory", "file"])
        #expect(entries.map { $0["size"] as? Int } == [5, 0, 5, 0, 5])
        let page = try server.request("GET", "/files/d/").text
        #expect(page.contains("<a href=\"linkdir/\">linkdir/</a>"))
        #expect(!page.contains("escape") && !page.contains("dangling") && !page.contains("fifo"))
        // The listed link is served.
        #expect(try server.request("GET", "/files/d/linkdir/?format=json").status == 200)
        #expect(try server.request("GET", "/files/d/link.txt").text == "12345")
    }

    @Test func aDirectoryAboveTheEntryLimitIsRefusedNotShortened() throws {
        let server = try TestServer(
            configure: { $0.maxListingEntries = 3 },
            files: ["three/a": [1], "three/b": [1], "three/c": [1], "four/a": [1], "four/b": [1], "four/c": [1], "four/d": [1]])
        #expect(try server.request("GET", "/files/three/").status == 200)
        for target in ["/files/four/", "/files/four/?format=json"] {
            let refused = try server.request("GET", target)
            #expect(refused.status == 403)
            #expect(refused.header("Content-Type") == "application/problem+json")
            #expect((refused.json["detail"] as? String)?.contains("more than 3 entries") == true)
        }
        // The files themselves stay reachable.
        #expect(try server.request("GET", "/files/four/d").body == [1])
    }

    @Test func redirectsToTheListing() throws {
        let server = try TestServer(files: Self.files)
        let home = try server.request("GET", "/")
        #expect(home.status == 302)
        #expect(home.header("Location") == "/files/")
        let bare = try server.request("GET", "/files")
        #expect(bare.status == 301)
        #expect(bare.header("Location") == "/files/")
        let directory = try server.request("GET", "/files/d/sub?format=json")
        #expect(directory.status == 301)
        #expect(directory.header("Location") == "/files/d/sub/?format=json")
        #expect(try server.request("GET", "/files/d/one.txt/").status == 404)
        #expect(try server.request("GET", "/files/missing/").status == 404)
        let root = try server.request("GET", "/files/")
        #expect(root.status == 200)
        #expect(root.text.contains("<title>Index of /files/</title>"))
        #expect(root.text.contains(#"<nav class="breadcrumbs" aria-label="Breadcrumbs"><span aria-current="page">files</span> /</nav>"#))
    }
}
