import Glibc

/// Runs search work at nice 19, so that it gets the processors only when other work leaves them.
///
/// A search keeps every core busy for up to its whole budget. At equal priority a server's
/// network threads then wait behind it for a time slice: the p99 of small GETs during a 1 GiB
/// search was 8.6 times its idle value. Measured alternatives (`make bench`, isolation section):
/// nice 10, 5.3 times; nice 19, 1.7–2.7 times (0.6–1.1 for a regex search); SCHED_IDLE, 1.0–1.6
/// times. SCHED_IDLE was rejected: it yields even to nice-19 work, so any busy neighbour (a
/// compiler at nice 10 was enough) starves searches into their time budget. At nice 19 a search
/// still gets a share against anything (1.4% of a core against a nice-0 hog, 12% against nice
/// 10) and all of an idle machine.
///
/// Linux keeps the nice value per thread, and `setpriority(PRIO_PROCESS, 0, …)` changes only the
/// calling thread's. The previous value is restored afterwards when the process may (raising it
/// back needs CAP_SYS_NICE or a fitting RLIMIT_NICE); where it may not, the thread stays at 19:
/// in mmapd such threads (libdispatch's pool) run nothing but background work.
///
/// A call nested in another on the same thread (each file of a tree search, inside its worker's
/// call) runs its body at once: a thread-specific mark says the thread is already there, which
/// spares a getpriority per file.
public enum BackgroundPriority {
    public static func run<T, E: Error>(_ enabled: Bool, _ body: () throws(E) -> T) throws(E) -> T {
        guard enabled, pthread_getspecific(inside) == nil else { return try body() }
        pthread_setspecific(inside, UnsafeRawPointer(bitPattern: 1))
        defer { pthread_setspecific(inside, nil) }
        guard let previous = lower() else { return try body() }
        defer { _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, previous) }
        return try body()
    }

    /// Set on a thread while it runs inside ``run(_:_:)``.
    private static let inside: pthread_key_t = {
        var key = pthread_key_t()
        precondition(pthread_key_create(&key, nil) == 0, "no thread-specific key left")
        return key
    }()

    /// The nice value to restore, or nil when the thread already is at least this nice.
    private static func lower() -> Int32? {
        errno = 0
        let current = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
        guard errno == 0, current < backgroundNice,
            setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, backgroundNice) == 0
        else { return nil }
        return current
    }

    private static let backgroundNice: Int32 = 19
}
