import CMicroHTTPD
import Synchronization

/// One suspended connection, ended exactly once: resumed by its owner (a finished search, a
/// granted write turn, a stream with new bytes) or cancelled by shutdown. libmicrohttpd aborts
/// the process if it is stopped with a connection still suspended, and resuming a connection
/// after the daemon is gone would touch freed memory; this single transition rules out both.
final class Suspension: @unchecked Sendable {
    private enum State { case suspended, resumed, cancelled }

    private let state = Mutex(State.suspended)
    let connection: OpaquePointer
    private unowned let registry: SuspendedConnections

    fileprivate init(connection: OpaquePointer, registry: SuspendedConnections) {
        self.connection = connection
        self.registry = registry
    }

    /// Runs `prepare` (e.g. storing the answer) and resumes the connection, unless shutdown
    /// cancelled it first. Returns false if cancelled: the connection must not be touched.
    @discardableResult
    func resume(_ prepare: () -> Void = {}) -> Bool {
        let won = state.withLock { state -> Bool in
            guard state == .suspended else { return false }
            prepare()
            state = .resumed
            return true
        }
        guard won else { return false }
        registry.remove(self)
        MHD_resume_connection(connection)
        return true
    }

    /// Shutdown: resume the connection so the daemon can close it.
    fileprivate func cancel() {
        let won = state.withLock { state -> Bool in
            guard state == .suspended else { return false }
            state = .cancelled
            return true
        }
        if won { MHD_resume_connection(connection) }
    }
}

/// Every connection currently suspended, so shutdown can end them all.
final class SuspendedConnections: Sendable {
    private let suspended = Mutex<[ObjectIdentifier: Suspension]>([:])

    /// Suspends `connection`; call only from a libmicrohttpd callback for it.
    func suspend(_ connection: OpaquePointer) -> Suspension {
        let suspension = Suspension(connection: connection, registry: self)
        suspended.withLock { $0[ObjectIdentifier(suspension)] = suspension }
        MHD_suspend_connection(connection)
        return suspension
    }

    fileprivate func remove(_ suspension: Suspension) {
        _ = suspended.withLock { $0.removeValue(forKey: ObjectIdentifier(suspension)) }
    }

    /// Resumes every suspended connection as cancelled; owners that finish later find out.
    func cancelAll() {
        let all = suspended.withLock { all -> [Suspension] in
            defer { all.removeAll() }
            return Array(all.values)
        }
        all.forEach { $0.cancel() }
    }
}
