import Logging
import MicroHTTP

/// One structured line per finished request at info level: method, target, status, bytes,
/// duration and client. The target is logged as sent, except that control bytes are escaped so a
/// client cannot forge or break log lines; tokens travel in headers, never logged.
struct AccessLog: Sendable {
    let logger: Logger
    /// Read once: asking the log handler on every request was 1% of a small GET's CPU.
    private let infoEnabled: Bool

    init(logger: Logger) {
        self.logger = logger
        infoEnabled = logger.logLevel <= .info
    }

    func record(_ request: Request) {
        if request.status >= 500 {
            logger.error("request failed", metadata: ["method": "\(Self.escaped(request.method))", "target": "\(Self.escaped(request.target))",
                                                      "status": "\(request.status)", "detail": "\(request.failureDetail ?? "-")"])
        }
        guard infoEnabled else { return }
        let elapsed = request.elapsed
        let milliseconds = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        var metadata: Logger.Metadata = [
            "method": "\(Self.escaped(request.method))",
            "target": "\(Self.escaped(request.target))",
            "status": "\(request.status)",
            "bytes": "\(request.bodyLength)",
            "ms": "\((milliseconds * 1000).rounded() / 1000)",
            "client": "\(request.clientAddress)",
        ]
        if let reason = request.abortReason { metadata["aborted"] = "\(reason)" }
        logger.info("request", metadata: metadata)
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
