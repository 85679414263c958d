import HTTPSemantics
import Testing

/// Inputs found by the libFuzzer targets in Fuzz/ (Fuzz/run), kept as unit tests so that what
/// was found once stays fixed. Each test names the target and the input it reduced to.
@Suite("Fuzz regressions")
struct FuzzRegressionTests {
    /// FuzzHTTPDate, input `03 27 00 00 00 00 00 00 00` + "Sunday, 06-Nov-94 08:49:37 GMT": an
    /// RFC 850 two-digit year is read as the year within 50 years of `now` (RFC 9110 §5.6.7), so
    /// with a clock in year 0000 "94" is year -6, a date before the four-digit span that
    /// `format` can print (it clamps). No crash, and exactly the documented rule; unreachable with
    /// a real clock (the server passes time(nil)), hence only a record.
    @Test func rfc850YearNearYearZeroFollowsTheFiftyYearRule() {
        let yearZeroPlus39Seconds: Int64 = -62_167_219_200 + 39
        let parsed = HTTPDate.parse("Sunday, 06-Nov-94 08:49:37 GMT", now: yearZeroPlus39Seconds)
        #expect(parsed == -62_329_792_223)  // 06 Nov -0006 08:49:37 UTC, proleptic Gregorian
        #expect(HTTPDate.format(parsed!) == "Sat, 01 Jan 0000 00:00:00 GMT")
        // With a real clock the same text is 1994.
        #expect(HTTPDate.parse("Sunday, 06-Nov-94 08:49:37 GMT", now: 1_700_000_000) == 784_111_777)
    }

    /// Found while reducing the one above: `now` of Int64.min overflowed the day arithmetic of an
    /// RFC 850 date (a trap). Unreachable from a client (`now` is the server's clock), fixed by
    /// reading such a clock as the nearest year HTTP dates can name.
    @Test(arguments: [Int64.min, Int64.min + 1, -62_167_219_201, Int64.max, 253_402_300_800])
    func rfc850WithAnExtremeClockDoesNotTrap(now: Int64) {
        let parsed = HTTPDate.parse("Sunday, 06-Nov-94 08:49:37 GMT", now: now)
        #expect(parsed != nil)
    }
    /// FuzzRange, input `04 00 fb` + "bytes=2-,0-0": with a file size of UInt64.max the multipart
    /// body length (all ranges plus framing) overflowed UInt64, a trap. No file is that long (the
    /// largest is Int64.max bytes, off_t), so multipart bodies are now defined up to that size,
    /// and at that size the length adds up without overflow.
    @Test func multipartLengthOfTheLargestPossibleFileDoesNotOverflow() {
        let size = UInt64(Int64.max)
        guard
            case .multiple(let ranges) = RangeResolution.resolve(
                [.fromTo(2, nil), .fromTo(0, 0)], size: size, maxRanges: 9)
        else {
            Issue.record("two disjoint ranges expected")
            return
        }
        let body = MultipartByteranges(ranges: ranges, size: size, contentType: "text/plain", boundary: "fuzz0boundary")
        let framing = UInt64(body.partHeaders.reduce(body.closing.count) { $0 + $1.count })
        #expect(body.contentLength == framing + (size - 1))
    }
}
