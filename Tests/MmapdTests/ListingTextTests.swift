import Testing

@testable import Mmapd

@Suite struct ListingTextTests {
    @Test(
        arguments: [
            (0, "0 B"), (1, "1 B"), (1023, "1023 B"), (1024, "1.0 KiB"), (1536, "1.5 KiB"), (10 * 1024 - 52, "9.9 KiB"),
            (10 * 1024, "10 KiB"), (1_048_575, "1.0 MiB"), (1_048_576, "1.0 MiB"), (5 << 30, "5.0 GiB"), (123 << 30, "123 GiB"),
            (1023 << 20, "1023 MiB"), (1 << 40, "1.0 TiB"), (UInt64.max, "16 EiB")
        ] as [(UInt64, String)])
    func humanSizes(bytes: UInt64, text: String) {
        #expect(ByteCountText.human(bytes) == text)
    }

    @Test(
        arguments: [
            (0, "01-Jan-1970 00:00"), (1_796_083_200, "01-Dec-2026 00:00"), (951_782_400 + 59, "29-Feb-2000 00:00"),
            (1_700_000_000, "14-Nov-2023 22:13")
        ] as [(Int64, String)])
    func autoindexDates(seconds: Int64, text: String) {
        #expect(DirectoryListingHTML.autoindexDate(seconds) == text)
    }

    @Test func htmlEscaping() {
        #expect(HTMLText.escaped(#"<a href="x">Tom & Jerry's</a>"#) == "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;")
        #expect(HTMLText.escaped("plain été") == "plain été")
    }

    @Test func digestTellsBodiesApart() {
        #expect(ListingDigest.of([]) == 0xCBF2_9CE4_8422_2325)
        #expect(ListingDigest.of(Array("a".utf8)) == 0xAF63_DC4C_8601_EC8C)  // the published FNV-1a 64 vector
        #expect(ListingDigest.of([1, 2]) != ListingDigest.of([2, 1]))
    }
}
