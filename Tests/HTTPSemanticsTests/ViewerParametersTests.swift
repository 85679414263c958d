import HTTPSemantics
import Testing

@Suite struct ViewerParametersTests {
    private func parse(_ query: String?) throws(ProblemDetails) -> ViewerParameters {
        try ViewerParameters(QueryParameters(parsing: query))
    }

    @Test(
        "where the page opens",
        arguments: [
            (nil, nil, nil, nil, nil), ("", nil, nil, nil, nil), ("line=1", 1, nil, nil, nil),
            ("line=10000000", 10_000_000, nil, nil, nil), ("offset=0", nil, 0, nil, nil),
            ("offset=42&length=0", nil, 42, 0, nil), ("line=3&offset=17&length=5", 3, 17, 5, nil),
            ("mode=hex", nil, nil, nil, .hex), ("mode=text&line=2", 2, nil, nil, .text),
            ("line=1&line=9", 9, nil, nil, nil), ("q=x&other=1", nil, nil, nil, nil)
        ] as [(String?, Int64?, Int64?, Int64?, ViewerParameters.Mode?)])
    func accepted(query: String?, line: Int64?, offset: Int64?, length: Int64?, mode: ViewerParameters.Mode?) throws {
        let parameters = try parse(query)
        #expect(parameters.line == line)
        #expect(parameters.offset == offset)
        #expect(parameters.length == length)
        #expect(parameters.mode == mode)
    }

    @Test(
        "bad values are 400 with a reason",
        arguments: [
            "line=0", "line=-1", "line=", "line=1.5", "line=+2", "line=ten", "offset=-5", "offset=0x10", "length=4",
            "offset=1&length=-2", "mode=", "mode=HEX", "mode=binary", "line=%zz", "offset=99999999999999999999"
        ])
    func refused(query: String) {
        #expect(throws: ProblemDetails.self) { try parse(query) }
        do {
            _ = try parse(query)
        } catch {
            #expect(error.status == 400)
            #expect(!error.detail.isEmpty)
        }
    }
}
