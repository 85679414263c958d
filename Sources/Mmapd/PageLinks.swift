import ConfinedPaths
import HTTPSemantics

/// How a page (a listing, the viewer) carries the signed link it was opened with, so a person
/// can browse on (contract: "A page opened through a signed link carries the signature on every
/// request it makes"): on each link and GET form the grant reaches, and to the page's scripts
/// through `data-grant`. A link the grant does not reach (a breadcrumb above a directory grant,
/// or above the one file a file grant names) is shown as plain text: following it would only
/// meet a 403. Without a grant (a token allowed the page, or the server is open) every link is
/// plain, and nothing is carried.
struct PageLinks {
    let grant: SignedLink.Grant?

    /// `url`, the address of the file or directory `path` (`RelativePath.string`), with the
    /// grant when there is one; nil when the grant does not reach `path`.
    func link(_ url: String, path: String, isDirectory: Bool) -> String? {
        guard let grant else { return url }
        return grant.covers(path: path, isDirectory: isDirectory) ? grant.carried(on: url) : nil
    }

    /// What to append to a link below the page's own path (a listing's entries, its viewer
    /// links): `?expires=…&signature=…`, or nothing. The grant reached the page, so it reaches
    /// everything below it.
    var belowSuffix: String { grant.map { "?" + $0.parameters.query } ?? "" }

    /// The grant's query (`expires=…&signature=…`), "" without one: the scripts' `data-grant`.
    var query: String { grant?.parameters.query ?? "" }

    /// Hidden fields that carry the grant through a GET form (whose submission replaces the
    /// action's query with the form's fields).
    var hiddenFields: String {
        guard let grant else { return "" }
        return "<input type=\"hidden\" name=\"expires\" value=\"\(grant.parameters.expires)\">"
            + "<input type=\"hidden\" name=\"signature\" value=\"\(LowercaseHex.encode(grant.parameters.signature))\">"
    }

    /// The breadcrumbs of the page for `segments` (a directory's, or a file's with its name
    /// last): `files / a / b /`, each ancestor a link to its listing as far as the grant reaches,
    /// the page itself not a link. A directory's ends in ` /`.
    func breadcrumbs(_ segments: [String], isDirectory: Bool) -> String {
        var out = "<nav class=\"breadcrumbs\" aria-label=\"Breadcrumbs\">"
        let names = ["files"] + segments
        var url = "/files/"
        var path: [String] = []
        for (index, name) in names.enumerated() {
            if index > 0 { out += " / " }
            guard index < names.count - 1 else {
                out += "<span aria-current=\"page\">\(HTMLText.escaped(name))</span>"
                break
            }
            if let href = link(url, path: path.joined(separator: "/"), isDirectory: true) {
                out += "<a class=\"crumb\" href=\"\(HTMLText.escaped(href))\">\(HTMLText.escaped(name))</a>"
            } else {
                out += "<span class=\"crumb\">\(HTMLText.escaped(name))</span>"
            }
            url += PercentEncoding.segment(segments[index].utf8) + "/"
            path.append(segments[index])
        }
        return out + (isDirectory ? " /</nav>\n" : "</nav>\n")
    }
}
