import ConfinedPaths
import HTTPSemantics

/// The markup of a viewer page; viewer.js brings it to life (docs/PAGES.md describes both).
///
/// Readable without styling and usable from the keyboard: the controls are ordinary forms whose
/// GET targets are the same page (or, for the search, `/search/<path>`), so each works as a link
/// would even before the script takes them over; the content area is a `<pre>` that keeps its
/// layout without CSS. A page opened through a signed link carries it on every link and form the
/// grant reaches (`PageLinks`), so the person can move on.
struct ViewerPageHTML {
    let path: RelativePath
    let size: UInt64
    let etag: String
    let modified: Int64
    let contentType: String
    let parameters: ViewerParameters
    let links: PageLinks

    func render() -> [UInt8] {
        var out = ""
        out.reserveCapacity(4096)
        let name = String(path.lastSegment)
        let encoded = PercentEncoding.path(path.segments)
        let viewURL = "/view/" + encoded
        let hidden = links.hiddenFields
        // The page's own file: the grant reached it, so it reaches every link to the file.
        let own = links.belowSuffix

        out += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        out += "<title>\(HTMLText.escaped(name)) · mmapd viewer</title>\n"
        out += "<link rel=\"icon\" href=\"\(PageAssets.url("favicon.svg"))\">\n"
        out += "<link rel=\"stylesheet\" href=\"\(PageAssets.url("mmapd.css"))\">\n"
        out += "<script src=\"\(PageAssets.url("pages.js"))\" defer></script>\n"
        out += "<script src=\"\(PageAssets.url("viewer.js"))\" defer></script>\n"
        out += "</head>\n<body class=\"viewer\" data-grant=\"\(HTMLText.escaped(links.query))\">\n<header>\n"
        out += links.breadcrumbs(path.segments, isDirectory: false)
        out += "<h1>\(HTMLText.escaped(name))</h1>\n"
        out += "<p class=\"facts\">\(ByteCountText.human(size)) (\(size) bytes) · \(HTMLText.escaped(contentType))"
        out +=
            " · modified \(HTTPDate.format(modified)) · <a class=\"raw\" href=\"\(HTMLText.escaped("/files/" + encoded + own))\">raw file</a></p>\n"
        out += "</header>\n"

        out += "<main id=\"viewer\" data-file=\"/files/\(HTMLText.escaped(encoded))\" data-search=\"/search/\(HTMLText.escaped(encoded))\""
        out += " data-view=\"\(HTMLText.escaped(viewURL))\" data-size=\"\(size)\" data-etag=\"\(HTMLText.escaped(etag))\""
        if let line = parameters.line { out += " data-line=\"\(line)\"" }
        if let offset = parameters.offset { out += " data-offset=\"\(offset)\"" }
        if let length = parameters.length { out += " data-length=\"\(length)\"" }
        if let mode = parameters.mode { out += " data-mode=\"\(mode.rawValue)\"" }
        out += ">\n<div class=\"toolbar\">\n"
        out += "<form class=\"goto-line\" method=\"get\" action=\"\(HTMLText.escaped(viewURL))\">"
        out += "<label>Line <input name=\"line\" type=\"number\" min=\"1\" step=\"1\" inputmode=\"numeric\" size=\"10\"></label>"
        out += " <button type=\"submit\">Go</button>\(hidden)</form>\n"
        out += "<form class=\"goto-offset\" method=\"get\" action=\"\(HTMLText.escaped(viewURL))\">"
        out += "<label>Byte offset <input name=\"offset\" type=\"text\" inputmode=\"numeric\" size=\"12\""
        out += " pattern=\"[0-9]+|0[xX][0-9a-fA-F]+\" title=\"a decimal number, or hexadecimal after 0x\"></label>"
        out += " <button type=\"submit\">Go</button>\(hidden)</form>\n"
        out += "<div class=\"jumps\"><button type=\"button\" class=\"to-start\">Start</button>"
        out += " <button type=\"button\" class=\"to-end\">End</button></div>\n"
        out += "<form class=\"mode\" method=\"get\" action=\"\(HTMLText.escaped(viewURL))\">Show as "
        out += "<button type=\"submit\" name=\"mode\" value=\"text\">Text</button> "
        out += "<button type=\"submit\" name=\"mode\" value=\"hex\">Hex</button>\(hidden)</form>\n"
        out += "<form class=\"file-search\" role=\"search\" method=\"get\" action=\"/search/\(HTMLText.escaped(encoded))\">"
        out += "<label>Find <input name=\"q\" type=\"search\" required></label>"
        out += " <label><input name=\"icase\" type=\"checkbox\" value=\"true\"> ignore case</label>"
        out += " <label><input name=\"regex\" type=\"checkbox\" value=\"true\"> regex</label>"
        out += " <button type=\"submit\">Search</button>\(hidden)</form>\n"
        out += "</div>\n<div class=\"pane\">\n"
        out += "<pre class=\"rows\" tabindex=\"0\" aria-label=\"Content of \(HTMLText.escaped(name))\"></pre>\n"
        out += "<input class=\"position\" type=\"range\" min=\"0\" max=\"\(size)\" value=\"0\" aria-label=\"Position in the file\">\n"
        out += "</div>\n<p class=\"status\" role=\"status\" aria-live=\"polite\">Loading…</p>\n"
        out += "<section class=\"hits\" aria-label=\"Search results\" hidden></section>\n</main>\n"
        out +=
            "<noscript><p>The viewer needs JavaScript. Without it, read <a href=\"\(HTMLText.escaped("/files/" + encoded + "?lines=1-1000" + (links.query.isEmpty ? "" : "&" + links.query)))\">the first 1,000 lines</a>"
        out += " or <a href=\"\(HTMLText.escaped("/files/" + encoded + own))\">the raw file</a>.</p></noscript>\n"
        out += "</body>\n</html>\n"
        return Array(out.utf8)
    }

    /// `/files/<path>/`, encoded: where a directory's page is.
    static func directoryURL(_ path: RelativePath) -> String {
        "/files/" + path.segments.map { PercentEncoding.segment($0.utf8) + "/" }.joined()
    }
}
