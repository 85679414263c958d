import Dispatch
import Glibc
import Synchronization
import Testing

@testable import MappedFiles

/// Group commit's rules with a flush the test controls: a writer is answered only by a flush
/// that began after it asked; one flush serves everyone waiting when it begins; a failure fails
/// everyone waiting; nobody is answered twice or forgotten.
@Suite struct GroupFlushTests {
    /// A flush that blocks until released, counting how often it ran and who it covered.
    final class ControlledSync: Sendable {
        private let gate = DispatchSemaphore(value: 0)
        private let entered = DispatchSemaphore(value: 0)
        let runs = Atomic<Int>(0)
        let failNext = Atomic<Bool>(false)

        func run() throws(FileAccessError) {
            runs.add(1, ordering: .relaxed)
            entered.signal()
            gate.wait()
            if failNext.exchange(false, ordering: .relaxed) { throw .system(.ioError) }
        }

        /// Waits until a flush has begun (and is held).
        func awaitStart() { entered.wait() }
        func release() { gate.signal() }
    }

    final class Outcomes: Sendable {
        private let values = Mutex<[Int: [Bool]]>([:])
        private let arrived = DispatchSemaphore(value: 0)
        func record(_ writer: Int, _ outcome: GroupFlush.Outcome) {
            values.withLock { $0[writer, default: []].append((try? outcome.get()) != nil) }
            arrived.signal()
        }
        func awaitCount(_ count: Int) { for _ in 0..<count { arrived.wait() } }
        var all: [Int: [Bool]] { values.withLock { $0 } }
    }

    static let queue = DispatchQueue(label: "group-flush-tests", attributes: .concurrent)

    @Test func oneWriterIsAnsweredByTheFlushItStarted() {
        let sync = ControlledSync()
        let outcomes = Outcomes()
        let flusher = GroupFlush { () throws(FileAccessError) in try sync.run() }
        Self.queue.async { flusher.flush { outcomes.record(0, $0) } }
        sync.awaitStart()
        #expect(outcomes.all.isEmpty, "answered before its flush finished")
        sync.release()
        outcomes.awaitCount(1)
        #expect(outcomes.all == [0: [true]])
        #expect(sync.runs.load(ordering: .relaxed) == 1)
    }

    /// The first writer to ask flushes on its own thread: its answer is in before `flush`
    /// returns, with no other queue involved (a writer that finds a flush running returns at once:
    /// the next test's latecomers).
    @Test func aLoneWriterFlushesOnItsOwnThread() {
        let outcomes = Outcomes()
        let runs = Atomic<Int>(0)
        let flusher = GroupFlush { () throws(FileAccessError) in runs.add(1, ordering: .relaxed) }
        for writer in 0..<3 {
            flusher.flush { outcomes.record(writer, $0) }
            #expect(outcomes.all[writer] == [true], "flush returned before the writer's own flush answered it")
        }
        #expect(runs.load(ordering: .relaxed) == 3)
    }

    /// Writers that ask while a flush runs are not covered by it (their bytes may have come after
    /// it began): they wait for the next, which serves all of them at once.
    @Test(arguments: [1, 2, 7, 32])
    func writersArrivingDuringAFlushShareTheNext(_ latecomers: Int) {
        let sync = ControlledSync()
        let outcomes = Outcomes()
        let flusher = GroupFlush { () throws(FileAccessError) in try sync.run() }
        Self.queue.async { flusher.flush { outcomes.record(0, $0) } }
        sync.awaitStart()
        for writer in 1...latecomers { flusher.flush { outcomes.record(writer, $0) } }
        sync.release()
        outcomes.awaitCount(1)
        #expect(outcomes.all == [0: [true]], "a latecomer was answered by a flush that began before it asked")
        sync.awaitStart()
        sync.release()
        outcomes.awaitCount(latecomers)
        #expect(outcomes.all.count == latecomers + 1 && outcomes.all.values.allSatisfy { $0 == [true] })
        #expect(sync.runs.load(ordering: .relaxed) == 2, "the latecomers did not share one flush")
    }

    /// A failed flush fails everyone waiting at the time, also those who asked during it, and the
    /// next flush (after new writes) succeeds again.
    @Test func aFailedFlushFailsEveryWaiterThenTheNextSucceeds() {
        let sync = ControlledSync()
        let outcomes = Outcomes()
        let flusher = GroupFlush { () throws(FileAccessError) in try sync.run() }
        sync.failNext.store(true, ordering: .relaxed)
        Self.queue.async { flusher.flush { outcomes.record(0, $0) } }
        sync.awaitStart()
        flusher.flush { outcomes.record(1, $0) }
        sync.release()
        outcomes.awaitCount(2)
        #expect(outcomes.all == [0: [false], 1: [false]])
        #expect(sync.runs.load(ordering: .relaxed) == 1, "the waiter that arrived during the failed flush was flushed again alone")
        Self.queue.async { flusher.flush { outcomes.record(2, $0) } }
        sync.awaitStart()
        sync.release()
        outcomes.awaitCount(1)
        #expect(outcomes.all[2] == [true])
    }

    /// Many writers from many threads, some while a flush is held, some while later flushes take
    /// real time: each is answered exactly once, and the writers that asked during the held flush
    /// all share the one after it.
    @Test func manyWritersAreEachAnsweredOnce() {
        let writers = 400
        let sync = ControlledSync()
        let outcomes = Outcomes()
        let runs = Atomic<Int>(0)
        let flusher = GroupFlush { () throws(FileAccessError) in
            if runs.add(1, ordering: .relaxed).newValue == 1 { try sync.run() } else { usleep(200) }
        }
        Self.queue.async { flusher.flush { outcomes.record(0, $0) } }
        sync.awaitStart()
        DispatchQueue.concurrentPerform(iterations: writers - 1) { writer in flusher.flush { outcomes.record(writer + 1, $0) } }
        sync.release()
        outcomes.awaitCount(writers)
        #expect(runs.load(ordering: .relaxed) == 2, "the writers that waited did not share one flush")
        // Then writers from many threads while flushes take real time.
        DispatchQueue.concurrentPerform(iterations: writers) { writer in flusher.flush { outcomes.record(writers + writer, $0) } }
        outcomes.awaitCount(writers)
        let all = outcomes.all
        #expect(all.count == 2 * writers && all.values.allSatisfy { $0 == [true] })
    }
}
