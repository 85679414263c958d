import Testing

@testable import HTTPSemantics

@Suite("AcceptHeader")
struct AcceptHeaderTests {
    /// (Accept, does JSON win over HTML?)
    static let listingChoices: [(String?, Bool)] = [
        (nil, false),
        ("", false),
        ("*/*", false),
        ("text/html", false),
        ("application/json", true),
        ("APPLICATION/JSON", true),
        ("application/*", true),
        ("text/*", false),
        ("application/json, text/html", false),  // a tie goes to HTML
        ("text/html, application/json", false),
        ("application/json, text/html;q=0.9", true),
        ("application/json;q=0.9, text/html", false),
        ("application/json;q=0.5, */*;q=0.1", true),
        ("*/*;q=0.8, application/json", true),
        ("text/html;q=0, */*", true),  // html refused, json 1 through */*
        ("application/json;q=0", false),
        ("application/json;q=0, text/html;q=0", false),
        // Browsers
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", false),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8", false),
        // Tools
        ("application/json, text/plain, */*", false),  // axios: json 1, html 1 through */*: a tie
        ("application/problem+json", false),
        ("application/x-ndjson", false),
        // More specific beats less specific, whatever the order
        ("application/json;q=0.2, application/*;q=0.9, text/html;q=0.5", false),
        ("application/*;q=0.9, text/*;q=0.1", true),
        ("*/*;q=0.1, application/json;q=0.2", true),
        // Malformed elements are skipped one by one
        ("application/json;q=2, text/html;q=0.5", false),
        ("application/json;q=abc", false),
        ("garbage, application/json", true),
        ("*/json", false),
        ("application/json;q=0.5;q=0.9", true),
        ("application/json ; q=0.7 , text/html ; q=0.6", true),
        ("application/json;q=0.70", true),
        ("application/json;charset=utf-8", false),  // parameters the offered type lacks
        (",,,", false),
        ("application/json;q=1.000, text/html;q=0.999", true),
        ("application/json;q=1.001", false),
        ("application/json;q=0.1234", false),
        ("application/json;q=.5", false),
        ("text/html;level=\"1,2\", application/json", true)
    ]

    @Test("JSON only when Accept prefers it to HTML", arguments: listingChoices)
    func listingChoice(accept: String?, prefersJSON: Bool) {
        #expect(AcceptHeader(accept).prefers("application/json", over: "text/html") == prefersJSON, "\(accept ?? "nil")")
    }

    @Test(
        "weights follow the most specific matching range",
        arguments: [
            ("text/*;q=0.3, text/html;q=0.7, text/html;level=1;q=0.4, */*;q=0.5", "text/html", 700),
            ("text/*;q=0.3, text/html;q=0.7, text/html;level=1;q=0.4, */*;q=0.5", "text/plain", 300),
            ("text/*;q=0.3, text/html;q=0.7, text/html;level=1;q=0.4, */*;q=0.5", "image/jpeg", 500),
            ("text/html", "image/png", 0),
            ("text/html;q=0.123", "text/html", 123),
            ("text/html;q=0", "text/html", 0),
            ("text/html;q=1", "text/html", 1000),
            ("text/html, text/html;q=0.1", "text/html", 1000),
            ("TEXT/HTML;Q=0.5", "text/html", 500),
            ("text/html;q=0.5;ext=1", "text/html", 500)
        ] as [(String, String, Int)])
    func weights(accept: String, type: String, weight: Int) {
        #expect(AcceptHeader(accept).weight(of: type) == weight)
    }

    @Test(
        "qvalues",
        arguments: [
            ("0", 0), ("1", 1000), ("0.5", 500), ("0.05", 50), ("0.005", 5), ("0.", 0), ("1.", 1000), ("1.0", 1000), ("1.000", 1000)
        ] as [(String, Int)])
    func validQvalues(text: String, thousandths: Int) {
        #expect(AcceptHeader.qvalue(text) == thousandths)
    }

    @Test("bad qvalues", arguments: ["", "2", "1.5", "1.001", "0.0001", ".5", "-0", "0,5", "x", "0.5x", "01"])
    func badQvalues(text: String) {
        #expect(AcceptHeader.qvalue(text) == nil)
    }

    @Test("no usable element accepts everything")
    func nothingUsable() {
        #expect(AcceptHeader("!!!, ;;;").weight(of: "text/html") == 1000)
        #expect(AcceptHeader(nil).weight(of: "application/json") == 1000)
    }
}
