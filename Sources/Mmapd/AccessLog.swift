import Logging
import MicroHTTP

/// One structured line per request at info level: method, target, status, the bytes the client
/// took and the length the answer announced, whether the client left early, duration, client,
/// and the `Range` and `User-Agent` headers (cut to `headerBytes`). Client text is logged as
/// sent, except that control bytes are escaped so a client cannot forge or break log lines;
/// tokens travel in headers that are never logged.
///
/// The line is written when the request is *delivered* (`RequestHandler.delivered`): once it is
/// known what the client acknowledged, which for a completed answer can be the connection's next
/// request or its close (see `AnswerDelivery` in MicroHTTP). Its headers are noted at completion,
/// while they can still be read. Server errors go to the error log at completion.
struct AccessLog: Sendable {
    let logger: Logger
    /// Bytes of a logged header kept; a longer value ends with `…(N bytes)`.
    let headerBytes: Int
    /// Read once: asking the log handler on every request showed in a small GET's profile.
    private let infoEnabled: Bool

    init(logger: Logger, headerBytes: Int) {
        self.logger = logger
        self.headerBytes = headerBytes
        infoEnabled = logger.logLevel <= .info
    }

    /// At completion: the error log for a server error, and the headers the line will show.
    func completed(_ request: Request) {
        if request.status >= 500 {
            logger.error(
                "request failed",
                metadata: [
                    "method": "\(Self.escaped(request.method.name))", "target": "\(Self.escaped(request.target))",
                    "status": "\(request.status)", "detail": "\(request.failureDetail ?? "-")"
                ])
        }
        guard infoEnabled else { return }
        // The duration is the answer's, from the request line to libmicrohttpd's completion.
        let elapsed = request.elapsed
        let milliseconds = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        request.notes.append(("ms", "\((milliseconds * 1000).rounded() / 1000)"))
        request.notes.append(("client", request.clientAddress))
        if let range = request.header("Range") { request.notes.append(("range", truncated(range))) }
        if let agent = request.header("User-Agent") { request.notes.append(("agent", truncated(agent))) }
    }

    /// Once the client's share is known: the line.
    func delivered(_ request: Request) {
        guard infoEnabled else { return }
        var metadata: Logger.Metadata = [
            "method": "\(Self.escaped(request.method.name))",
            "target": "\(Self.escaped(request.target))",
            "status": "\(request.status)",
            "length": "\(request.bodyLength)",
            "bytes": "\(request.bytesSent.map(String.init) ?? "-")"
        ]
        for (name, value) in request.notes { metadata[name] = "\(value)" }
        if let reason = request.abortReason { metadata["aborted"] = "\(reason)" }
        logger.info("request", metadata: metadata)
    }

    /// `value` escaped, cut to at most `headerBytes` bytes of it (never inside a UTF-8 sequence).
    func truncated(_ value: String) -> String {
        let bytes = Array(value.utf8)
        guard bytes.count > headerBytes else { return Self.escaped(value) }
        var end = headerBytes
        while end > 0, bytes[end] & 0xC0 == 0x80 { end -= 1 }
        return Self.escaped(String(decoding: bytes[..<end], as: UTF8.self)) + "…(\(bytes.count) bytes)"
    }

    /// Client text with control characters (C0, DEL, C1) as `\u{…}` escapes, and backslashes
    /// doubled so an escape cannot be faked.
    static func escaped(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control || $0 == "\\" }) else { return text }
        var result = ""
        for scalar in text.unicodeScalars {
            if scalar.properties.generalCategory == .control {
                result += "\\u{" + String(scalar.value, radix: 16) + "}"
            } else if scalar == "\\" {
                result += "\\\\"
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}
