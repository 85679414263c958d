import Synchronization

/// libmicrohttpd's messages: kept while the daemon starts, to explain a failure in one line
/// (bind errors), then forwarded to the log as they come.
final class StartupLog: Sendable {
    private let log: @Sendable (String) -> Void
    /// nil once the start is over.
    private let kept = Mutex<[String]?>([])

    init(log: @escaping @Sendable (String) -> Void) { self.log = log }

    func record(_ message: String) {
        let forward = kept.withLock { messages -> Bool in
            guard messages != nil else { return true }
            messages!.append(message)
            return false
        }
        if forward { log(message) }
    }

    /// Ends the start-up phase and returns what libmicrohttpd said during it.
    func finishStartup() -> [String] {
        kept.withLock { messages in
            defer { messages = nil }
            return messages ?? []
        }
    }
}
