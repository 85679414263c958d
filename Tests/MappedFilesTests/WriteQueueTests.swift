import MappedFiles
import Synchronization
import Testing

/// The per-file write turn: one holder at a time, first come first served, handed straight on.
@Suite struct WriteQueueTests {
    static func file(_ inode: UInt64, device: UInt64 = 1) -> FileKey { FileKey(device: device, inode: inode) }

    /// The order grants arrive in, recorded from the grant callbacks themselves.
    final class Grants: Sendable {
        private let order = Mutex<[String]>([])
        func callback(_ name: String) -> @Sendable () -> Void { { self.order.withLock { $0.append(name) } } }
        var names: [String] { order.withLock { $0 } }
    }

    @Test func aFreePathIsGrantedAtOnce() {
        let queue = WriteQueue<FileKey>()
        let grants = Grants()
        queue.enqueue(Self.file(1), grant: grants.callback("first"))
        #expect(grants.names == ["first"])
    }

    @Test func waitersAreGrantedInArrivalOrderOneAtATime() {
        let queue = WriteQueue<FileKey>()
        let grants = Grants()
        for name in ["w1", "w2", "w3", "w4"] { queue.enqueue(Self.file(3), grant: grants.callback(name)) }
        #expect(grants.names == ["w1"])
        queue.release(Self.file(3))
        #expect(grants.names == ["w1", "w2"])
        queue.release(Self.file(3))
        queue.release(Self.file(3))
        #expect(grants.names == ["w1", "w2", "w3", "w4"])
        // The last holder's release frees the path: a newcomer is granted at once.
        queue.release(Self.file(3))
        queue.enqueue(Self.file(3), grant: grants.callback("later"))
        #expect(grants.names.last == "later")
    }

    /// The turn goes from the releasing writer to the next without a gap a newcomer could use.
    @Test func aNewcomerDoesNotOvertakeAWaiter() {
        let queue = WriteQueue<FileKey>()
        let grants = Grants()
        queue.enqueue(Self.file(3), grant: grants.callback("holder"))
        queue.enqueue(Self.file(3), grant: grants.callback("waiter"))
        queue.release(Self.file(3))
        queue.enqueue(Self.file(3), grant: grants.callback("newcomer"))
        #expect(grants.names == ["holder", "waiter"])
        queue.release(Self.file(3))
        #expect(grants.names == ["holder", "waiter", "newcomer"])
    }

    /// Taking a free turn without queueing: refused while anyone holds it or waits for it (the
    /// turn is handed to the waiter, never to a taker that came later), free again after the last
    /// release.
    @Test func aTurnIsTakenWithoutQueueingOnlyWhenNobodyHoldsOrAwaitsIt() {
        let queue = WriteQueue<FileKey>()
        let grants = Grants()
        #expect(queue.takeIfFree(Self.file(5)))
        #expect(!queue.takeIfFree(Self.file(5)), "taken twice")
        #expect(queue.takeIfFree(Self.file(6)), "another file's turn is not this one's")
        queue.enqueue(Self.file(5), grant: grants.callback("waiter"))
        #expect(grants.names.isEmpty)
        queue.release(Self.file(5))
        #expect(grants.names == ["waiter"])
        #expect(!queue.takeIfFree(Self.file(5)), "taken while the waiter holds it")
        queue.release(Self.file(5))
        #expect(queue.takeIfFree(Self.file(5)))
        queue.enqueue(Self.file(5), grant: grants.callback("after a take"))
        #expect(grants.names == ["waiter"], "a queued writer was granted while the taker held the turn")
        queue.release(Self.file(5))
        #expect(grants.names == ["waiter", "after a take"])
    }

    @Test func pathsAreIndependent() {
        let queue = WriteQueue<FileKey>()
        let grants = Grants()
        queue.enqueue(Self.file(1), grant: grants.callback("a1"))
        queue.enqueue(Self.file(2), grant: grants.callback("b1"))
        queue.enqueue(Self.file(1), grant: grants.callback("a2"))
        #expect(grants.names == ["a1", "b1"])
        queue.release(Self.file(2))
        #expect(grants.names == ["a1", "b1"])
        queue.release(Self.file(1))
        #expect(grants.names == ["a1", "b1", "a2"])
    }

    /// A file is its device and inode: the same inode number on another device is another file,
    /// and another turn.
    @Test func theSameInodeOnAnotherDeviceIsAnotherTurn() {
        let queue = WriteQueue<FileKey>()
        let grants = Grants()
        queue.enqueue(Self.file(7, device: 1), grant: grants.callback("first device"))
        queue.enqueue(Self.file(7, device: 2), grant: grants.callback("second device"))
        #expect(grants.names == ["first device", "second device"])
    }

    @Test func waitersAreCounted() {
        let queue = WriteQueue<FileKey>()
        let grants = Grants()
        queue.enqueue(Self.file(1), grant: grants.callback("holder"))
        #expect(queue.waitingCount == 0)
        queue.enqueue(Self.file(1), grant: grants.callback("w1"))
        queue.enqueue(Self.file(1), grant: grants.callback("w2"))
        #expect(queue.waitingCount == 2)
        queue.release(Self.file(1))
        #expect(queue.waitingCount == 1)
        queue.release(Self.file(1))
        queue.release(Self.file(1))
        #expect(queue.waitingCount == 0)
    }

    /// What the contending writers saw, shared among them.
    final class Contention: Sendable {
        let holders = Atomic<Int>(0)
        let overlaps = Atomic<Int>(0)
        let granted = Atomic<Int>(0)
    }

    /// Many tasks contending for one file: every grant comes exactly once, and never two
    /// holders at a time.
    @Test func contendedTurnsAreExclusive() async {
        let queue = WriteQueue<FileKey>()
        let seen = Contention()
        let file = Self.file(4)
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<200 {
                group.addTask {
                    await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                        queue.enqueue(file) {
                            if seen.holders.add(1, ordering: .sequentiallyConsistent).newValue != 1 {
                                seen.overlaps.add(1, ordering: .relaxed)
                            }
                            seen.granted.add(1, ordering: .relaxed)
                            seen.holders.subtract(1, ordering: .sequentiallyConsistent)
                            queue.release(file)
                            done.resume()
                        }
                    }
                }
            }
        }
        let (granted, overlaps) = (seen.granted.load(ordering: .relaxed), seen.overlaps.load(ordering: .relaxed))
        #expect(granted == 200)
        #expect(overlaps == 0)
    }
}
