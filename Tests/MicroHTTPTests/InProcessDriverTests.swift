import Dispatch
import MicroHTTP
import MicroHTTPTesting
import Synchronization
import Testing

/// The request state machine driven in process (`InProcessExchange`) answers as the daemon does,
/// for every disposition: so routes tested in process are tested on the server's own driver.
extension MicroHTTPSuites {
    @Suite struct InProcessDriverTests {
        /// One handler with a route per disposition, answered by a daemon over a socket and in
        /// process: same status, same type, same bytes.
        @Test(arguments: [
            ("GET", "/now", [UInt8]()), ("GET", "/deferred", []), ("GET", "/stream", []), ("GET", "/turn", []),
            ("POST", "/count", Array(repeating: 7, count: 100_000)), ("POST", "/early", Array(repeating: 1, count: 500)),
            ("HEAD", "/now", []), ("GET", "/borrowed", []), ("GET", "/pieces", [])
        ])
        func answersAsTheDaemonDoes(method: String, target: String, body: [UInt8]) throws {
            let server = try startServer(respond: Self.route)
            let live = try HTTPConnection(port: server.port).send(method, target, body: body)
            server.shutdown(grace: .seconds(1))
            let local = try #require(
                try InProcessExchange(handler: ClosureHandler(respond: Self.route)).perform(method, target, body: body))
            #expect(local.status == live.status)
            #expect(local.header("Content-Type") == live.header("Content-Type"))
            #expect(local.body == live.body)
            #expect(!local.body.isEmpty || method == "HEAD")
        }

        static let borrowed = Owner(Array("borrowed from an owner".utf8))

        @Sendable static func route(_ request: Request) -> Disposition {
            switch request.target {
            case "/deferred": return .deferred { text("from a worker") }
            case "/stream":
                let body = StreamingBody(capacity: 64)
                onOwnThread {
                    for number in 0..<200 { guard body.write(Array("line \(number)\n".utf8)) else { return } }
                    body.finish()
                }
                return .respond(Response(status: 200, headers: [("Content-Type", "text/plain")], body: .stream(body)))
            case "/turn": return .waitForTurn(LateTurn())
            case "/count": return .receiveBody(PausingCounter())
            case "/early": return .respond(text("answered before the body", status: 413))
            case "/borrowed":
                return .respond(Response(status: 200, body: .borrowed(borrowed.buffer, owner: borrowed)))
            case "/pieces":
                return .respond(
                    Response(
                        status: 206, body: .pieces([.bytes(Array("head-".utf8)), .borrowed(borrowed.buffer)], owner: borrowed)))
            default: return .respond(text("at once"))
            }
        }

        /// A deferred answer's large generated body is moved off the network thread into memory of
        /// its own (`GeneratedBody`) and sent from there: every size, on either side of the
        /// threshold, arrives byte for byte, over a daemon and in process.
        @Test(arguments: [10, 64 * 1024 - 1, 64 * 1024, 1_048_579])
        func deferredBodiesOfEverySizeArriveWhole(size: Int) throws {
            let body = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) }
            let route: @Sendable (Request) -> Disposition = { _ in
                .deferred { Response(status: 200, headers: [("Content-Type", "application/octet-stream")], body: .bytes(body)) }
            }
            let server = try startServer(respond: route)
            let connection = try HTTPConnection(port: server.port)
            for _ in 0..<2 { #expect(try connection.send("GET", "/big").body == body) }
            server.shutdown(grace: .seconds(1))
            #expect(try InProcessExchange(handler: ClosureHandler(respond: route)).perform("GET", "/big")?.body == body)
        }

        /// The driver calls `completed` and `delivered` once each, and lets the body's memory
        /// owner go only after them: a response never outlives its memory, and never keeps it.
        @Test func theOwnerIsHeldUntilTheRequestEndsAndNoLonger() throws {
            let handler = CountingHandler()
            // Only the answer holds the owner from here on.
            handler.owner.withLock { $0 = Owner(Array(repeating: 42, count: 10_000)) }
            let answer = try #require(try InProcessExchange(handler: handler).perform("GET", "/"))
            #expect(answer.body == Array(repeating: 42, count: 10_000))
            let (completed, delivered) = (handler.completed.load(ordering: .relaxed), handler.delivered.load(ordering: .relaxed))
            let aliveAtCompletion = handler.ownerAliveAtCompletion.load(ordering: .relaxed)
            #expect(completed == 1)
            #expect(delivered == 1)
            #expect(aliveAtCompletion)
            #expect(handler.ownerGone)
        }

        /// Framing is judged before the handler, in process too: a request with two different
        /// Content-Length fields is refused with 400 and the handler never sees it.
        @Test func refusedFramingNeverReachesTheHandler() throws {
            let reached = Atomic<Bool>(false)
            let exchange = InProcessExchange(
                handler: ClosureHandler { _ in
                    reached.store(true, ordering: .relaxed)
                    return .respond(text("no"))
                })
            let answer = try #require(
                try exchange.perform("POST", "/", headers: [("Content-Length", "3"), ("Content-Length", "4")], body: [1, 2, 3]))
            let handlerSawIt = reached.load(ordering: .relaxed)
            #expect(answer.status == 400)
            #expect(!handlerSawIt)
        }
    }
}

/// Memory a body borrows, owned by an object (as a mapped region owns its pages).
final class Owner: @unchecked Sendable {
    let bytes: UnsafeMutableRawBufferPointer
    init(_ content: [UInt8]) {
        bytes = .allocate(byteCount: content.count, alignment: 1)
        bytes.copyBytes(from: content)
    }
    var buffer: UnsafeRawBufferPointer { UnsafeRawBufferPointer(bytes) }
    deinit { bytes.deallocate() }
}

/// A turn that is never free at once and is granted from another thread.
private final class LateTurn: Turn {
    func takeIfFree() -> Bool { false }
    func enqueue(grant: @escaping @Sendable () -> Void) { onOwnThread(grant) }
    func granted() -> Disposition { .respond(text("granted in turn")) }
    func abandoned() {}
}

/// Counts a body while pausing after every chunk (a worker resumes it), then answers from a worker.
private final class PausingCounter: BodyReceiver, @unchecked Sendable {
    private var count = 0
    func receive(_ chunk: UnsafeRawBufferPointer) -> BodyStep {
        count += chunk.count
        return .pause { resumption in DispatchQueue.global().async { resumption.proceed() } }
    }
    func finish() -> BodyEnd {
        let count = count
        return .later { resumption in DispatchQueue.global().async { resumption.answer(text("\(count) bytes")) } }
    }
    func abandon() {}
}

/// Answers with a borrowed body of `owner` and counts the upcalls.
private final class CountingHandler: RequestHandler {
    let owner = Mutex<Owner?>(nil)
    let completed = Atomic<Int>(0)
    let delivered = Atomic<Int>(0)
    let ownerAliveAtCompletion = Atomic<Bool>(false)
    private let watched = Mutex<WeakOwner>(WeakOwner())

    func begin(_ request: Request) -> Disposition {
        let owner = owner.withLock { owner in
            defer { owner = nil }
            return owner!
        }
        watched.withLock { $0.owner = owner }
        return .respond(Response(status: 200, body: .borrowed(owner.buffer, owner: owner)))
    }
    func completed(_ request: Request) {
        completed.add(1, ordering: .relaxed)
        ownerAliveAtCompletion.store(watched.withLock { $0.owner != nil }, ordering: .relaxed)
    }
    func delivered(_ request: Request) { delivered.add(1, ordering: .relaxed) }
    var ownerGone: Bool { watched.withLock { $0.owner == nil } }
    func stopping(_ request: Request) -> Response { Response(status: 503) }
    func decorate(_ response: Response, for request: Request) -> Response { response }
}

private struct WeakOwner { weak var owner: Owner? }
