import CMicroHTTPD
import Glibc
import HTTPSemantics

/// One request's state, from the raw request-target (libmicrohttpd's URI log callback) to the
/// request-completed callback that frees it, also when the client aborts.
///
/// libmicrohttpd calls back for a connection on one thread at a time, and a deferred request is
/// touched by its worker only while the connection is suspended; that hand-off is what makes the
/// unchecked Sendable sound.
public final class Request: @unchecked Sendable {
    /// The request-target exactly as sent, before any decoding: confinement and query parsing
    /// work on it, so `%00` or `%2F` can never be lost or reinterpreted on the way.
    public let target: String
    /// The target's length in bytes on the request line. Not `target.utf8.count`: decoding the
    /// C string repairs invalid UTF-8, and each bad byte becomes three.
    let targetByteCount: Int
    public internal(set) var method = RequestMethod("")
    /// When the request line arrived (CLOCK_MONOTONIC nanoseconds), for the access log's and the
    /// metrics' duration. A raw clock read: `ContinuousClock.now` and `Instant` arithmetic cost
    /// several runtime calls each, twice per request.
    private let startNanoseconds: UInt64
    /// Status and body length of the answer, once one was queued (0 if none was).
    public internal(set) var status: Int = 0
    public internal(set) var bodyLength: Int = 0
    /// Body bytes received from the client.
    public internal(set) var bytesReceived: UInt64 = 0
    /// Set when the request ended without the client taking its whole answer: libmicrohttpd's
    /// reason when it ended the request early, else what `AnswerDelivery` saw ("client reset",
    /// "client closed", "client stopped reading").
    public internal(set) var abortReason: String?
    /// Bytes of the answer (status line, header and body; TLS records over HTTPS) the client
    /// acknowledged; set by the time `RequestHandler.delivered` is called, nil when the socket
    /// could not say (not TCP).
    public internal(set) var bytesSent: UInt64?
    /// The connection's bytes written before this answer started (`AnswerDelivery`).
    var writtenBefore: UInt64?
    /// What the application noted about the request in `RequestHandler.completed`, for its
    /// report in `delivered`, when the request's headers can no longer be read.
    public var notes: [(name: String, value: String)] = []
    /// Why the application answered with a server error, for the error log (never sent): the
    /// queued answer's `failure`.
    public internal(set) var failureDetail: String?
    /// The route the application matched, for metrics labels ("unknown" until it says).
    public var route = "unknown"

    /// Bytes at the end of this call's body chunk not taken yet: libmicrohttpd keeps them and
    /// passes them again on the next call (after a suspension ends).
    var unread = 0
    var connection: OpaquePointer?
    /// The connection's deadlines (nil only if libmicrohttpd gave no socket context).
    var watch: ConnectionDeadlines.Watch?
    /// The memory owner of a prepared or borrowed answer body, held (and counted as a lease)
    /// until completion.
    var holding: AnyObject?
    var phase: Phase = .new

    enum Phase {
        case new
        /// Answer on the next call: queuing on the first call costs the keep-alive (libmicrohttpd 0.9.75).
        case answerPending(Response)
        /// The answer came before a small body: read and discard it, then answer.
        case draining(Response)
        case receiving(any BodyReceiver)
        case deferredPending(@Sendable () -> Response)
        case suspended
        /// Waiting for a turn; `granted` once it came and the connection was resumed.
        case waiting(any Turn, granted: Bool)
        case answered
    }

    /// The header fields of a request that came through no daemon (`RequestLink` in process);
    /// nil for libmicrohttpd's requests, whose fields stay in the connection's memory.
    private var fields: [(name: String, value: String)]?

    init(target: UnsafePointer<CChar>?) {
        // One pass over the bytes: measured, then decoded (with the same repair as `cString:`).
        let bytes = UnsafeRawBufferPointer(start: target, count: target.map { strlen($0) } ?? 0)
        self.target = String(decoding: bytes, as: UTF8.self)
        targetByteCount = bytes.count
        startNanoseconds = monotonicNanoseconds(CLOCK_MONOTONIC)
    }

    /// A request that comes through no daemon, driven in process by a `RequestDriver`: its
    /// method, raw request-target and header fields, in order.
    package init(method: String, target: String, headers: [(name: String, value: String)]) {
        self.target = target
        targetByteCount = target.utf8.count
        startNanoseconds = monotonicNanoseconds(CLOCK_MONOTONIC)
        self.method = RequestMethod(method)
        fields = headers
    }

    /// Completion: the header fields can no longer be read (libmicrohttpd frees them).
    func headersGone() {
        connection = nil
        fields = nil
    }

    /// Time since the request line arrived.
    public var elapsed: Duration {
        .nanoseconds(Int64(bitPattern: monotonicNanoseconds(CLOCK_MONOTONIC) &- startNanoseconds))
    }

    /// A request header's value (names are case-insensitive), nil when absent.
    ///
    /// A `StaticString` name goes to libmicrohttpd as it is, with its known length: a request
    /// looks up about ten headers, and bridging each `String` name to C cost more than the lookup.
    public func header(_ name: StaticString) -> String? {
        guard let connection else { return fields.flatMap { Self.values(named: "\(name)", in: $0).first } }
        var value: UnsafePointer<CChar>? = nil
        var length = 0
        let found = name.withUTF8Buffer { key in
            key.withMemoryRebound(to: CChar.self) {
                MHD_lookup_connection_value_n(connection, .HEADER_KIND, $0.baseAddress, $0.count, &value, &length)
            }
        }
        guard found == .YES, let value else { return nil }
        return String(decoding: UnsafeRawBufferPointer(start: value, count: length), as: UTF8.self)
    }

    /// How many times a request header appears: a field that must appear once (Content-Range on
    /// a PATCH) is ambiguous when repeated, and `header(_:)` only shows the first.
    public func headerCount(_ name: String) -> Int { headerValues(name).count }

    /// Every value of a request header, one per field line, in order (`header(_:)` shows only the
    /// first, which is all libmicrohttpd itself looks at).
    public func headerValues(_ name: String) -> [String] {
        guard let connection else { return fields.map { Self.values(named: name, in: $0) } ?? [] }
        var collector = HeaderCollector(name: Array(name.lowercased().utf8))
        withUnsafeMutablePointer(to: &collector) { pointer in
            _ = MHD_get_connection_values_n(
                connection, .HEADER_KIND,
                { context, _, key, keyLength, value, valueLength in
                    let collector = context!.assumingMemoryBound(to: HeaderCollector.self)
                    let bytes = UnsafeRawBufferPointer(start: key, count: keyLength)
                    if bytes.count == collector.pointee.name.count,
                        zip(bytes, collector.pointee.name).allSatisfy({ $0 == $1 || ($0 | 0x20) == $1 })
                    {
                        collector.pointee.values.append(
                            String(decoding: UnsafeRawBufferPointer(start: value, count: valueLength), as: UTF8.self))
                    }
                    return .YES
                }, pointer)
        }
        return collector.values
    }

    private static func values(named name: String, in fields: [(name: String, value: String)]) -> [String] {
        let name = name.lowercased()
        return fields.filter { $0.name.lowercased() == name }.map(\.value)
    }

    /// How the body is delimited, judged from every Content-Length and Transfer-Encoding line
    /// when the head is complete (see `MessageFraming`); a request whose framing was refused is
    /// answered before any handler sees it.
    public internal(set) var framing: MessageFraming = .none

    /// The body length the client declared up front: nil for a transfer-coded body, which never
    /// has one, whatever Content-Length it also carried.
    public var declaredBodyLength: UInt64? { framing.declaredLength }

    /// The peer's address as text, for the access log.
    public var clientAddress: String {
        guard let connection else { return "-" }
        var text = [CChar](repeating: 0, count: 64)
        guard cmhd_client_address(connection, &text, text.count) == 0 else { return "-" }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

private struct HeaderCollector {
    let name: [UInt8]
    var values: [String] = []
}

/// `clock` (a monotonic one) in nanoseconds: one vDSO call, none of `ContinuousClock`'s runtime calls.
func monotonicNanoseconds(_ clock: clockid_t) -> UInt64 {
    var time = timespec()
    clock_gettime(clock, &time)
    return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
}
