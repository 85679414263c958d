/// The current representation's validators, which request preconditions are tested against.
public struct Validators: Sendable, Hashable {
    /// The `ETag` the server would send now.
    public let etag: EntityTag
    /// The `Last-Modified` time the server would send now, in whole Unix seconds (HTTP-dates have
    /// one-second resolution, so every date comparison here is at that granularity).
    public let lastModified: Int64

    public init(etag: EntityTag, lastModified: Int64) {
        self.etag = etag
        self.lastModified = lastModified
    }
}

/// The raw precondition fields of a request; nil when the field is absent.
///
/// Raw strings rather than parsed values, because what an unparseable field means depends on the
/// field (RFC 9110 §13.1): an invalid date is ignored, an invalid If-Match fails.
public struct ConditionalHeaders: Sendable, Hashable {
    public var ifMatch: String?
    public var ifNoneMatch: String?
    public var ifModifiedSince: String?
    public var ifUnmodifiedSince: String?
    public var ifRange: String?

    public init(
        ifMatch: String? = nil,
        ifNoneMatch: String? = nil,
        ifModifiedSince: String? = nil,
        ifUnmodifiedSince: String? = nil,
        ifRange: String? = nil
    ) {
        self.ifMatch = ifMatch
        self.ifNoneMatch = ifNoneMatch
        self.ifModifiedSince = ifModifiedSince
        self.ifUnmodifiedSince = ifUnmodifiedSince
        self.ifRange = ifRange
    }
}

/// What the preconditions decide.
public enum ConditionalOutcome: Sendable, Equatable {
    /// Carry on with the request (range handling included).
    case proceed
    /// 304 Not Modified (GET and HEAD only).
    case notModified
    /// 412 Precondition Failed.
    case preconditionFailed
}

/// Evaluation of request preconditions (RFC 9110 §13).
///
/// The server calls this only when it would otherwise answer 2xx (§13.2.1): for a missing file the
/// answer is 404 whatever the preconditions say.
public enum ConditionalRequest {
    /// Evaluates the preconditions in the order of RFC 9110 §13.2.2, steps 1 to 4.
    ///
    /// 1. If-Match, by strong comparison (§13.1.1); `*` matches, as a current representation
    ///    exists. False → 412. A value that is not a valid list is false too: a client that made
    ///    the request conditional must not get it applied unconditionally.
    /// 2. Otherwise If-Unmodified-Since (§13.1.4): false when the representation changed after the
    ///    date → 412. Ignored when the date is not a valid HTTP-date, as §13.1.4 requires.
    /// 3. If-None-Match, by weak comparison (§13.1.2): a match (or `*`) → 304 for GET and HEAD,
    ///    412 for other methods. A value that is not a valid list matches nothing, so the request
    ///    proceeds with a full answer, which is always safe for a reader.
    /// 4. Otherwise, for GET and HEAD only, If-Modified-Since (§13.1.3): not modified since the
    ///    date → 304. Ignored when the date is invalid, and ignored whenever If-None-Match is
    ///    present, even if that value was invalid.
    ///
    /// Step 5, If-Range, belongs to range handling: see ``rangeApplies(ifRange:current:now:)``.
    ///
    /// - Parameters:
    ///   - isSafe: true for GET and HEAD, the methods that can be answered with 304; false for
    ///     PATCH and any other method, for which a failed If-None-Match is 412 and
    ///     If-Modified-Since does not apply.
    ///   - now: The request's Unix time; only used to read a two-digit RFC 850 year
    ///     (see ``HTTPDate/parse(_:now:)``).
    public static func evaluate(
        _ headers: ConditionalHeaders,
        isSafe: Bool,
        current: Validators,
        now: Int64? = nil
    ) -> ConditionalOutcome {
        if let ifMatch = headers.ifMatch {
            guard EntityTag.list(ifMatch, matches: current.etag, strongly: true) == true else { return .preconditionFailed }
        } else if let value = headers.ifUnmodifiedSince, let date = HTTPDate.parse(value, now: now) {
            guard current.lastModified <= date else { return .preconditionFailed }
        }

        if let ifNoneMatch = headers.ifNoneMatch {
            if EntityTag.list(ifNoneMatch, matches: current.etag, strongly: false) == true {
                return isSafe ? .notModified : .preconditionFailed
            }
        } else if isSafe, let value = headers.ifModifiedSince, let date = HTTPDate.parse(value, now: now) {
            if current.lastModified <= date { return .notModified }
        }
        return .proceed
    }

    /// If-Range (RFC 9110 §13.1.5): whether the Range header may be honoured. When false the
    /// server ignores Range and sends the whole representation with 200.
    ///
    /// - Absent → true.
    /// - An entity tag (the value starts with `"` or `W/"`, which is how §13.1.5 tells the two
    ///   forms apart) → true only by strong comparison, so a weak tag never matches.
    /// - An HTTP-date → true only when it equals Last-Modified to the second, and, when `now` is
    ///   given, only if Last-Modified is at least one second before `now`. §13.1.5 requires the
    ///   date to be a strong validator, and §8.8.2.2 counts a modification time as strong only
    ///   when the file cannot have changed again within that same second.
    /// - Anything else → false: when in doubt, a whole answer is always correct.
    public static func rangeApplies(ifRange: String?, current: Validators, now: Int64? = nil) -> Bool {
        guard let ifRange else { return true }
        if let tag = EntityTag.parse(ifRange) {
            return tag.strongMatch(current.etag)
        }
        guard let date = HTTPDate.parse(ifRange, now: now), date == current.lastModified else { return false }
        return now.map { current.lastModified < $0 } ?? true
    }
}
