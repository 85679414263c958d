import CMicroHTTPD
import Synchronization

/// One suspended connection, ended exactly once: resumed by its owner (a finished search, a
/// granted write turn, a stream with new bytes) or cancelled by shutdown. libmicrohttpd aborts
/// the process if it is stopped with a connection still suspended, and resuming a connection
/// after the daemon is gone would touch freed memory; this single transition rules out both.
package final class Suspension: @unchecked Sendable {
    private enum State { case suspended, resumed, cancelled }

    /// How the connection is woken: libmicrohttpd's resume, or an in-process link's signal.
    fileprivate enum Wake {
        case daemon(OpaquePointer)
        case signal(@Sendable () -> Void)
    }

    private let state = Mutex(State.suspended)
    private let wake: Wake
    private unowned let registry: SuspendedConnections

    fileprivate init(wake: Wake, registry: SuspendedConnections) {
        self.wake = wake
        self.registry = registry
    }

    private func wakeConnection() {
        switch wake {
        case .daemon(let connection): MHD_resume_connection(connection)
        case .signal(let signal): signal()
        }
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
        wakeConnection()
        return true
    }

    /// Shutdown: resume the connection so the daemon can close it.
    fileprivate func cancel() {
        let won = state.withLock { state -> Bool in
            guard state == .suspended else { return false }
            state = .cancelled
            return true
        }
        if won { wakeConnection() }
    }
}

/// Every connection currently suspended, so shutdown can end them all.
package final class SuspendedConnections: Sendable {
    private let suspended = Mutex<[ObjectIdentifier: Suspension]>([:])

    /// Suspends `connection`; call only from a libmicrohttpd callback for it.
    func suspend(_ connection: OpaquePointer) -> Suspension {
        let suspension = register(.daemon(connection))
        MHD_suspend_connection(connection)
        return suspension
    }

    /// Parks a connection that no daemon serves (an in-process link): `wake` is called, once,
    /// when it is resumed or cancelled.
    package func park(waking wake: @escaping @Sendable () -> Void) -> Suspension {
        register(.signal(wake))
    }

    private func register(_ wake: Suspension.Wake) -> Suspension {
        let suspension = Suspension(wake: wake, registry: self)
        suspended.withLock { $0[ObjectIdentifier(suspension)] = suspension }
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
