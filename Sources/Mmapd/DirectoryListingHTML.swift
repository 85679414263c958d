import Glibc
import HTTPSemantics
import MappedFiles

/// The HTML listing: nginx's autoindex layout, which rclone, lftp, `wget -r`, fsspec and GDAL
/// parse, inside a page a person can use (breadcrumbs, human sizes, links to the viewer, a
/// search box). docs/LISTINGS.md describes the markup the page's CSS and script rely on.
///
/// What the parsers need, and why the page looks the way it does:
/// - `<title>Index of /files/DIR/</title>` on a line of its own, DIR as the URL spells it (GDAL
///   recognises a listing by it).
/// - Each entry on its own line inside `<pre>`, starting with `<a href="NAME">`: GDAL takes the
///   first `<a href="` of every line after the title as an entry, so every *other* link on the
///   page is written `<a class="…" href="…">`, which that search does not match. After the
///   link: the date as `01-Dec-2026 12:00` and the exact size in bytes (`-` for a directory),
///   the columns GDAL and lftp read; the human size and the viewer link come after them.
/// - Entry hrefs are relative and percent-encoded, a directory's ending in `/`. No other link
///   resolves inside the directory (breadcrumbs point at ancestors, viewer links at `/view/`,
///   the assets at `/assets/`): rclone, fsspec and `wget -r -np` follow every link below the
///   directory, and would mirror those too. No relative link carries a query (rclone refuses
///   names with `?`, fsspec would take it for an entry), and no absolute `http://` URL appears
///   in the text (fsspec picks those up as links).
/// - No `<table>`: GDAL gives up on a page with two, and one is not needed.
enum DirectoryListingHTML {
    static func render(path: RelativePath, entries: [DirectoryEntry]) -> [UInt8] {
        let segments = path.segments
        let directoryURL = "/files/" + segments.map { PercentEncoding.segment($0.utf8) + "/" }.joined()
        let displayPath = "/files/" + segments.map { $0 + "/" }.joined()
        var out: [UInt8] = []
        out.reserveCapacity(2048 + entries.count * (160 + 2 * path.string.utf8.count))
        func add(_ text: String) { out += Array(text.utf8) }
        func addEscaped(_ text: String) { HTMLText.append(escaping: text.utf8, to: &out) }

        add("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
        add("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
        // The title names the directory as its URL spells it (percent-encoded): GDAL compares it
        // with the path it asked for, and with a decoded form only without the final slash.
        add("<title>Index of "); addEscaped(directoryURL); add("</title>\n")
        add("<link rel=\"stylesheet\" href=\"/assets/mmapd.css\">\n<script src=\"/assets/listing.js\" defer></script>\n")
        add("</head>\n<body class=\"listing\">\n")

        // Breadcrumbs: every ancestor is a link, the directory itself is not.
        add("<nav class=\"breadcrumbs\" aria-label=\"Breadcrumbs\">")
        var ancestor = "/files/"
        for (index, name) in ([("files")] + segments).enumerated() {
            if index > 0 { add(" / ") }
            if index == segments.count {
                add("<span aria-current=\"page\">"); addEscaped(name); add("</span>")
            } else {
                add("<a class=\"crumb\" href=\""); addEscaped(ancestor); add("\">"); addEscaped(name); add("</a>")
                ancestor += PercentEncoding.segment(segments[index].utf8) + "/"
            }
        }
        add(" /</nav>\n")
        add("<h1>Index of "); addEscaped(displayPath); add("</h1>\n")

        add("<form class=\"tree-search\" role=\"search\" method=\"get\" action=\"/search/")
        addEscaped(String(directoryURL.dropFirst("/files/".count)))
        add("\" data-dir=\""); addEscaped(directoryURL); add("\">\n")
        add("<label>Search the files below this directory <input type=\"search\" name=\"q\" required></label>\n")
        add("<button type=\"submit\">Search</button>\n</form>\n")

        let ordered = entries.filter { $0.kind == .directory } + entries.filter { $0.kind == .file }
        let fileCount = ordered.count - ordered.prefix { $0.kind == .directory }.count
        let totalBytes = ordered.reduce(UInt64(0)) { $0 &+ $1.size }
        add("<p class=\"summary\">\(ordered.count - fileCount) \(ordered.count - fileCount == 1 ? "directory" : "directories"), ")
        add("\(fileCount) \(fileCount == 1 ? "file" : "files") of \(totalBytes) bytes (\(ByteCountText.human(totalBytes)))</p>\n")

        add("<hr><pre class=\"entries\">\n")
        for entry in ordered {
            appendLine(entry, viewerPrefix: "/view/" + String(directoryURL.dropFirst("/files/".count)), to: &out)
        }
        add("</pre><hr>\n</body>\n</html>\n")
        return out
    }

    /// `<a href="NAME">NAME</a>   01-Dec-2026 12:00   1234 <span class="human">1.2 KiB</span> <a class="view" …>view</a>`
    private static func appendLine(_ entry: DirectoryEntry, viewerPrefix: String, to out: inout [UInt8]) {
        let isDirectory = entry.kind == .directory
        let suffix: [UInt8] = isDirectory ? [UInt8(ascii: "/")] : []
        out += Array("<a href=\"".utf8)
        PercentEncoding.append(segment: entry.name, to: &out)
        out += suffix
        out += Array("\">".utf8)
        HTMLText.append(escaping: entry.name, to: &out)
        out += suffix
        out += Array("</a>".utf8)
        // nginx pads the shown name to 50 columns; longer names get one space.
        let shownWidth = String(decoding: entry.name, as: UTF8.self).count + suffix.count
        out += [UInt8](repeating: UInt8(ascii: " "), count: max(1, 51 - shownWidth))
        out += Array(autoindexDate(entry.modifiedSeconds).utf8)
        let size = isDirectory ? "-" : String(entry.size)
        out += [UInt8](repeating: UInt8(ascii: " "), count: max(1, 20 - size.utf8.count))
        out += Array(size.utf8)
        if !isDirectory {
            out += Array(" <span class=\"human\">\(ByteCountText.human(entry.size))</span> <a class=\"view\" href=\"\(viewerPrefix)".utf8)
            PercentEncoding.append(segment: entry.name, to: &out)
            out += Array("\">view</a>".utf8)
        }
        out.append(UInt8(ascii: "\n"))
    }

    /// `01-Dec-2026 12:00` in UTC: nginx's autoindex column, the form GDAL and lftp parse.
    static func autoindexDate(_ unixSeconds: Int64) -> String {
        var seconds = time_t(unixSeconds)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(two(parts.tm_mday))-\(months[Int(parts.tm_mon)])-\(parts.tm_year + 1900) \(two(parts.tm_hour)):\(two(parts.tm_min))"
    }

    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
}
