import Foundation
import Testing

@testable import Mmapd

/// Pages reached through a signed link carry its grant on every link and form the grant reaches
/// (a person browses on), and show what lies above its scope as plain text; pages reached with a
/// token, or on an open server, carry nothing. Real signed links, over real sockets.
@Suite struct SignedPageLinksTests {
    /// The query of a fresh link for `path`, and the same as it appears in an HTML attribute.
    static func grant(_ links: SignedLinks, _ path: String) throws -> (query: String, attribute: String) {
        let query = SignedLinkAccessTests.query(try links.link(for: path, expires: SignedLinkAccessTests.inAnHour))
        return (query, query.replacingOccurrences(of: "&", with: "&amp;"))
    }

    @Test func aViewerBelowADirectoryGrantLinksOnWithinIt() throws {
        let (server, links) = try SignedLinkAccessTests.server()
        let (query, attribute) = try Self.grant(links, "dir/")
        let page = try server.request("GET", "/view/dir/sub/b.txt?line=1&\(query)")
        #expect(page.status == 200)
        let html = page.text
        #expect(html.contains("<body class=\"viewer\" data-grant=\"\(attribute)\">"))
        #expect(html.contains(#"<span class="crumb">files</span> / "#), "the root is above the grant")
        #expect(html.contains("<a class=\"crumb\" href=\"/files/dir/?\(attribute)\">dir</a>"))
        #expect(html.contains("<a class=\"crumb\" href=\"/files/dir/sub/?\(attribute)\">sub</a>"))
        #expect(html.contains("href=\"/files/dir/sub/b.txt?\(attribute)\">raw file</a>"))
        #expect(html.contains("href=\"/files/dir/sub/b.txt?lines=1-1000&amp;\(attribute)\">the first 1,000 lines</a>"))
        let fields = query.split(separator: "&").map { pair in
            let parts = pair.split(separator: "=")
            return "<input type=\"hidden\" name=\"\(parts[0])\" value=\"\(parts[1])\">"
        }.joined()
        #expect(html.components(separatedBy: fields).count == 5)  // line, offset, mode and search forms
        // Every link the page shows is one the grant opens.
        for href in ListingTests.links(html) {
            let target = href.replacingOccurrences(of: "&amp;", with: "&")
            #expect(try server.request("GET", target).status == 200, "\(target)")
        }
    }

    @Test func aViewerOfAFileGrantShowsNoLinkAboveTheFile() throws {
        let (server, links) = try SignedLinkAccessTests.server()
        let (query, attribute) = try Self.grant(links, "dir/a.txt")
        let html = try server.request("GET", "/view/dir/a.txt?\(query)").text
        #expect(
            html.contains(
                #"<nav class="breadcrumbs" aria-label="Breadcrumbs"><span class="crumb">files</span> / <span class="crumb">dir</span> / <span aria-current="page">a.txt</span></nav>"#
            ))
        #expect(html.contains("href=\"/files/dir/a.txt?\(attribute)\">raw file</a>"))
        #expect(!html.contains("class=\"crumb\" href="))
    }

    @Test func aDirectoryGrantLeadsFromTheListingToEveryEntryAndViewer() throws {
        let (server, links) = try SignedLinkAccessTests.server()
        let (query, attribute) = try Self.grant(links, "dir/")
        let html = try server.request("GET", "/files/dir/?\(query)").text
        #expect(html.contains("<body class=\"listing\" data-grant=\"\(attribute)\">"))
        #expect(html.contains(#"<span class="crumb">files</span> / <span aria-current="page">dir</span> /</nav>"#))
        #expect(html.contains("<a href=\"sub/?\(attribute)\">sub/</a> "))
        #expect(html.contains("<a href=\"a.txt?\(attribute)\">a.txt</a> "))
        #expect(html.contains("<a class=\"view\" href=\"/view/dir/a.txt?\(attribute)\">view</a>"))
        #expect(html.contains(#"<input type="hidden" name="expires" value=""#))
        let base = try #require(URL(string: "\(server.baseURL)/files/dir/"))
        let followed = ListingTests.links(html).map { $0.replacingOccurrences(of: "&amp;", with: "&") }
        #expect(followed.count == 3)  // sub/, a.txt and its viewer
        for href in followed {
            let url = try #require(URL(string: href, relativeTo: base)?.absoluteURL)
            let target = String(url.absoluteString.dropFirst(server.baseURL.count))
            #expect(try server.request("GET", target).status == 200, "\(target)")
        }
        // The search form's fields, as a browser without the script would submit them.
        #expect(try server.request("GET", "/search/dir/?q=alpha&\(query)").json["count"] as? Int == 1)
        // The JSON listing's hrefs carry the grant the same way.
        let json = try server.request("GET", "/files/dir/?format=json&\(query)")
        let entries = try #require(json.json["entries"] as? [[String: Any]])
        #expect(entries.map { $0["href"] as? String } == ["a.txt?\(query)", "sub/?\(query)"])
        let subdirectory = try server.request("GET", "/files/dir/sub/?\(query)").text
        #expect(
            subdirectory.contains("<a class=\"crumb\" href=\"/files/dir/?\(attribute)\">dir</a> / <span aria-current=\"page\">sub</span>"))
    }

    @Test func aRootGrantLinksEveryBreadcrumb() throws {
        let (server, links) = try SignedLinkAccessTests.server()
        let (query, attribute) = try Self.grant(links, "/")
        let html = try server.request("GET", "/files/dir/sub/?\(query)").text
        #expect(
            html.contains(
                "<a class=\"crumb\" href=\"/files/?\(attribute)\">files</a> / <a class=\"crumb\" href=\"/files/dir/?\(attribute)\">dir</a>")
        )
        // /view/ of a directory goes to its listing with the grant.
        let redirect = try server.request("GET", "/view/dir?\(query)")
        #expect(redirect.status == 302)
        #expect(redirect.header("Location") == "/files/dir/?\(query)")
    }

    @Test func aTokenOrAnOpenServerCarriesNothing() throws {
        let (server, links) = try SignedLinkAccessTests.server()
        let (query, _) = try Self.grant(links, "dir/")
        let token = [("Authorization", "Bearer \(SignedLinkAccessTests.writeToken)")]
        for target in ["/files/dir/?\(query)", "/view/dir/a.txt?\(query)"] {
            let html = try server.request("GET", target, headers: token).text
            #expect(html.contains(#"data-grant="""#), "\(target)")
            #expect(!html.contains("signature="), "\(target)")
        }
        let open = try TestServer(files: ["d/x.txt": Array("x".utf8)])
        let html = try open.request("GET", "/files/d/?\(query)").text
        #expect(html.contains(#"data-grant="""#) && !html.contains("signature="))
        let json = try open.request("GET", "/files/d/?format=json&\(query)")
        #expect((json.json["entries"] as? [[String: Any]])?.first?["href"] as? String == "x.txt")
    }
}
