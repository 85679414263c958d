/// How fast a stream's reader must take bytes while the producer waits for it: `minimumRate`
/// bytes a second on average, with `stallTimeout` of that rate as its allowance (so a reader that
/// takes nothing is cut after `stallTimeout`).
public struct ReaderPace: Sendable {
    public let stallTimeout: Duration
    public let minimumRate: Int

    public init(stallTimeout: Duration, minimumRate: Int) {
        self.stallTimeout = stallTimeout
        self.minimumRate = max(1, minimumRate)
    }
}

extension Duration {
    /// The duration in seconds, as a floating-point number.
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) * 1e-18
    }
}
