/// HTTP-date (RFC 9110 §5.6.7) to and from Unix seconds, in the proleptic Gregorian calendar, UTC.
///
/// The calendar arithmetic is done here rather than with Foundation so that this module stays
/// plain Swift; it is the days-from-civil and civil-from-days method of Howard Hinnant's
/// "chrono-Compatible Low-Level Date Algorithms", exact for every year this format can hold.
public enum HTTPDate {
    /// The IMF-fixdate for `unixSeconds`, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`: the only form a
    /// sender may generate (§5.6.7).
    ///
    /// The format has a four-digit year, so times before `0000-01-01T00:00:00Z` or after
    /// `9999-12-31T23:59:59Z` are clamped to those limits instead of printing an invalid date.
    public static func format(_ unixSeconds: Int64) -> String {
        let seconds = min(max(unixSeconds, earliest), latest)
        let (days, secondOfDay) = floorDivision(seconds, 86_400)
        let date = civilDate(fromDays: days)
        let weekday = Int(floorDivision(days + 4, 7).remainder)  // 1970-01-01 was a Thursday.

        var text: [UInt8] = []
        text.reserveCapacity(29)
        text += dayNames[weekday]
        text += ", ".utf8
        appendDigits(date.day, count: 2, to: &text)
        text.append(UInt8(ascii: " "))
        text += monthNames[date.month - 1]
        text.append(UInt8(ascii: " "))
        appendDigits(Int(date.year), count: 4, to: &text)
        text.append(UInt8(ascii: " "))
        appendDigits(Int(secondOfDay / 3600), count: 2, to: &text)
        text.append(UInt8(ascii: ":"))
        appendDigits(Int(secondOfDay / 60 % 60), count: 2, to: &text)
        text.append(UInt8(ascii: ":"))
        appendDigits(Int(secondOfDay % 60), count: 2, to: &text)
        text += " GMT".utf8
        return String(decoding: text, as: UTF8.self)
    }

    /// The Unix time an HTTP-date names, or nil when `value` is not one.
    ///
    /// All three forms a recipient must accept (§5.6.7) are read: IMF-fixdate
    /// (`Sun, 06 Nov 1994 08:49:37 GMT`), the obsolete RFC 850 form
    /// (`Sunday, 06-Nov-94 08:49:37 GMT`) and asctime (`Sun Nov  6 08:49:37 1994`, the day also
    /// as `06`). Names are case-sensitive, as the grammar's `%s` strings are. The fields must form
    /// a real date and time (no 30 February, no hour 24); a seconds value of 60 (a leap second) is
    /// accepted and counts as the next minute's first second, as POSIX time has no leap seconds.
    /// The day name is checked to be a day name but not against the date: §5.6.7 asks recipients
    /// to be robust, and a wrong weekday does not make the instant ambiguous.
    ///
    /// - Parameter now: Unix time of the request, used only for the RFC 850 two-digit year, which
    ///   §5.6.7 resolves relative to the present: a year more than 50 years ahead of `now` means
    ///   the century before, so the two digits name the year within 50 years of `now`. Without
    ///   `now`, 70–99 are read as 1970–1999 and 00–69 as 2000–2069 (nginx's rule; Unix time
    ///   starts in 1970).
    public static func parse(_ value: String, now: Int64? = nil) -> Int64? {
        let bytes = FieldText.trimmingWhitespace(Array(value.utf8)[...])
        return parseIMFFixdate(bytes) ?? parseRFC850(bytes, now: now) ?? parseAsctime(bytes)
    }

    // MARK: Forms

    /// `day-name "," SP day SP month SP year SP hour ":" minute ":" second SP "GMT"`
    private static func parseIMFFixdate(_ bytes: ArraySlice<UInt8>) -> Int64? {
        var scanner = Scanner(bytes)
        guard scanner.name(in: dayNames) != nil, scanner.literal(", "),
            let day = scanner.digits(2), scanner.literal(" "),
            let month = scanner.month(), scanner.literal(" "),
            let year = scanner.digits(4), scanner.literal(" "),
            let time = scanner.timeOfDay(), scanner.literal(" GMT"), scanner.isAtEnd
        else { return nil }
        return unixTime(year: Int64(year), month: month, day: day, time: time)
    }

    /// `day-name-l "," SP day "-" month "-" 2DIGIT SP hour ":" minute ":" second SP "GMT"`
    private static func parseRFC850(_ bytes: ArraySlice<UInt8>, now: Int64?) -> Int64? {
        var scanner = Scanner(bytes)
        guard scanner.name(in: longDayNames) != nil, scanner.literal(", "),
            let day = scanner.digits(2), scanner.literal("-"),
            let month = scanner.month(), scanner.literal("-"),
            let twoDigitYear = scanner.digits(2), scanner.literal(" "),
            let time = scanner.timeOfDay(), scanner.literal(" GMT"), scanner.isAtEnd
        else { return nil }
        let year = fullYear(twoDigitYear, now: now)
        return unixTime(year: year, month: month, day: day, time: time)
    }

    /// `day-name SP month SP ( 2DIGIT / ( SP DIGIT ) ) SP hour ":" minute ":" second SP year`
    private static func parseAsctime(_ bytes: ArraySlice<UInt8>) -> Int64? {
        var scanner = Scanner(bytes)
        guard scanner.name(in: dayNames) != nil, scanner.literal(" "),
            let month = scanner.month(), scanner.literal(" ")
        else { return nil }
        let day = scanner.literal(" ") ? scanner.digits(1) : scanner.digits(2)
        guard let day, scanner.literal(" "),
            let time = scanner.timeOfDay(), scanner.literal(" "),
            let year = scanner.digits(4), scanner.isAtEnd
        else { return nil }
        return unixTime(year: Int64(year), month: month, day: day, time: time)
    }

    // MARK: Calendar

    private static let dayNames = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"].map { Array($0.utf8) }
    private static let longDayNames = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
        .map { Array($0.utf8) }
    private static let monthNames = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        .map { Array($0.utf8) }

    /// `0000-01-01T00:00:00Z` and `9999-12-31T23:59:59Z`, the span a four-digit year covers.
    private static let earliest: Int64 = -62_167_219_200
    private static let latest: Int64 = 253_402_300_799

    /// Seconds since the epoch, or nil when the day does not exist in that month.
    private static func unixTime(year: Int64, month: Int, day: Int, time: Int64) -> Int64? {
        guard day >= 1, day <= daysInMonth(month, year: year) else { return nil }
        return days(fromYear: year, month: month, day: day) * 86_400 + time
    }

    private static func daysInMonth(_ month: Int, year: Int64) -> Int {
        switch month {
        case 2: isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    private static func isLeapYear(_ year: Int64) -> Bool {
        year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
    }

    /// Days from 1970-01-01 to the given date. Years are shifted to start in March so that the
    /// leap day falls at the end of the year; a 400-year era has exactly 146,097 days.
    private static func days(fromYear year: Int64, month: Int, day: Int) -> Int64 {
        let marchYear = month <= 2 ? year - 1 : year
        let era = floorDivision(marchYear, 400).quotient
        let yearOfEra = marchYear - era * 400
        let marchMonth = Int64(month > 2 ? month - 3 : month + 9)
        let dayOfYear = (153 * marchMonth + 2) / 5 + Int64(day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The inverse of ``days(fromYear:month:day:)``.
    private static func civilDate(fromDays days: Int64) -> (year: Int64, month: Int, day: Int) {
        let (era, dayOfEra) = floorDivision(days + 719_468, 146_097)
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let marchMonth = (5 * dayOfYear + 2) / 153
        let day = Int(dayOfYear - (153 * marchMonth + 2) / 5 + 1)
        let month = Int(marchMonth < 10 ? marchMonth + 3 : marchMonth - 9)
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }

    /// The four-digit year an RFC 850 two-digit year stands for (see ``parse(_:now:)``).
    private static func fullYear(_ twoDigits: Int, now: Int64?) -> Int64 {
        guard let now else { return Int64(twoDigits < 70 ? 2000 + twoDigits : 1900 + twoDigits) }
        // A clock outside the years HTTP dates can name is read as the nearest of them: the day
        // arithmetic below would overflow at the extremes of Int64.
        let clamped = min(max(now, earliest), latest)
        let currentYear = civilDate(fromDays: floorDivision(clamped, 86_400).quotient).year
        let candidate = floorDivision(currentYear, 100).quotient * 100 + Int64(twoDigits)
        if candidate > currentYear + 50 { return candidate - 100 }
        if candidate <= currentYear - 50 { return candidate + 100 }
        return candidate
    }

    /// Division rounding toward negative infinity, so times before 1970 land on the right day.
    private static func floorDivision(_ value: Int64, _ divisor: Int64) -> (quotient: Int64, remainder: Int64) {
        let quotient = value / divisor - (value % divisor < 0 ? 1 : 0)
        return (quotient, value - quotient * divisor)
    }

    /// Appends the last `count` decimal digits of a non-negative `value`, zero-padded.
    private static func appendDigits(_ value: Int, count: Int, to text: inout [UInt8]) {
        var divisor = 1
        for _ in 1..<count { divisor *= 10 }
        while divisor > 0 {
            text.append(UInt8(ascii: "0") + UInt8(value / divisor % 10))
            divisor /= 10
        }
    }

    /// Reads the fixed-layout fields of the three forms from left to right.
    private struct Scanner {
        private var rest: ArraySlice<UInt8>

        init(_ bytes: ArraySlice<UInt8>) { rest = bytes }

        var isAtEnd: Bool { rest.isEmpty }

        /// Consumes `text` if the input continues with exactly it.
        mutating func literal(_ text: StaticString) -> Bool {
            let matched = text.withUTF8Buffer { rest.starts(with: $0) }
            if matched { rest = rest.dropFirst(text.utf8CodeUnitCount) }
            return matched
        }

        /// Consumes the first of `names` the input continues with; returns its index.
        mutating func name(in names: [[UInt8]]) -> Int? {
            guard let index = names.firstIndex(where: { rest.starts(with: $0) }) else { return nil }
            rest = rest.dropFirst(names[index].count)
            return index
        }

        /// A month name as 1...12.
        mutating func month() -> Int? {
            name(in: HTTPDate.monthNames).map { $0 + 1 }
        }

        /// Exactly `count` ASCII digits.
        mutating func digits(_ count: Int) -> Int? {
            let field = rest.prefix(count)
            guard field.count == count,
                field.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
            else { return nil }
            rest = rest.dropFirst(count)
            return field.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
        }

        /// `hour ":" minute ":" second` as seconds into the day; hour 0–23, minute 0–59,
        /// second 0–60.
        mutating func timeOfDay() -> Int64? {
            guard let hour = digits(2), hour < 24, literal(":"),
                let minute = digits(2), minute < 60, literal(":"),
                let second = digits(2), second <= 60
            else { return nil }
            return Int64(hour * 3600 + minute * 60 + second)
        }
    }
}
