import CMicroHTTPD

/// SIGINT/SIGTERM delivered to the main thread as an ordinary blocking wait (see CMicroHTTPD.h).
public enum StopSignals {
    public static func install() {
        precondition(cmhd_stop_signals_install() == 0, "cannot install SIGINT/SIGTERM handlers")
    }

    /// Blocks until SIGINT or SIGTERM arrives.
    public static func wait() { _ = cmhd_stop_signals_wait() }
}
