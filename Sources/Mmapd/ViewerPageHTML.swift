import HTTPSemantics

/// The markup of a viewer page; viewer.js brings it to life (docs/PAGES.md describes both).
///
/// Readable without styling and usable from the keyboard: the controls are ordinary forms whose
/// GET targets are the same page (or, for the search, `/search/<path>`), so each works as a link
/// would even before the script takes them over; the content area is a `<pre>` that keeps its
/// layout without CSS. Every link and form carries a signed link's `expires` and `signature`, so
/// a page opened through one keeps working as the person moves on.
struct ViewerPageHTML {
    let path: RelativePath
    let size: UInt64
    let etag: String
    let modified: Int64
    let contentType: String
    let parameters: ViewerParameters

    func render() -> [UInt8] {
        var out = ""
        out.reserveCapacity(4096)
        let name = String(path.lastSegment)
        let encoded = PercentEncoding.path(path.segments)
        let viewURL = "/view/" + encoded
        let signed = parameters.signedQuery
        let hidden = parameters.signedQuery.isEmpty ? "" : ViewerParameters.signedNames.compactMap { name -> String? in
            guard let value = signedValue(name) else { return nil }
            return "<input type=\"hidden\" name=\"\(name)\" value=\"\(HTMLText.escaped(value))\">"
        }.joined()
        func link(_ url: String) -> String { HTMLText.escaped(signed.isEmpty ? url : url + "?" + signed) }

        out += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        out += "<title>\(HTMLText.escaped(name)) · mmapd viewer</title>\n"
        out += "<link rel=\"icon\" href=\"\(PageAssets.url("favicon.svg"))\">\n"
        out += "<link rel=\"stylesheet\" href=\"\(PageAssets.url("mmapd.css"))\">\n"
        out += "<script src=\"\(PageAssets.url("pages.js"))\" defer></script>\n"
        out += "<script src=\"\(PageAssets.url("viewer.js"))\" defer></script>\n"
        out += "</head>\n<body class=\"viewer\">\n<header>\n"

        out += "<nav class=\"breadcrumbs\" aria-label=\"Breadcrumbs\">"
        var ancestor = "/files/"
        out += "<a class=\"crumb\" href=\"\(link(ancestor))\">files</a>"
        for segment in path.segments.dropLast() {
            ancestor += PercentEncoding.segment(segment.utf8) + "/"
            out += " / <a class=\"crumb\" href=\"\(link(ancestor))\">\(HTMLText.escaped(segment))</a>"
        }
        out += " / <span aria-current=\"page\">\(HTMLText.escaped(name))</span></nav>\n"
        out += "<h1>\(HTMLText.escaped(name))</h1>\n"
        out += "<p class=\"facts\">\(ByteCountText.human(size)) (\(size) bytes) · \(HTMLText.escaped(contentType))"
        out += " · modified \(HTTPDate.format(modified)) · <a class=\"raw\" href=\"\(link("/files/" + encoded))\">raw file</a></p>\n"
        out += "</header>\n"

        out += "<main id=\"viewer\" data-file=\"/files/\(HTMLText.escaped(encoded))\" data-search=\"/search/\(HTMLText.escaped(encoded))\""
        out += " data-view=\"\(HTMLText.escaped(viewURL))\" data-size=\"\(size)\" data-etag=\"\(HTMLText.escaped(etag))\""
        out += " data-signed=\"\(HTMLText.escaped(signed))\""
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
        out += "<noscript><p>The viewer needs JavaScript. Without it, read <a href=\"\(HTMLText.escaped("/files/" + encoded + "?lines=1-1000" + (signed.isEmpty ? "" : "&" + signed)))\">the first 1,000 lines</a>"
        out += " or <a href=\"\(link("/files/" + encoded))\">the raw file</a>.</p></noscript>\n"
        out += "</body>\n</html>\n"
        return Array(out.utf8)
    }

    /// The decoded value of a signed-link parameter, as the query carried it.
    private func signedValue(_ name: String) -> String? {
        guard let parsed = try? QueryParameters(parsing: parameters.signedQuery) else { return nil }
        return parsed.string(name)
    }

    /// `/files/<path>/`, encoded: where a directory's page is.
    static func directoryURL(_ path: RelativePath) -> String {
        "/files/" + path.segments.map { PercentEncoding.segment($0.utf8) + "/" }.joined()
    }
}
