import Foundation
import HTTPSemantics
import Testing

@Suite("ProblemDetails")
struct ProblemDetailsTests {
    private func text(_ problem: ProblemDetails) -> String {
        String(decoding: problem.json, as: UTF8.self)
    }

    @Test("the body has title, status and detail in that order")
    func body() {
        #expect(text(.badRequest("Missing q.")) == #"{"title":"Bad Request","status":400,"detail":"Missing q."}"#)
    }

    @Test(
        "constructors set status and the reason phrase as title",
        arguments: [
            (ProblemDetails.badRequest("x"), 400, "Bad Request"),
            (.unauthorized("x"), 401, "Unauthorized"),
            (.forbidden("x"), 403, "Forbidden"),
            (.notFound(), 404, "Not Found"),
            (.methodNotAllowed("x"), 405, "Method Not Allowed"),
            (.preconditionFailed("x"), 412, "Precondition Failed"),
            (.contentTooLarge("x"), 413, "Content Too Large"),
            (.unsupportedMediaType("x"), 415, "Unsupported Media Type"),
            (.rangeNotSatisfiable("x"), 416, "Range Not Satisfiable"),
            (.internalServerError("x"), 500, "Internal Server Error"),
            (.serviceUnavailable("x"), 503, "Service Unavailable"),
            (.insufficientStorage("x"), 507, "Insufficient Storage"),
            (ProblemDetails(status: 422, detail: "x"), 422, "Unprocessable Content"),
            (ProblemDetails(status: 299, detail: "x"), 299, "Error")
        ])
    func constructors(problem: ProblemDetails, status: Int, title: String) throws {
        #expect(problem.status == status)
        #expect(problem.title == title)
        let object = try #require(JSONSerialization.jsonObject(with: Data(problem.json)) as? [String: Any])
        #expect(object["status"] as? Int == status)
        #expect(object["title"] as? String == title)
        #expect(object["detail"] as? String == problem.detail)
        #expect(object.count == 3)
    }

    @Test("every 404 has the same body, whatever caused it")
    func notFoundIsFixed() {
        #expect(ProblemDetails.notFound() == .notFound())
        #expect(ProblemDetails.notFound().json == ProblemDetails.notFound().json)
    }

    @Test("a custom title replaces the reason phrase")
    func customTitle() {
        let problem = ProblemDetails(status: 400, title: "Invalid pattern", detail: "x")
        #expect(text(problem) == #"{"title":"Invalid pattern","status":400,"detail":"x"}"#)
    }

    @Test("extension members follow, in order, with their JSON types")
    func extensions() {
        let problem = ProblemDetails.badRequest(
            "bad regex",
            extensions: [
                .init("offset", .integer(7)), .init("pattern", .string("a(b")), .init("regex", .bool(true)),
                .init("negative", .integer(-1)), .init("off", .bool(false))
            ])
        #expect(
            text(problem)
                == #"{"title":"Bad Request","status":400,"detail":"bad regex","offset":7,"pattern":"a(b","regex":true,"negative":-1,"off":false}"#
        )
    }

    @Test("strings are JSON-escaped; non-ASCII passes as UTF-8")
    func escaping() throws {
        let detail = "quote \" backslash \\ newline \n tab \t nul \u{0} bell \u{7} é 😀 \u{2028}"
        let problem = ProblemDetails.badRequest(detail, extensions: [.init("na\"me", .string("v\\"))])
        let json = text(problem)
        #expect(json.contains(#"quote \" backslash \\ newline \n tab \t nul \u0000 bell \u0007 é 😀 \u2028"#))
        #expect(json.contains(#""na\"me":"v\\""#))
        let object = try #require(JSONSerialization.jsonObject(with: Data(problem.json)) as? [String: Any])
        #expect(object["detail"] as? String == detail)
        #expect(object["na\"me"] as? String == "v\\")
    }

    @Test("extreme integers render exactly")
    func extremeIntegers() {
        let problem = ProblemDetails(
            status: 400, detail: "",
            extensions: [
                .init("min", .integer(.min)), .init("max", .integer(.max))
            ])
        #expect(text(problem).hasSuffix(#""min":-9223372036854775808,"max":9223372036854775807}"#))
    }

    @Test("the media type is application/problem+json")
    func mediaType() {
        #expect(ProblemDetails.mediaType == "application/problem+json")
    }

    @Test("it is an Error usable in typed throws")
    func typedThrows() {
        func fail() throws(ProblemDetails) { throw .forbidden("read-only") }
        #expect(throws: ProblemDetails.forbidden("read-only")) { try fail() }
    }
}
