import HTTPSemantics
import Testing

@Suite("Content-Range (RFC 9110 §14.4)")
struct ContentRangeTests {
    @Test(
        "formatting for 206 and 416 answers",
        arguments: [
            (ContentRange(range: ByteRange(start: 0, length: 9), completeLength: 1000), "bytes 0-8/1000"),
            (ContentRange(range: ByteRange(start: 990, length: 10), completeLength: 1000), "bytes 990-999/1000"),
            (ContentRange(range: ByteRange(start: 0, length: 1), completeLength: 1), "bytes 0-0/1"),
            (ContentRange(range: ByteRange(start: 42, length: 8), completeLength: nil), "bytes 42-49/*"),
            (ContentRange(unsatisfied: 1000), "bytes */1000"),
            (ContentRange(unsatisfied: 0), "bytes */0"),
            (
                ContentRange(range: ByteRange(start: 9_223_372_036_854_775_806, length: 1), completeLength: 9_223_372_036_854_775_807),
                "bytes 9223372036854775806-9223372036854775806/9223372036854775807"
            )
        ] as [(ContentRange, String)])
    func format(contentRange: ContentRange, expected: String) {
        #expect(contentRange.headerValue == expected)
    }

    /// The digit-by-digit formatter against plain interpolation, at every power of ten and its
    /// neighbours (where the digit count changes) up to UInt64.max.
    @Test("formatting agrees with interpolation at every digit-count boundary")
    func formatMatchesInterpolation() {
        var values: [UInt64] = [0, 1, 9, .max - 1, .max]
        var power: UInt64 = 10
        while true {
            values += [power - 1, power, power + 1]
            let (next, overflow) = power.multipliedReportingOverflow(by: 10)
            if overflow { break }
            power = next
        }
        for value in values {
            #expect(ContentRange(unsatisfied: value).headerValue == "bytes */\(value)")
            let start = value / 3
            let range = ByteRange(start: start, length: value - start == 0 ? 1 : value - start)
            #expect(ContentRange(range: range, completeLength: nil).headerValue == "bytes \(range.start)-\(range.last)/*")
            if range.end <= value {
                #expect(ContentRange(range: range, completeLength: value).headerValue == "bytes \(range.start)-\(range.last)/\(value)")
            }
        }
    }

    @Test(
        "valid values",
        arguments: [
            ("bytes 0-499/1234", ByteRange(start: 0, length: 500), UInt64(1234)),
            ("bytes 500-999/1234", ByteRange(start: 500, length: 500), 1234),
            ("bytes 1233-1233/1234", ByteRange(start: 1233, length: 1), 1234),
            ("bytes 0-0/1", ByteRange(start: 0, length: 1), 1),
            ("bytes 21010-47021/47022", ByteRange(start: 21010, length: 26012), 47022),
            ("Bytes 0-1/2", ByteRange(start: 0, length: 2), 2),
            ("BYTES 0-1/2", ByteRange(start: 0, length: 2), 2),
            ("  bytes 0-1/2\t", ByteRange(start: 0, length: 2), 2),
            ("bytes 007-010/100", ByteRange(start: 7, length: 4), 100),
            (
                "bytes 0-18446744073709551613/18446744073709551615", ByteRange(start: 0, length: 18_446_744_073_709_551_614),
                18_446_744_073_709_551_615
            )
        ] as [(String, ByteRange, UInt64)])
    func validWithLength(value: String, range: ByteRange, length: UInt64) {
        let parsed = ContentRange.parse(value)
        #expect(parsed == ContentRange(range: range, completeLength: length))
        #expect(parsed?.range == range)
        #expect(parsed?.completeLength == length)
    }

    @Test(
        "valid values with an unknown complete length",
        arguments: [
            ("bytes 0-4/*", ByteRange(start: 0, length: 5)),
            ("bytes 100-100/*", ByteRange(start: 100, length: 1)),
            ("bytes 1000000-1999999/*", ByteRange(start: 1_000_000, length: 1_000_000)),
            ("bytes 18446744073709551614-18446744073709551614/*", ByteRange(start: 18_446_744_073_709_551_614, length: 1))
        ] as [(String, ByteRange)])
    func validWithoutLength(value: String, range: ByteRange) {
        let parsed = ContentRange.parse(value)
        #expect(parsed == ContentRange(range: range, completeLength: nil))
        #expect(parsed?.completeLength == nil)
    }

    @Test(
        "valid unsatisfied-range values",
        arguments: [
            ("bytes */1234", UInt64(1234)),
            ("bytes */0", 0),
            ("bytes */18446744073709551615", 18_446_744_073_709_551_615)
        ] as [(String, UInt64)])
    func validUnsatisfied(value: String, length: UInt64) {
        let parsed = ContentRange.parse(value)
        #expect(parsed == ContentRange(unsatisfied: length))
        #expect(parsed?.range == nil)
    }

    @Test(
        "invalid values",
        arguments: [
            "",
            "bytes",
            "bytes ",
            "bytes=0-1/2",
            "bytes  0-1/2",
            "bytes\t0-1/2",
            "items 0-1/2",
            "0-1/2",
            // last < first, last beyond the complete length (§14.4).
            "bytes 5-4/10",
            "bytes 0-9/5",
            "bytes 0-5/5",
            "bytes 0-0/0",
            // Missing or extra pieces.
            "bytes 0-/10",
            "bytes -5/10",
            "bytes 0-5",
            "bytes 0-5/",
            "bytes 0/5",
            "bytes */*",
            "bytes *",
            "bytes */",
            "bytes * /5",
            "bytes 0-5/*/*",
            "bytes 0-5/10/10",
            "bytes 0-1-2/10",
            "bytes 1/2-3",
            // Whitespace inside.
            "bytes 0 -5/10",
            "bytes 0-5 /10",
            "bytes 0-5/ 10",
            // Not decimal digits.
            "bytes 0x0-0x5/10",
            "bytes +0-5/10",
            "bytes 0--5/10",
            "bytes a-b/c",
            "bytes 0-5/1e3",
            "bytes ١-٢/١٠",
            // Numbers that do not fit, or whose end offset would not.
            "bytes 0-18446744073709551616/*",
            "bytes 18446744073709551616-18446744073709551617/*",
            "bytes 0-18446744073709551615/*",
            "bytes */18446744073709551616",
            "bytes 0-1/99999999999999999999"
        ])
    func invalid(value: String) {
        #expect(ContentRange.parse(value) == nil)
    }

    @Test(
        "what is formatted parses back to the same value",
        arguments: [
            ContentRange(range: ByteRange(start: 0, length: 1), completeLength: 1),
            ContentRange(range: ByteRange(start: 123, length: 456), completeLength: 100_000),
            ContentRange(range: ByteRange(start: 5, length: 5), completeLength: nil),
            ContentRange(unsatisfied: 77)
        ])
    func roundTrip(contentRange: ContentRange) {
        #expect(ContentRange.parse(contentRange.headerValue) == contentRange)
    }
}
