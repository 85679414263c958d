import CMicroHTTPD
import HTTPSemantics

/// A libmicrohttpd response built once and queued for many requests. libmicrohttpd counts a
/// response's references and never changes it once queued, so the response object and its header
/// list (about fifteen allocations when built per request) cost nothing on a hit.
///
/// It does not own its body's memory: that would tie the memory's owner (a mapped region) to
/// whatever caches this response, in a cycle. Each request that queues it holds the owner instead,
/// until its completion callback, after which libmicrohttpd no longer reads the body.
public final class PreparedResponse: @unchecked Sendable {
    let pointer: OpaquePointer
    public let status: Int
    package let headers: [(name: String, value: String)]
    package let body: UnsafeRawBufferPointer

    /// nil when libmicrohttpd cannot allocate the response.
    public init?(status: Int, headers: [(name: String, value: String)], body: UnsafeRawBufferPointer) {
        guard
            let made = MHD_create_response_from_buffer(
                body.count, UnsafeMutableRawPointer(mutating: body.baseAddress),
                .RESPMEM_PERSISTENT)
        else { return nil }
        MHDResponse.addHeaders(headers, to: made)
        pointer = made
        self.status = status
        self.headers = headers
        self.body = body
    }

    deinit { MHD_destroy_response(pointer) }

    /// Whether libmicrohttpd sends none of the body: to a HEAD, in a 304, or when there is none.
    func sendsNoBody(for method: RequestMethod) -> Bool {
        body.isEmpty || status == 304 || method == .head
    }

    /// The same answer as a plain description, to build afresh when a request adds headers.
    func described(owner: AnyObject, extraHeaders: [(name: String, value: String)]) -> Response {
        Response(
            status: status, headers: headers + extraHeaders,
            body: body.isEmpty ? .empty : .borrowed(body, owner: owner))
    }
}
