import HTTPSemantics
import Testing

@Suite("HostHeader")
struct HostHeaderTests {
    @Test(
        "names the host, without port, lowercased",
        arguments: [
            ("localhost", "localhost"),
            ("localhost:8080", "localhost"),
            ("LocalHost:1", "localhost"),
            ("127.0.0.1:65535", "127.0.0.1"),
            ("[::1]:8080", "[::1]"),
            ("[::1]", "[::1]"),
            ("[FE80::1]", "[fe80::1]"),
            (" example.com ", "example.com"),
            ("example.com:", "example.com"),
            ("xn--bcher-kva.example", "xn--bcher-kva.example")
        ])
    func names(value: String, expected: String) {
        #expect(HostHeader.name(of: value) == expected)
    }

    @Test(
        "refuses what is not host[:port]",
        arguments: [
            "", "   ", ":8080", "[::1", "[::1]x", "[::1]:a", "host:80a", "a b", "a/b", "user@host", "host\u{1}", "[]:1x"
        ])
    func refuses(value: String) {
        #expect(HostHeader.name(of: value) == nil)
    }
}
