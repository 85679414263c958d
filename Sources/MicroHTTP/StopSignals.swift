import CPOSIXShim

/// SIGINT/SIGTERM delivered to the main thread as an ordinary blocking wait (see CPOSIXShim.h).
public enum StopSignals {
    public static func install() {
        precondition(cposix_stop_signals_install() == 0, "cannot install SIGINT/SIGTERM handlers")
    }

    /// Blocks until SIGINT or SIGTERM arrives.
    public static func wait() { _ = cposix_stop_signals_wait() }
}
