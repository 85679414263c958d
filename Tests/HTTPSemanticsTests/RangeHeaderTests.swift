import HTTPSemantics
import Testing

@Suite("Range header parsing (RFC 9110 §14.1, §14.2)")
struct RangeHeaderTests {
    @Test(
        "well-formed byte range sets",
        arguments: [
            // The three spec forms.
            ("bytes=0-499", [RangeSpec.fromTo(0, 499)]),
            ("bytes=500-999", [.fromTo(500, 999)]),
            ("bytes=9500-", [.fromTo(9500, nil)]),
            ("bytes=-500", [.suffix(500)]),
            ("bytes=0-0", [.fromTo(0, 0)]),
            ("bytes=0-", [.fromTo(0, nil)]),
            // A zero-length suffix is valid syntax (unsatisfiable, decided at resolution).
            ("bytes=-0", [.suffix(0)]),
            // first == last is valid.
            ("bytes=7-7", [.fromTo(7, 7)]),
            // The unit is case-insensitive.
            ("Bytes=0-9", [.fromTo(0, 9)]),
            ("BYTES=0-9", [.fromTo(0, 9)]),
            ("bYtEs=0-9", [.fromTo(0, 9)]),
            // Lists keep the client's order, duplicates and overlaps (resolution merges them).
            ("bytes=0-0,-1", [.fromTo(0, 0), .suffix(1)]),
            ("bytes=15-,0-5", [.fromTo(15, nil), .fromTo(0, 5)]),
            ("bytes=500-700,601-999", [.fromTo(500, 700), .fromTo(601, 999)]),
            ("bytes=0-9, -10, 100000-, 10-19", [.fromTo(0, 9), .suffix(10), .fromTo(100_000, nil), .fromTo(10, 19)]),
            ("bytes=0-1,0-1", [.fromTo(0, 1), .fromTo(0, 1)]),
            // Leading zeros are decimal, not octal.
            ("bytes=007-010", [.fromTo(7, 10)]),
            ("bytes=0000000000000000000000000000005-6", [.fromTo(5, 6)]),
            ("bytes=-00", [.suffix(0)])
        ] as [(String, [RangeSpec])])
    func wellFormed(value: String, expected: [RangeSpec]) {
        #expect(RangeHeader.parse(value) == .specs(expected))
    }

    @Test(
        "whitespace and empty list elements (the #rule of §5.6.1)",
        arguments: [
            ("bytes=0-1,,2-3", [RangeSpec.fromTo(0, 1), .fromTo(2, 3)]),
            ("bytes=,0-1", [.fromTo(0, 1)]),
            ("bytes=0-1,", [.fromTo(0, 1)]),
            ("bytes=,,0-1,,,", [.fromTo(0, 1)]),
            ("bytes=0-1 , 2-3", [.fromTo(0, 1), .fromTo(2, 3)]),
            ("bytes= 0-1", [.fromTo(0, 1)]),
            ("bytes=0-1\t,\t-2", [.fromTo(0, 1), .suffix(2)]),
            ("bytes=-2 , 7-", [.suffix(2), .fromTo(7, nil)]),
            ("bytes=0-0 ,2-2, 7-", [.fromTo(0, 0), .fromTo(2, 2), .fromTo(7, nil)]),
            // Whitespace around the dash, as Apache, nginx and Go accept.
            ("bytes=1 - 2", [.fromTo(1, 2)]),
            ("bytes=   1 -2   ,  4- 5, 7 - 8 , ,,", [.fromTo(1, 2), .fromTo(4, 5), .fromTo(7, 8)]),
            ("bytes=- 5", [.suffix(5)]),
            ("bytes=5 -", [.fromTo(5, nil)]),
            // Whitespace around the whole field value is not part of it (§5.5).
            ("  bytes=0-1  ", [.fromTo(0, 1)]),
            ("\tbytes=0-1\t", [.fromTo(0, 1)])
        ] as [(String, [RangeSpec])])
    func whitespace(value: String, expected: [RangeSpec]) {
        #expect(RangeHeader.parse(value) == .specs(expected))
    }

    @Test(
        "numbers beyond UInt64 saturate and never wrap",
        arguments: [
            ("bytes=99999999999999999999-", [RangeSpec.fromTo(UInt64.max, nil)]),
            ("bytes=0-99999999999999999999", [.fromTo(0, UInt64.max)]),
            ("bytes=-99999999999999999999", [.suffix(UInt64.max)]),
            ("bytes=18446744073709551615-18446744073709551615", [.fromTo(UInt64.max, UInt64.max)]),
            ("bytes=18446744073709551614-18446744073709551616", [.fromTo(UInt64.max - 1, UInt64.max)]),
            ("bytes=18446744073709551616-", [.fromTo(UInt64.max, nil)]),
            ("bytes=-18446744073709551616", [.suffix(UInt64.max)]),
            ("bytes=123456789012345678901234567890-123456789012345678901234567891", [.fromTo(UInt64.max, UInt64.max)]),
            ("bytes=0-1,-340282366920938463463374607431768211456", [.fromTo(0, 1), .suffix(UInt64.max)]),
            // A wrapping parser would read 2^64 as 0 and 2^64 + 5 as 5.
            ("bytes=18446744073709551616-18446744073709551621", [.fromTo(UInt64.max, UInt64.max)])
        ] as [(String, [RangeSpec])])
    func overflow(value: String, expected: [RangeSpec]) {
        #expect(RangeHeader.parse(value) == .specs(expected))
    }

    @Test(
        "values that are not a bytes range are ignored",
        arguments: [
            "",
            "   ",
            "foo",
            "keks=100500",
            "items=0-9",
            "byte=0-9",
            "bytesx=0-9",
            "bytes",
            "bytes 0-9",
            "bytes =0-9",
            "=0-9",
            "0-9",
            "none"
        ])
    func ignored(value: String) {
        #expect(RangeHeader.parse(value) == .ignored)
    }

    @Test(
        "malformed bytes range sets are invalid",
        arguments: [
            // No spec at all.
            "bytes=",
            "bytes=         ",
            "bytes= , , ,   ",
            "bytes=,",
            // No dash.
            "bytes=7",
            "bytes= 7 ",
            "bytes=alpha",
            // last < first, alone or anywhere in the list.
            "bytes=5-4",
            "bytes=0-2,5-4",
            "bytes=2-5,4-3",
            "bytes=100000-110000,5-2",
            "bytes=10-09",
            // last < first is detected exactly even when both numbers exceed UInt64.
            "bytes=99999999999999999999999-99999999999999999999998",
            "bytes=18446744073709551616-18446744073709551615",
            // Signs, double dashes, stray dashes.
            "bytes=--5",
            "bytes=--0",
            "bytes=---0",
            "bytes=-6-",
            "bytes=4--3",
            "bytes=1-2-3",
            "bytes=+1-2",
            "bytes=1-+2",
            "bytes=-+5",
            "bytes=-",
            "bytes= - ",
            "bytes=-,0-1",
            // Not decimal digits.
            "bytes=A-",
            "bytes=A- ",
            "bytes=A-Z",
            "bytes= -Z",
            "bytes=5-Z",
            "bytes=10-alpha",
            "bytes=Ran-dom, garbage",
            "bytes=0x01-0x02",
            "bytes=1.5-2",
            "bytes=1e3-",
            "bytes=١-٢",
            "bytes=１-２",
            // Wrong separators.
            "bytes=10-11 12-",
            "bytes=0-1;2-3",
            "bytes=0-1 2-3",
            "bytes=1 2-3",
            "bytes=0-1,x",
            "bytes=1-4,5-2",
            // Other whitespace than SP and HTAB is not OWS.
            "bytes=0-1\n",
            "bytes=0-\u{A0}1",
            // Anything after a valid spec in the same element.
            "bytes=0-1x",
            "bytes=0-1/10"
        ])
    func invalid(value: String) {
        #expect(RangeHeader.parse(value) == .invalid)
    }

    @Test("a header with thousands of specs parses in full")
    func manySpecs() {
        let value = "bytes=" + Array(repeating: "0-", count: 10_000).joined(separator: ",")
        #expect(RangeHeader.parse(value) == .specs(Array(repeating: .fromTo(0, nil), count: 10_000)))
    }

    @Test("one bad spec among many makes the whole set invalid")
    func oneBadSpecAmongMany() {
        let value = "bytes=" + Array(repeating: "0-1", count: 500).joined(separator: ",") + ",2-1"
        #expect(RangeHeader.parse(value) == .invalid)
    }
}
