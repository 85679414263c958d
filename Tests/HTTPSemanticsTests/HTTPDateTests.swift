import HTTPSemantics
import Testing

@Suite("HTTP-date (RFC 9110 §5.6.7)")
struct HTTPDateTests {
    /// Sun, 06 Nov 1994 08:49:37 GMT, the RFC's example.
    private static let rfcExample: Int64 = 784_111_777

    @Test(
        "IMF-fixdate formatting",
        arguments: [
            (Int64(0), "Thu, 01 Jan 1970 00:00:00 GMT"),
            (784_111_777, "Sun, 06 Nov 1994 08:49:37 GMT"),
            (-1, "Wed, 31 Dec 1969 23:59:59 GMT"),
            (-86_400, "Wed, 31 Dec 1969 00:00:00 GMT"),
            (-86_401, "Tue, 30 Dec 1969 23:59:59 GMT"),
            (951_782_400, "Tue, 29 Feb 2000 00:00:00 GMT"),
            (951_868_800, "Wed, 01 Mar 2000 00:00:00 GMT"),
            (1_709_164_800, "Thu, 29 Feb 2024 00:00:00 GMT"),
            (4_107_542_400, "Mon, 01 Mar 2100 00:00:00 GMT"),
            (1_000_000_000, "Sun, 09 Sep 2001 01:46:40 GMT"),
            (1_234_567_890, "Fri, 13 Feb 2009 23:31:30 GMT"),
            (2_147_483_647, "Tue, 19 Jan 2038 03:14:07 GMT"),
            (2_147_483_648, "Tue, 19 Jan 2038 03:14:08 GMT"),
            (4_102_444_799, "Thu, 31 Dec 2099 23:59:59 GMT"),
            (-2_208_988_800, "Mon, 01 Jan 1900 00:00:00 GMT"),
            (-62_135_596_800, "Mon, 01 Jan 0001 00:00:00 GMT"),
            // The four-digit year's limits, and clamping beyond them.
            (-62_167_219_200, "Sat, 01 Jan 0000 00:00:00 GMT"),
            (253_402_300_799, "Fri, 31 Dec 9999 23:59:59 GMT"),
            (253_402_300_800, "Fri, 31 Dec 9999 23:59:59 GMT"),
            (Int64.max, "Fri, 31 Dec 9999 23:59:59 GMT"),
            (-62_167_219_201, "Sat, 01 Jan 0000 00:00:00 GMT"),
            (Int64.min, "Sat, 01 Jan 0000 00:00:00 GMT")
        ] as [(Int64, String)])
    func format(seconds: Int64, expected: String) {
        #expect(HTTPDate.format(seconds) == expected)
    }

    @Test(
        "the three accepted forms",
        arguments: [
            // IMF-fixdate.
            ("Sun, 06 Nov 1994 08:49:37 GMT", rfcExample),
            ("Thu, 01 Jan 1970 00:00:00 GMT", 0),
            ("Wed, 31 Dec 1969 23:59:59 GMT", -1),
            ("Tue, 29 Feb 2000 00:00:00 GMT", 951_782_400),
            ("Tue, 19 Jan 2038 03:14:08 GMT", 2_147_483_648),
            ("Mon, 28 Sep 1970 06:00:00 GMT", 23_349_600),
            ("Wed, 25 Jun 2014 17:12:18 GMT", 1_403_716_338),
            ("Fri, 31 Dec 9999 23:59:59 GMT", 253_402_300_799),
            ("Sat, 01 Jan 0000 00:00:00 GMT", -62_167_219_200),
            // Surrounding whitespace is not part of the field value.
            ("  Sun, 06 Nov 1994 08:49:37 GMT\t", rfcExample),
            // A leap second counts as the next minute's first second.
            ("Sat, 31 Dec 2016 23:59:60 GMT", 1_483_228_800),
            // RFC 850 (obsolete).
            ("Sunday, 06-Nov-94 08:49:37 GMT", rfcExample),
            ("Thursday, 01-Jan-70 00:00:00 GMT", 0),
            ("Tuesday, 31-Dec-69 23:59:59 GMT", 3_155_759_999),
            ("Tuesday, 29-Feb-00 00:00:00 GMT", 951_782_400),
            ("Saturday, 01-Jan-00 00:00:00 GMT", 946_684_800),
            // asctime (obsolete), the day as SP DIGIT or 2DIGIT.
            ("Sun Nov  6 08:49:37 1994", rfcExample),
            ("Sun Nov 06 08:49:37 1994", rfcExample),
            ("Thu Jan  1 00:00:00 1970", 0),
            ("Wed Jun 25 17:12:18 2014", 1_403_716_338),
            ("Tue Feb 29 00:00:00 2000", 951_782_400)
        ] as [(String, Int64)])
    func parse(value: String, expected: Int64) {
        #expect(HTTPDate.parse(value) == expected)
    }

    @Test(
        "a day name that does not match the date is tolerated",
        arguments: [
            "Mon, 06 Nov 1994 08:49:37 GMT",
            "Monday, 06-Nov-94 08:49:37 GMT",
            "Mon Nov  6 08:49:37 1994"
        ])
    func inconsistentWeekday(value: String) {
        #expect(HTTPDate.parse(value) == Self.rfcExample)
    }

    @Test(
        "not an HTTP-date",
        arguments: [
            "",
            "   ",
            "yesterday",
            "wrong",
            "0",
            "784111777",
            "1994-11-06T08:49:37Z",
            "Sun, 06 Nov 1994 08:49:37 +0000",
            // Wrong zone or case (the names are case-sensitive).
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 06 Nov 1994 08:49:37 gmt",
            "sun, 06 Nov 1994 08:49:37 GMT",
            "SUN, 06 NOV 1994 08:49:37 GMT",
            "Sun, 06 nov 1994 08:49:37 GMT",
            "Sunday, 06-nov-94 08:49:37 GMT",
            "sun Nov  6 08:49:37 1994",
            // Missing or extra pieces.
            "Sun, 06 Nov 1994 08:49:37",
            "Sun, 06 Nov 1994 08:49 GMT",
            "06 Nov 1994 08:49:37 GMT",
            "Sun 06 Nov 1994 08:49:37 GMT",
            "Sun,06 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 08:49:37 GMT junk",
            "Sun, 06 Nov 1994 08:49:37 GMTX",
            "Sun, 06 Nov 1994  08:49:37 GMT",
            "Sun,  06 Nov 1994 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994 GMT",
            "Sun Nov 6 08:49:37 1994",
            "Sun Nov   6 08:49:37 1994",
            "Sun Nov  16 08:49:37 1994",
            // Wrong digit counts.
            "Sun, 6 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 94 08:49:37 GMT",
            "Sun, 06 Nov 01994 08:49:37 GMT",
            "Sun, 06 Nov 1994 8:49:37 GMT",
            "Sun, 06 Nov 1994 08:49:7 GMT",
            "Sunday, 06-Nov-1994 08:49:37 GMT",
            "Sunday, 6-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 94",
            // The wrong day-name length for the form.
            "Sunday, 06 Nov 1994 08:49:37 GMT",
            "Sun, 06-Nov-94 08:49:37 GMT",
            "Sunday Nov  6 08:49:37 1994",
            "Sun., 06 Nov 1994 08:49:37 GMT",
            "Xyz, 06 Nov 1994 08:49:37 GMT",
            "Sun, 06 Xyz 1994 08:49:37 GMT",
            // Fields out of range.
            "Sun, 00 Nov 1994 08:49:37 GMT",
            "Sun, 31 Nov 1994 08:49:37 GMT",
            "Sun, 32 Dec 1994 08:49:37 GMT",
            "Sun, 30 Feb 2000 00:00:00 GMT",
            "Sun, 29 Feb 1900 00:00:00 GMT",
            "Sun, 29 Feb 2023 00:00:00 GMT",
            "Sun, 06 Nov 1994 24:00:00 GMT",
            "Sun, 06 Nov 1994 08:60:37 GMT",
            "Sun, 06 Nov 1994 08:49:61 GMT",
            "Sun, 06 Nov 1994 99:99:99 GMT",
            "Sunday, 31-Sep-94 08:49:37 GMT",
            "Sun Feb 30 08:49:37 1994",
            // Signs and non-ASCII digits.
            "Sun, -6 Nov 1994 08:49:37 GMT",
            "Sun, +6 Nov 1994 08:49:37 GMT",
            "Sun, ٠٦ Nov 1994 08:49:37 GMT",
            // Other whitespace inside.
            "Sun,\t06 Nov 1994 08:49:37 GMT",
            "Sun, 06\u{A0}Nov 1994 08:49:37 GMT",
            // A list of dates is not a date (§13.1.3, §13.1.4).
            "Sun, 06 Nov 1994 08:49:37 GMT, Sun, 06 Nov 1994 08:49:37 GMT"
        ])
    func invalid(value: String) {
        #expect(HTTPDate.parse(value) == nil)
    }

    @Test(
        "RFC 850 two-digit years resolve within 50 years of now",
        arguments: [
            // now: 2026-01-01.
            ("Sunday, 06-Nov-94 08:49:37 GMT", Int64(1_767_225_600), Int64(784_111_777)),
            ("Wednesday, 01-Jan-70 00:00:00 GMT", 1_767_225_600, 3_155_760_000),
            ("Wednesday, 01-Jan-76 00:00:00 GMT", 1_767_225_600, 3_345_062_400),
            ("Saturday, 01-Jan-77 00:00:00 GMT", 1_767_225_600, 220_924_800),
            ("Saturday, 01-Jan-00 00:00:00 GMT", 1_767_225_600, 946_684_800),
            // now: 1994-11-06. 70 is in the past; 44 (50 years ahead) is not more than 50 years away.
            ("Thursday, 01-Jan-70 00:00:00 GMT", 784_111_777, 0),
            ("Friday, 01-Jan-44 00:00:00 GMT", 784_111_777, 2_335_219_200),
            ("Monday, 01-Jan-45 00:00:00 GMT", 784_111_777, -788_918_400),
            // now: 2090-06-01: 00 is 2100, 10 years ahead; 41 is 2041.
            ("Friday, 01-Jan-00 00:00:00 GMT", 3_799_958_400, 4_102_444_800),
            ("Tuesday, 01-Jan-41 00:00:00 GMT", 3_799_958_400, 2_240_611_200)
        ] as [(String, Int64, Int64)])
    func rfc850Century(value: String, now: Int64, expected: Int64) {
        #expect(HTTPDate.parse(value, now: now) == expected)
    }

    @Test(
        "every formatted time parses back",
        arguments: [
            Int64(0), 1, -1, 59, 60, 3599, 86_399, 86_400, 784_111_777, 951_782_399, 951_782_400,
            1_700_000_000, 2_147_483_647, 4_107_542_399, -2_208_988_801, -62_167_219_200, 253_402_300_799
        ])
    func roundTrip(seconds: Int64) {
        #expect(HTTPDate.parse(HTTPDate.format(seconds)) == seconds)
    }

    /// Walks one whole Gregorian cycle (400 years, 146,097 days) with a naive day-by-day calendar
    /// and compares it with ``HTTPDate/format(_:)``'s arithmetic; every third day, at a time of
    /// day that drifts through the whole day, so each month length and leap rule is crossed.
    @Test("a full 400-year cycle agrees with a naive calendar")
    func fullGregorianCycle() {
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func padded(_ value: Int, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: width - digits.count) + digits
        }
        func length(of month: Int, in year: Int) -> Int {
            if month == 2 { return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28 }
            return [4, 6, 9, 11].contains(month) ? 30 : 31
        }

        var (year, month, day, weekday) = (1900, 1, 1, 1)  // Monday, 1 January 1900
        var mismatches: [String] = []
        for dayIndex in 0..<146_097 {
            if dayIndex % 3 == 0 {
                let secondOfDay = dayIndex * 7 % 86_400
                let seconds = -2_208_988_800 + Int64(dayIndex) * 86_400 + Int64(secondOfDay)
                let expected =
                    "\(days[weekday]), \(padded(day, 2)) \(months[month - 1]) \(padded(year, 4)) "
                    + "\(padded(secondOfDay / 3600, 2)):\(padded(secondOfDay / 60 % 60, 2)):\(padded(secondOfDay % 60, 2)) GMT"
                let text = HTTPDate.format(seconds)
                if text != expected { mismatches.append(text + " ≠ " + expected) }
                if dayIndex % 9 == 0, HTTPDate.parse(text) != seconds { mismatches.append("parse " + text) }
            }
            weekday = (weekday + 1) % 7
            day += 1
            if day > length(of: month, in: year) {
                day = 1
                month += 1
                if month > 12 { (month, year) = (1, year + 1) }
            }
        }
        #expect(year == 2300 && month == 1 && day == 1 && weekday == 1)  // the cycle repeats exactly
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
    }
}
