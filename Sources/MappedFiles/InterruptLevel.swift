import CPOSIXShim
import Glibc
import Synchronization

/// How an ``InterruptLevel/call(threshold:_:_:)`` ended.
public enum InterruptibleCallOutcome: Sendable, Equatable {
    case completed
    /// The mapping under the call lost its pages (SIGBUS): see ``MemoryFaultGuard``.
    case faulted
    /// The level reached the call's threshold before or while it ran; the body was abandoned.
    case interrupted
}

/// A level that other threads raise to stop CPU-bound calls running on behalf of one job (a
/// search), even in the middle of a call that cannot check a deadline itself.
///
/// The threads working for the job register (``whileRegistered(_:)``); each bounded-but-long call
/// runs through ``call(threshold:_:_:)``. ``raise(to:)`` stores the new level and signals every
/// registered thread; a thread inside a call whose threshold is now reached jumps out of it (see
/// `cposix_interruptible_call` in CPOSIXShim.h for what such a body may do). Levels only grow.
public final class InterruptLevel: @unchecked Sendable {
    // @unchecked: `storage` is only accessed through the C atomics.
    private let storage: UnsafeMutablePointer<Int32>
    /// Registered threads, with how many nested registrations each holds.
    private let threads = Mutex<[pthread_t: Int]>([:])

    private static let installed: Bool = cposix_interrupt_install() == 0

    public init() {
        precondition(Self.installed, "cannot install the interrupt signal handler")
        storage = .allocate(capacity: 1)
        storage.initialize(to: 0)
    }

    deinit { storage.deallocate() }

    public var value: Int32 { cposix_interrupt_level(storage) }

    /// Raises the level to at least `level` and signals every registered thread.
    public func raise(to level: Int32) {
        cposix_interrupt_level_raise(storage, level)
        // Under the lock: a registered thread cannot unregister (and end) while it is signalled.
        threads.withLock { threads in
            for thread in threads.keys { _ = cposix_interrupt_thread(thread) }
        }
    }

    /// Runs `body` with the calling thread registered, so that ``raise(to:)`` reaches its calls.
    public func whileRegistered<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        let thread = pthread_self()
        // Worker threads block signals; this one must take the interrupt while it is registered.
        var previousMask = sigset_t()
        _ = cposix_interrupt_accept(&previousMask)
        threads.withLock { $0[thread, default: 0] += 1 }
        defer {
            threads.withLock { threads in
                if let count = threads[thread], count > 1 { threads[thread] = count - 1 } else { threads[thread] = nil }
            }
            _ = cposix_interrupt_restore(&previousMask)
        }
        return try body()
    }

    /// Runs the C function `body(context)` as one interruptible, fault-guarded call. The caller
    /// keeps `context` alive and allocation-free (a stack value): nothing is released after a jump.
    public func call(
        threshold: Int32, _ body: @convention(c) (UnsafeMutableRawPointer?) -> Void, _ context: UnsafeMutableRawPointer
    ) -> InterruptibleCallOutcome {
        switch cposix_interruptible_call(body, context, storage, threshold) {
        case 0: .completed
        case -1: .faulted
        default: .interrupted
        }
    }
}
