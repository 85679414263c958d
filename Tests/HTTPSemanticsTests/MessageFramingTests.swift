import HTTPSemantics
import Testing

@Suite("MessageFraming")
struct MessageFramingTests {
    @Test(
        "a body framed one way is accepted",
        arguments: [
            ([], [], MessageFraming.none),
            (["0"], [], .length(0)),
            (["10"], [], .length(10)),
            (["18446744073709551615"], [], .length(UInt64.max)),
            (["5", "5"], [], .length(5)),
            (["5, 5"], [], .length(5)),
            (["5,,5 ,"], [], .length(5)),
            ([" 7\t"], [], .length(7)),
            ([], ["chunked"], .chunked),
            ([], ["Chunked"], .chunked),
            ([], ["CHUNKED"], .chunked),
            ([], [" chunked "], .chunked),
            ([], ["chunked,"], .chunked),
            ([], [", chunked"], .chunked),
            ([], ["", "chunked"], .chunked)
        ] as [([String], [String], MessageFraming)])
    func accepted(lengths: [String], codings: [String], expected: MessageFraming) throws {
        #expect(try MessageFraming(contentLengths: lengths, transferEncodings: codings) == expected)
    }

    @Test(
        "Content-Length beside any Transfer-Encoding is a 400",
        arguments: [
            "chunked", "identity", "gzip, chunked", "", "Chunked", "x"
        ])
    func both(coding: String) {
        let refusal = problem { () throws(ProblemDetails) in try MessageFraming(contentLengths: ["10"], transferEncodings: [coding]) }
        #expect(refusal?.status == 400)
        #expect(refusal?.detail.contains("both Content-Length and Transfer-Encoding") == true)
    }

    @Test(
        "a transfer coding that does not end in chunked is a 400",
        arguments: [
            ["identity"], ["gzip"], ["chunked, gzip"], ["chunked", "gzip"], [""], [","], [" , "], ["chunked;q=1"], ["chunkedx"],
            ["chunked, chunked"], ["chunked", "chunked"]
        ])
    func undeterminable(codings: [String]) {
        #expect(problem { () throws(ProblemDetails) in try MessageFraming(contentLengths: [], transferEncodings: codings) }?.status == 400)
    }

    @Test(
        "another coding before chunked is a 501",
        arguments: [
            ["gzip, chunked"], ["gzip", "chunked"], ["identity, chunked"], ["deflate,chunked"]
        ])
    func unimplemented(codings: [String]) {
        #expect(problem { () throws(ProblemDetails) in try MessageFraming(contentLengths: [], transferEncodings: codings) }?.status == 501)
    }

    @Test(
        "a Content-Length that is not one decimal number is a 400",
        arguments: [
            [""], [" "], [","], ["-1"], ["+1"], ["1 0"], ["0x10"], ["1e3"], ["5", "6"], ["5, 6"], ["5", "05x"],
            ["18446744073709551616"], ["５"]
        ])
    func badLength(lengths: [String]) {
        #expect(problem { () throws(ProblemDetails) in try MessageFraming(contentLengths: lengths, transferEncodings: []) }?.status == 400)
    }

    @Test("a transfer-coded body never has a declared length")
    func declaredLength() throws {
        #expect(try MessageFraming(contentLengths: [], transferEncodings: ["chunked"]).declaredLength == nil)
        #expect(try MessageFraming(contentLengths: [], transferEncodings: ["chunked"]).hasBody)
        #expect(try MessageFraming(contentLengths: ["3"], transferEncodings: []).declaredLength == 3)
        #expect(try !MessageFraming(contentLengths: ["0"], transferEncodings: []).hasBody)
        #expect(try !MessageFraming(contentLengths: [], transferEncodings: []).hasBody)
    }
}
