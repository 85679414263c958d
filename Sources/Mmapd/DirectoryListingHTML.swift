import ConfinedPaths
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
///
/// Reached through a signed link, the page carries the grant (`PageLinks`): entry and viewer
/// hrefs end in `?expires=…&signature=…`, the search form holds it in hidden fields, breadcrumbs
/// above the grant's scope are plain text. Those hrefs then do carry a query, which a person's
/// browser needs and without which every link would be refused; a mirroring tool sees the query
/// as part of each name.
///
/// Speed: a 100,000-entry page is built byte by byte into one array (no `String` per entry),
/// since a debug build spends most of its time in per-entry allocations.
enum DirectoryListingHTML {
    static func render(path: RelativePath, entries: [DirectoryEntry], links: PageLinks) -> [UInt8] {
        let segments = path.segments
        let encodedPath = segments.map { PercentEncoding.segment($0.utf8) + "/" }.joined()
        let directoryURL = "/files/" + encodedPath
        let displayPath = "/files/" + segments.map { $0 + "/" }.joined()
        let suffix = Array(links.belowSuffix.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(2048 + entries.count * (200 + 2 * suffix.count + encodedPath.utf8.count))
        func add(_ text: String) { out.append(contentsOf: text.utf8) }
        func addEscaped(_ text: String) { HTMLText.append(escaping: text.utf8, to: &out) }

        add("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
        add("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
        // The title names the directory as its URL spells it (percent-encoded): GDAL compares it
        // with the path it asked for, and with a decoded form only without the final slash.
        add("<title>Index of ")
        addEscaped(directoryURL)
        add("</title>\n")
        add("<link rel=\"icon\" href=\"\(PageAssets.url("favicon.svg"))\">\n")
        add("<link rel=\"stylesheet\" href=\"\(PageAssets.url("mmapd.css"))\">\n")
        add("<script src=\"\(PageAssets.url("pages.js"))\" defer></script>\n")
        add("<script src=\"\(PageAssets.url("listing.js"))\" defer></script>\n")
        add("</head>\n<body class=\"listing\" data-grant=\"")
        addEscaped(links.query)
        add("\">\n")
        add(links.breadcrumbs(segments, isDirectory: true))
        add("<h1>Index of ")
        addEscaped(displayPath)
        add("</h1>\n")

        add("<form class=\"tree-search\" role=\"search\" method=\"get\" action=\"/search/")
        addEscaped(encodedPath)
        add("\" data-dir=\"")
        addEscaped(directoryURL)
        add("\">\n")
        add("<label>Search the files below this directory <input type=\"search\" name=\"q\" required></label>\n")
        add("<button type=\"submit\">Search</button>\(links.hiddenFields)\n</form>\n")

        var directories = 0
        var totalBytes: UInt64 = 0
        for entry in entries {
            if entry.kind == .directory { directories += 1 } else { totalBytes &+= entry.size }
        }
        let files = entries.count - directories
        add("<p class=\"summary\">\(directories) \(directories == 1 ? "directory" : "directories"), ")
        add("\(files) \(files == 1 ? "file" : "files") of \(totalBytes) bytes (\(ByteCountText.human(totalBytes)))</p>\n")

        add("<hr><pre class=\"entries\">\n")
        let viewerPrefix = Array(("/view/" + encodedPath).utf8)
        for entry in entries where entry.kind == .directory {
            appendLine(entry, viewerPrefix: viewerPrefix, suffix: suffix, to: &out)
        }
        for entry in entries where entry.kind != .directory {
            appendLine(entry, viewerPrefix: viewerPrefix, suffix: suffix, to: &out)
        }
        add("</pre><hr>\n</body>\n</html>\n")
        return out
    }

    /// `<a href="NAME">NAME</a>   01-Dec-2026 12:00   1234 <span class="human">1.2 KiB</span> <a class="view" …>view</a>`
    private static func appendLine(_ entry: DirectoryEntry, viewerPrefix: [UInt8], suffix: [UInt8], to out: inout [UInt8]) {
        let isDirectory = entry.kind == .directory
        out.append(contentsOf: "<a href=\"".utf8)
        PercentEncoding.append(segment: entry.name, to: &out)
        if isDirectory { out.append(UInt8(ascii: "/")) }
        appendEscaped(suffix, to: &out)
        out.append(contentsOf: "\">".utf8)
        HTMLText.append(escaping: entry.name, to: &out)
        if isDirectory { out.append(UInt8(ascii: "/")) }
        out.append(contentsOf: "</a>".utf8)
        // nginx pads the shown name to 50 characters (code points: the bytes that do not
        // continue a UTF-8 sequence); longer names get one space.
        let shownWidth =
            entry.name.withUnsafeBufferPointer { name in
                var width = 0
                var index = 0
                while index < name.count {
                    if name[index] & 0xC0 != 0x80 { width += 1 }
                    index += 1
                }
                return width
            } + (isDirectory ? 1 : 0)
        appendSpaces(max(1, 51 - shownWidth), to: &out)
        appendAutoindexDate(entry.modifiedSeconds, to: &out)
        if isDirectory {
            appendSpaces(19, to: &out)
            out.append(UInt8(ascii: "-"))
        } else {
            let digits = decimalDigits(entry.size)
            appendSpaces(max(1, 20 - digits.count), to: &out)
            out.append(contentsOf: digits)
            out.append(contentsOf: " <span class=\"human\">".utf8)
            out.append(contentsOf: ByteCountText.human(entry.size).utf8)
            out.append(contentsOf: "</span> <a class=\"view\" href=\"".utf8)
            out.append(contentsOf: viewerPrefix)
            PercentEncoding.append(segment: entry.name, to: &out)
            appendEscaped(suffix, to: &out)
            out.append(contentsOf: "\">view</a>".utf8)
        }
        out.append(UInt8(ascii: "\n"))
    }

    /// `suffix` (a grant's query) in an attribute: its `&` as `&amp;`.
    private static func appendEscaped(_ suffix: [UInt8], to out: inout [UInt8]) {
        if !suffix.isEmpty { HTMLText.append(escaping: suffix, to: &out) }
    }

    /// `count` (at most 51) spaces, copied from a buffer: `repeatElement` was a third of a debug
    /// build's time for a big page.
    private static func appendSpaces(_ count: Int, to out: inout [UInt8]) {
        spaces.withUnsafeBufferPointer { out.append(contentsOf: UnsafeBufferPointer(rebasing: $0[..<count])) }
    }

    private static let spaces = [UInt8](repeating: UInt8(ascii: " "), count: 51)

    private static func decimalDigits(_ value: UInt64) -> [UInt8] {
        var digits: [UInt8] = []
        var rest = value
        repeat {
            digits.append(UInt8(ascii: "0") + UInt8(rest % 10))
            rest /= 10
        } while rest > 0
        return digits.reversed()
    }

    /// `01-Dec-2026 12:00` in UTC: nginx's autoindex column, the form GDAL and lftp parse.
    static func autoindexDate(_ unixSeconds: Int64) -> String {
        var out: [UInt8] = []
        appendAutoindexDate(unixSeconds, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    private static func appendAutoindexDate(_ unixSeconds: Int64, to out: inout [UInt8]) {
        var seconds = time_t(unixSeconds)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) {
            out.append(UInt8(ascii: "0") + UInt8(value / 10 % 10))
            out.append(UInt8(ascii: "0") + UInt8(value % 10))
        }
        two(parts.tm_mday)
        out.append(UInt8(ascii: "-"))
        out.append(contentsOf: months[Int(parts.tm_mon)])
        out.append(UInt8(ascii: "-"))
        out.append(contentsOf: decimalDigits(UInt64(max(0, parts.tm_year + 1900))))
        out.append(UInt8(ascii: " "))
        two(parts.tm_hour)
        out.append(UInt8(ascii: ":"))
        two(parts.tm_min)
    }

    private static let months: [[UInt8]] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"].map {
        Array($0.utf8)
    }
}
