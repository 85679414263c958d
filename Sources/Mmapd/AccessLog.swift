import Logging
import MicroHTTP

/// One structured line per finished request at info level: method, target, status, bytes,
/// duration and client. The target is logged as sent; tokens travel in headers, never logged.
struct AccessLog: Sendable {
    let logger: Logger

    func record(_ request: Request) {
        if request.status >= 500 {
            logger.error("request failed", metadata: ["method": "\(request.method)", "target": "\(request.target)",
                                                      "status": "\(request.status)", "detail": "\(request.failureDetail ?? "-")"])
        }
        guard logger.logLevel <= .info else { return }
        let elapsed = ContinuousClock.now - request.startedAt
        let milliseconds = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        var metadata: Logger.Metadata = [
            "method": "\(request.method)",
            "target": "\(request.target)",
            "status": "\(request.status)",
            "bytes": "\(request.bodyLength)",
            "ms": "\((milliseconds * 1000).rounded() / 1000)",
            "client": "\(request.clientAddress)",
        ]
        if let reason = request.abortReason { metadata["aborted"] = "\(reason)" }
        logger.info("request", metadata: metadata)
    }
}
