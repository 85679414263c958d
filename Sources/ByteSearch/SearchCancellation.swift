import MappedFiles
import Synchronization

/// Stops one search from outside: when its time budget runs out, or when the client that asked
/// for it goes away.
///
/// Two levels, raised by ``SearchWatchdog`` (or directly with ``abandon()``):
/// - ``stopBudgeted``: the deadline passed. Budgeted scanning stops where it is, even inside one
///   PCRE2 call, and the search answers with what it found (truncated, `count` null).
/// - ``abandoned``: the client is gone, or the hard deadline (the budget plus
///   ``SearchWatchdog/hardDeadlineGrace``) passed. Every kernel call of the search stops, also
///   the unbudgeted passes that regenerate matches, and the search throws.
///
/// Checking the level between calls bounds literal scans (a call covers one block); the signal
/// that ``InterruptLevel`` sends bounds the one regex call that could otherwise run for minutes.
public final class SearchCancellation: Sendable, Hashable {
    public static let stopBudgeted: Int32 = 1
    public static let abandoned: Int32 = 2

    public let level = InterruptLevel()
    /// Polled by the watchdog: `true` once the client went away (a closed socket).
    let isGone: (@Sendable () -> Bool)?
    private let clientLeft = Atomic<Bool>(false)

    /// `isGone`: asked about every ``SearchWatchdog/period`` while the search runs; must be cheap
    /// and non-blocking (a `poll` with no timeout).
    public init(isGone: (@Sendable () -> Bool)? = nil) {
        self.isGone = isGone
    }

    /// A fresh cancellation for more work on behalf of the same client after this one's budget
    /// ran out (a tree search's one guaranteed block per page): its own levels, the same client.
    public func successor() -> SearchCancellation {
        SearchCancellation(isGone: { [self] in clientLeft.load(ordering: .relaxed) || isGone?() == true })
    }

    /// The client is gone: stop everything now.
    public func abandon() {
        clientLeft.store(true, ordering: .relaxed)
        level.raise(to: Self.abandoned)
    }

    var stopsBudgeted: Bool { level.value >= Self.stopBudgeted }
    var isAbandoned: Bool { level.value >= Self.abandoned }

    /// What an abandoned search throws.
    var abandonError: SearchError { clientLeft.load(ordering: .relaxed) ? .cancelled : .budgetExceeded }

    func pollClient() {
        guard let isGone, !isAbandoned, isGone() else { return }
        abandon()
    }

    public static func == (lhs: SearchCancellation, rhs: SearchCancellation) -> Bool { lhs === rhs }
    public func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(self)) }
}
