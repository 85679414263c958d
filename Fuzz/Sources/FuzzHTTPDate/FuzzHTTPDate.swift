import FuzzSupport
import HTTPSemantics

/// HTTP-dates. Mode 0: parse(format(x)) == x for any x in the four-digit-year span (format
/// clamps outside it), in all three forms the parser reads, whatever `now`. Mode 1: any text;
/// a parsed date lies in the span and formats back to itself.
private let earliest: Int64 = -62_167_219_200  // 0000-01-01T00:00:00Z
private let latest: Int64 = 253_402_300_799  // 9999-12-31T23:59:59Z

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let mode = input.u8()
    // A real clock: 1970 to 2200. (With `now` within 50 years of year 0 or 9999, an RFC 850
    // two-digit year resolves to a year outside 0000-9999, e.g. "06-Nov-94" with now in year 0
    // is year -6: the first finding, kept in FuzzRegressionTests; no server clock gets there.)
    let now: Int64? = mode & 2 == 2 ? Int64(input.u64() % 7_258_118_400) : nil
    if mode & 1 == 0 {
        let x = input.i64()
        let expected = min(max(x, earliest), latest)
        let text = HTTPDate.format(x)
        invariant(text.utf8.count == 29, "IMF-fixdate of \(x) is \(text.utf8.count) bytes: \(text)")
        invariant(HTTPDate.parse(text) == expected, "parse(format(\(x))) = \(String(describing: HTTPDate.parse(text))), format gave \(text)")
        invariant(HTTPDate.parse(text, now: now) == expected, "IMF-fixdate depends on now")
        invariant(HTTPDate.parse(" \t" + text + " ") == expected, "surrounding OWS changes the date")
        // asctime of the same instant: "Sun Nov  6 08:49:37 1994".
        let parts = text.split(separator: " ")  // Sun, 06 Nov 1994 08:49:37 GMT
        let day = Int(parts[1])!
        let asctime = "\(parts[0].dropLast()) \(parts[2]) \(day < 10 ? " \(day)" : "\(day)") \(parts[4]) \(parts[3])"
        invariant(HTTPDate.parse(asctime) == expected, "asctime \(asctime) does not parse to \(expected)")
    } else {
        let text = FuzzInput.text(input.rest())
        let parsed = HTTPDate.parse(text, now: now)
        invariant(parsed == HTTPDate.parse(text, now: now), "parse is not deterministic")
        if let parsed {
            // A leap second on the very last day reads as one second past `latest`.
            invariant(parsed >= earliest && parsed <= latest + 1, "parsed date \(parsed) outside the span")
            if parsed <= latest {
                invariant(HTTPDate.parse(HTTPDate.format(parsed)) == parsed, "\(parsed) does not round-trip")
            }
        }
    }
    return 0
}
