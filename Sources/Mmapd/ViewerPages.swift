import ConfinedPaths
import HTTPSemantics
import MappedFiles
import MicroHTTP

/// GET and HEAD on `/view/<path>`: the viewer page of one file.
///
/// The page is small and holds no file data: the file's name, size, type and ETag, and the
/// controls. Its script (viewer.js) then fetches only the byte ranges it shows, from
/// `/files/<path>` (with `If-Match`, so every screen comes from the version the page describes),
/// and searches through `/search/<path>`. The file is leased here, not stat'ed, so that a
/// symlink out of the root is missing here as everywhere else, and the ranges that follow find
/// the mapping already in the pool.
struct ViewerPages: Sendable {
    let pool: MappingPool
    let generations: WriteGenerations

    /// `grant`: the signed link that allowed the request, carried on by the page's links.
    func respond(to request: Request, file: FileTarget, query: String?, grant: SignedLink.Grant?) -> Response {
        let parameters: ViewerParameters
        do {
            parameters = try ViewerParameters(QueryParameters(parsing: query))
        } catch {
            return Response.problem(error)
        }
        let lease: MappingPool.Lease
        do {
            lease = try pool.lease(file.path)
        } catch .isDirectory {
            return redirectToListing(file.path, PageLinks(grant: grant))  // a directory has a page already: its listing
        } catch {
            return Response.problem(for: error)
        }
        // A file named as a directory (`/view/a.txt/`), as /search/ answers it.
        guard !file.isDirectory else { return Response.problem(.notFound()) }
        let identity = lease.identity
        let validators = Validators(identity, generation: generations.current(identity))
        let page = ViewerPageHTML(
            path: file.path, size: identity.size, etag: validators.etag.headerValue, modified: identity.modifiedSeconds,
            contentType: MediaType.contentType(forFileName: String(file.path.lastSegment)), parameters: parameters,
            links: PageLinks(grant: grant))
        return Response(
            status: 200, headers: [("Content-Type", "text/html; charset=utf-8")] + Self.pageHeaders,
            body: .bytes(page.render()))
    }

    /// What every generated page sends: never cached without revalidation (the ETag it embeds
    /// changes with the file), scripts and styles from this server only, nothing inline, no
    /// framing, and no referrer beyond this origin (a signed link's query stays here).
    static let pageHeaders: [(name: String, value: String)] = [
        ("Cache-Control", "no-cache"),
        ("X-Content-Type-Options", "nosniff"),
        (
            "Content-Security-Policy",
            "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
                + "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
        ),
        ("Referrer-Policy", "same-origin")
    ]

    /// To the listing, with the grant that allowed this request when it reaches the directory.
    private func redirectToListing(_ path: RelativePath, _ links: PageLinks) -> Response {
        let listing = ViewerPageHTML.directoryURL(path)
        let location = links.link(listing, path: path.string, isDirectory: true) ?? listing
        return Response(status: 302, headers: [("Location", location)])
    }
}
