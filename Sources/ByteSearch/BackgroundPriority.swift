import Glibc

/// Runs search work in Linux's SCHED_IDLE class, so that it gets the processors only when
/// nothing else wants them.
///
/// A search keeps every core busy for up to its whole budget. At equal priority a server's
/// network threads then wait behind it for a time slice: the p99 of small GETs during a 1 GiB
/// search was 8.6 times its idle value; at nice 10 still 5.3 times; in SCHED_IDLE 1.1 times
/// (`make bench`, isolation section). An idle machine still gives a search all of its cores. The
/// price: under a load that saturates the processors, searches progress slowly and end at their
/// time budget with a partial answer.
///
/// Linux keeps the scheduling policy per thread. The previous policy is restored afterwards when
/// the process may (an unprivileged thread cannot leave SCHED_IDLE below its RLIMIT_NICE); where
/// it may not, the thread stays in the idle class: in mmapd such threads (libdispatch's pool)
/// run nothing but background work.
enum BackgroundPriority {
    static func run<T, E: Error>(_ enabled: Bool, _ body: () throws(E) -> T) throws(E) -> T {
        guard enabled, let previous = enterIdleClass() else { return try body() }
        defer { var parameters = previous.parameters; _ = pthread_setschedparam(pthread_self(), previous.policy, &parameters) }
        return try body()
    }

    /// The policy to restore, or nil when the thread already is in the idle class (or cannot be).
    private static func enterIdleClass() -> (policy: Int32, parameters: sched_param)? {
        var parameters = sched_param()
        var policy: Int32 = 0
        guard pthread_getschedparam(pthread_self(), &policy, &parameters) == 0, policy != schedIdle else { return nil }
        var idle = sched_param()
        guard pthread_setschedparam(pthread_self(), schedIdle, &idle) == 0 else { return nil }
        return (policy, parameters)
    }

    /// SCHED_IDLE (Linux 2.6.23), which the Glibc module does not export without _GNU_SOURCE.
    private static let schedIdle: Int32 = 5
}
