import HTTPSemantics
import MicroHTTP

/// The style sheet and scripts of the pages (listings, viewer), compiled into the executable.
///
/// They live as plain files in `Sources/Mmapd/Assets/` and reach the binary through SwiftPM's
/// `.embedInCode` resources (`PackageResources`), so a server needs no files besides itself, and
/// a browser loads nothing from anywhere else: no CDN, no build step.
///
/// Caching: each asset's strong ETag is a fingerprint of its bytes. A page that links an asset
/// as ``url(_:)`` (`/assets/NAME?v=FINGERPRINT`) gets it with a year's `immutable` caching: a
/// new build changes the fingerprint, hence the URL. Any other URL of the asset (no `v`, or an
/// old one) answers `no-cache`, so browsers revalidate it (304) and never keep a stale copy.
/// Assets hold no file data, so they need no token (contract, "Access control").
struct PageAssets: Sendable {
    struct Asset: Sendable {
        let contentType: String
        let bytes: [UInt8]
        /// 16 hex digits of the bytes' FNV-1a fingerprint.
        let version: String
    }

    static let assets: [String: Asset] = [
        "mmapd.css": Asset(contentType: "text/css; charset=utf-8", bytes: PackageResources.mmapd_css),
        "pages.js": Asset(contentType: "text/javascript; charset=utf-8", bytes: PackageResources.pages_js),
        "listing.js": Asset(contentType: "text/javascript; charset=utf-8", bytes: PackageResources.listing_js),
        "viewer.js": Asset(contentType: "text/javascript; charset=utf-8", bytes: PackageResources.viewer_js),
        "favicon.svg": Asset(contentType: "image/svg+xml", bytes: PackageResources.favicon_svg)
    ]

    /// The URL pages link: versioned, so it may be cached forever.
    static func url(_ name: String) -> String {
        guard let asset = assets[name] else { preconditionFailure("no page asset named \(name)") }
        return "/assets/\(name)?v=\(asset.version)"
    }

    func respond(to request: Request, name: String, query: String?) -> Response {
        guard let asset = Self.assets[name] else { return Response.problem(.notFound()) }
        let etag = EntityTag(strong: asset.version)
        let versioned = (try? QueryParameters(parsing: query))?.string("v") == asset.version
        let headers: [(name: String, value: String)] = [
            ("ETag", etag.headerValue),
            ("Cache-Control", versioned ? "public, max-age=31536000, immutable" : "no-cache"),
            ("X-Content-Type-Options", "nosniff")
        ]
        if let ifNoneMatch = request.header("If-None-Match"), EntityTag.list(ifNoneMatch, matches: etag, strongly: false) == true {
            return Response(status: 304, headers: headers)
        }
        return Response(status: 200, headers: [("Content-Type", asset.contentType)] + headers, body: .bytes(asset.bytes))
    }
}

extension PageAssets.Asset {
    init(contentType: String, bytes: [UInt8]) {
        self.init(contentType: contentType, bytes: bytes, version: Self.fingerprint(bytes))
    }

    /// FNV-1a (64 bits): a cache key that changes with the bytes, not a security measure. An
    /// asset is public and chosen by the build, so nothing gains from a collision.
    static func fingerprint(_ bytes: [UInt8]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
        }
        let digits = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
