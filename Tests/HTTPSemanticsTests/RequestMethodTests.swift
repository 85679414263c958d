import HTTPSemantics
import Testing

@Suite("RequestMethod")
struct RequestMethodTests {
    @Test(
        "names compare exactly: methods are case-sensitive (RFC 9110 §9.1)",
        arguments: [
            ("GET", RequestMethod.get, true), ("get", .get, false), ("Get", .get, false),
            ("HEAD", .head, true), ("head", .head, false), ("PUT", .put, true), ("PATCH", .patch, true),
            ("patch", .patch, false), ("DELETE", .delete, true), ("OPTIONS", .options, true),
            ("GET ", .get, false), ("", .get, false)
        ])
    func namesCompareExactly(name: String, known: RequestMethod, equal: Bool) {
        #expect((RequestMethod(name) == known) == equal)
    }

    @Test(
        "safe methods are the reads; writes are PUT, PATCH, DELETE; others are neither",
        arguments: [
            ("GET", true, false), ("HEAD", true, false), ("OPTIONS", true, false),
            ("PUT", false, true), ("PATCH", false, true), ("DELETE", false, true),
            ("POST", false, false), ("TRACE", false, false), ("get", false, false), ("BREW", false, false)
        ])
    func safetyAndWrites(name: String, safe: Bool, writes: Bool) {
        let method = RequestMethod(name)
        #expect(method.isSafe == safe)
        #expect(method.writes == writes)
    }

    @Test func theAnsweredMethodsAreDistinctAndListedForAllow() {
        #expect(Set(RequestMethod.answered).count == RequestMethod.answered.count)
        #expect(RequestMethod.answered.allowField == "GET, HEAD, PUT, PATCH, DELETE, OPTIONS")
        #expect([RequestMethod]().allowField == "")
        #expect([RequestMethod.get].allowField == "GET")
    }

    @Test func anUnknownMethodKeepsItsNameForMessages() {
        #expect(RequestMethod("BREW").description == "BREW")
        #expect("\(RequestMethod.patch)" == "PATCH")
    }
}
