import Dispatch
import Glibc
import MicroHTTP
import TestSupport

/// Drives a `RequestHandler` through the server's own request state machine (`RequestDriver`)
/// without a daemon or a socket, as Hummingbird's router test framework drives a router: routes
/// can be tested in process, step by step, with every disposition (deferred work, turns, paused
/// bodies, streams) going the way it goes in the server.
///
/// What libmicrohttpd itself adds is not here: Content-Length, Date, chunked coding, the checks
/// of the request line. Tests of those talk to a real daemon.
public final class InProcessExchange: Sendable {
    private let driver: RequestDriver
    /// The size of the body chunks a request's body is handed over in.
    private let chunkSize: Int

    public init(handler: any RequestHandler, drainBodyLimit: UInt64 = 64 * 1024, chunkSize: Int = 16 * 1024) {
        driver = RequestDriver(handler: handler, drainBodyLimit: drainBodyLimit)
        self.chunkSize = chunkSize
    }

    /// Sends one request; nil when the driver closed the connection without an answer. A body
    /// without a Content-Length or Transfer-Encoding field gets a Content-Length.
    public func perform(
        _ method: String, _ target: String, headers: [(name: String, value: String)] = [], body: [UInt8] = []
    ) throws -> HTTPResponse? {
        var headers = headers
        let framed = headers.contains { ["content-length", "transfer-encoding"].contains($0.name.lowercased()) }
        if !body.isEmpty, !framed { headers.append(("Content-Length", String(body.count))) }
        let request = Request(method: method, target: target, headers: headers)
        let link = InProcessLink(suspensions: driver.suspensions)
        var pending = body[...]
        var proceed = driver.called(request, on: link, chunk: UnsafeRawBufferPointer(start: nil, count: 0)).proceed
        // As libmicrohttpd does, calls go on until an answer is queued; after the body ended, an
        // empty call may only move the request to its next phase, so two in a row that do not
        // answer or suspend mean the driver is stuck.
        var idleCalls = 0
        while proceed, link.answer == nil {
            try link.waitWhileParked()
            let chunk = pending.prefix(chunkSize)
            let (goOn, unread) = chunk.withUnsafeBytes { driver.called(request, on: link, chunk: $0) }
            idleCalls = chunk.isEmpty && link.answer == nil && !link.isParked ? idleCalls + 1 : 0
            if idleCalls == 2 { throw HTTPTestError(description: "the request made no progress after its body ended") }
            pending = pending.dropFirst(chunk.count - unread)
            proceed = goOn
        }
        // Taken out of the link: a streamed body holds the link, which must not hold it back.
        guard let response = link.takeAnswer() else {
            driver.ended(request, abortReason: "error")
            return nil
        }
        let (bytes, cut) = try link.read(response, for: request)
        driver.ended(request, abortReason: cut ? "error" : nil)
        return HTTPResponse(status: response.status, headers: link.headers(of: response), body: bytes)
    }
}

/// The connection of one in-process request: a suspension parks it until its resume signals.
private final class InProcessLink: RequestLink, @unchecked Sendable {
    private let suspensions: SuspendedConnections
    private let wakes = DispatchSemaphore(value: 0)
    /// Suspensions whose wake has not been waited for; touched only by the driving thread.
    private var parked = 0
    /// The queued answer; set and read on the driving thread.
    private(set) var answer: Response?

    init(suspensions: SuspendedConnections) { self.suspensions = suspensions }

    var isParked: Bool { parked > 0 }

    func suspend() -> Suspension {
        parked += 1
        return suspensions.park { [wakes] in wakes.signal() }
    }

    func send(_ response: Response, for request: Request) -> Bool {
        answer = response
        return true
    }

    func takeAnswer() -> Response? {
        defer { answer = nil }
        return answer
    }

    /// Waits until every suspension so far was resumed (30 s at most: a lost resume fails the
    /// test instead of hanging it).
    func waitWhileParked() throws {
        while parked > 0 {
            guard wakes.wait(timeout: .now() + .seconds(30)) == .success else {
                throw HTTPTestError(description: "a suspended request was never resumed")
            }
            parked -= 1
        }
    }

    func headers(of response: Response) -> [(name: String, value: String)] {
        var headers = response.shared?.fields ?? []
        if case .prepared(let prepared, _) = response.body { headers += prepared.headers }
        return headers + response.headers
    }

    /// The body as a client would receive it (none for HEAD and 304), and whether it was cut.
    /// Borrowed memory is copied under the fault guard, as the server's TLS path copies it.
    func read(_ response: Response, for request: Request) throws -> (bytes: [UInt8], cut: Bool) {
        let sendsBody = request.method != .head && response.status != 304
        switch response.body {
        case .empty: return ([], false)
        case .bytes(let bytes): return (sendsBody ? bytes : [], false)
        case .borrowed(let buffer, _): return sendsBody ? copy([.borrowed(buffer)]) : ([], false)
        case .pieces(let pieces, _): return sendsBody ? copy(pieces) : ([], false)
        case .prepared(let prepared, _): return sendsBody ? copy([.borrowed(prepared.body)]) : ([], false)
        case .file(let file, let offset, let count):
            guard let descriptor = file.take() else { return ([], true) }
            defer { close(descriptor) }
            return sendsBody ? readFile(descriptor, offset: offset, count: count) : ([], false)
        case .stream(let body):
            body.attach(self)
            defer { body.cancel() }
            return sendsBody ? try pull(body.read) : ([], false)
        case .pulled(let body):
            body.attach(self)
            defer { body.release() }
            return sendsBody ? try pull(body.read) : ([], false)
        }
    }

    private func copy(_ pieces: [Response.Piece]) -> (bytes: [UInt8], cut: Bool) {
        let reader = GuardedCopyReader(pieces: pieces)
        var bytes = [UInt8](repeating: 0, count: reader.count)
        var position = 0
        while position < reader.count {
            let count = bytes.withUnsafeMutableBytes {
                reader.read(at: position, into: UnsafeMutableRawBufferPointer(rebasing: $0[position...]))
            }
            guard count > 0 else { return (Array(bytes[..<position]), true) }
            position += count
        }
        return (bytes, false)
    }

    private func readFile(_ descriptor: Int32, offset: UInt64, count: Int) -> (bytes: [UInt8], cut: Bool) {
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let got = bytes.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress! + done, count - done, off_t(offset) + off_t(done)) }
            guard got > 0 else { return (Array(bytes[..<done]), true) }
            done += got
        }
        return (bytes, false)
    }

    /// A content reader's protocol: bytes, 0 after suspending (wait for the wake), -1 at the
    /// end, -2 when cut.
    private func pull(_ read: (UnsafeMutableRawBufferPointer) -> Int) throws -> (bytes: [UInt8], cut: Bool) {
        var bytes: [UInt8] = []
        var block = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = block.withUnsafeMutableBytes { read($0) }
            switch count {
            case -1: return (bytes, false)
            case ..<0: return (bytes, true)
            case 0: try waitWhileParked()
            default: bytes += block[..<count]
            }
        }
    }
}
