import ByteSearch
import ConfinedPaths
import Glibc
import HTTPSemantics
import MappedFiles
import MicroHTTP

/// GET and HEAD on `/files/<dir>/`: the directory's listing as HTML (for people and the tools
/// that parse autoindex pages) or JSON (for programs), chosen by `Accept` or `?format=`.
///
/// Reading a directory costs a `stat` per entry and the page grows with it (100,000 entries:
/// tenths of a second, megabytes), so the work always runs off the network threads with the
/// connection suspended, and at most `maxEntries` entries are read: above that the answer is a
/// 403 saying so, never a silently shortened listing that a mirroring client would take as the
/// whole directory.
struct DirectoryListings: Sendable {
    let root: FileRoot
    let enabled: Bool
    let maxEntries: Int

    /// The two representations of a listing.
    enum Representation: Sendable {
        case html, json

        /// `?format=json|html` wins; otherwise JSON only when `Accept` prefers it to HTML (so no
        /// `Accept`, `*/*`, or a browser's header gets the page).
        init(query: String?, accept: String?) throws(ProblemDetails) {
            if let format = try QueryParameters(parsing: query).string("format") {
                switch format {
                case "json": self = .json
                case "html": self = .html
                default:
                    throw .badRequest(
                        "The query parameter 'format' must be json or html, not \(ProblemDetails.quoted(Array(format.utf8))).")
                }
                return
            }
            self = AcceptHeader(accept).prefers("application/json", over: "text/html") ? .json : .html
        }

        var contentType: String {
            switch self {
            case .html: "text/html; charset=utf-8"
            case .json: "application/json"
            }
        }
    }

    /// `grant`: the signed link that allowed the request, carried on by the listing's links.
    func begin(_ request: Request, directory: FileTarget, query: String?, grant: SignedLink.Grant?) -> Disposition {
        guard enabled else { return .respond(Response.problem(.notFound())) }
        let representation: Representation
        do {
            representation = try Representation(query: query, accept: request.header("Accept"))
        } catch {
            return .respond(Response.problem(error, headers: Self.vary))
        }
        // Read on the network thread: the worker below touches no part of the connection.
        let conditions = ConditionalHeaders(
            ifMatch: request.header("If-Match"), ifNoneMatch: request.header("If-None-Match"),
            ifModifiedSince: request.header("If-Modified-Since"), ifUnmodifiedSince: request.header("If-Unmodified-Since"),
            ifRange: nil)
        let (root, maxEntries, path) = (self.root, self.maxEntries, directory.path)
        return .deferred {
            // At background priority, as searches run: reading, sorting and rendering 100,000
            // entries keeps a core busy, and small GETs must not wait behind it for a time slice.
            BackgroundPriority.run(true) {
                Self.answer(
                    root: root, path: path, representation: representation, conditions: conditions, maxEntries: maxEntries,
                    links: PageLinks(grant: grant))
            }
        }
    }

    private static func answer(
        root: FileRoot, path: RelativePath, representation: Representation, conditions: ConditionalHeaders,
        maxEntries: Int, links: PageLinks
    ) -> Response {
        let contents: DirectoryContents
        do {
            contents = try root.list(path.string, limit: maxEntries)
        } catch {
            return Response.problem(for: error, headers: vary)
        }
        guard contents.isComplete else {
            return Response.problem(
                ProblemDetails(
                    status: 403, title: "Directory Too Large To List",
                    detail:
                        "This directory holds more than \(maxEntries) entries, the most this server lists (--max-listing-entries). Its files can still be fetched and searched by path."
                ),
                headers: vary)
        }
        // Names that are not UTF-8 cannot be requested (RequestTarget refuses them): listing them
        // would send mirroring clients after files they cannot fetch.
        let entries = contents.entries.filter { String(validating: $0.name, as: UTF8.self) != nil }
        let body =
            switch representation {
            case .html: DirectoryListingHTML.render(path: path, entries: entries, links: links)
            case .json: DirectoryListingJSON.encode(path: path.string, entries: entries, hrefSuffix: links.belowSuffix)
            }
        let validators = Validators(
            etag: EntityTag(strong: "l-" + String(ListingDigest.of(body), radix: 16)),
            lastModified: entries.reduce(contents.directory.modifiedSeconds) { max($0, $1.modifiedSeconds) })
        let headers = validators.headers + vary + (representation == .html ? ViewerPages.pageHeaders : [])
        switch ConditionalRequest.evaluate(conditions, isSafe: true, current: validators, now: Int64(time(nil))) {
        case .preconditionFailed:
            return Response.problem(
                .preconditionFailed("The listing's current validators do not satisfy the request's preconditions."),
                headers: headers)
        case .notModified:
            return Response(status: 304, headers: headers)
        case .proceed:
            return Response(status: 200, headers: [("Content-Type", representation.contentType)] + headers, body: .bytes(body))
        }
    }

    /// Every listing answer depends on `Accept`, errors included (a cache must not hand a
    /// browser's 200 page to a JSON client).
    private static let vary = [(name: "Vary", value: "Accept")]
}
