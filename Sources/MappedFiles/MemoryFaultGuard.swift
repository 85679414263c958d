import CPOSIXShim

/// Thrown when a guarded read or write of a mapping hit a page that no longer exists because the
/// file was truncated underneath us (the kernel raised SIGBUS).
public struct MemoryFault: Error, Sendable, Equatable {}

/// Turns SIGBUS on a mapping into a thrown ``MemoryFault`` instead of a dead process.
///
/// The guard jumps out of `body` with `siglongjmp` (see CPOSIXShim.h), so `body` must touch only
/// mapped memory and plain local state: no locks, no shared mutable objects half-updated. Values
/// allocated inside may leak when a fault happens; faults are rare (a file truncated mid-read) and a
/// small leak beats a crash. Kernel copies (send from a mapping) fail with EFAULT and need no guard.
public enum MemoryFaultGuard {
    private static let installed: Bool = cposix_fault_guard_install() == 0

    /// Installs the SIGBUS handler; called once at start so the first guarded call pays nothing.
    public static func install() { precondition(installed, "cannot install the SIGBUS handler") }

    /// `body` is escaping on purpose: a jump out of it skips the release of its context, which
    /// `withoutActuallyEscaping` would (rightly) report as an escape and trap on. Here it is a
    /// one-object leak per fault.
    public static func run<T>(_ body: @escaping () -> T) throws(MemoryFault) -> T {
        precondition(installed, "cannot install the SIGBUS handler")
        var result: T? = nil
        var thunk: () -> Void = { result = body() }
        let status = withUnsafeMutablePointer(to: &thunk) { pointer in
            cposix_fault_guard_call({ raw in raw!.assumingMemoryBound(to: (() -> Void).self).pointee() }, pointer)
        }
        guard status == 0, let result else { throw MemoryFault() }
        return result
    }
}
