import ByteSearch
import Dispatch
import Glibc
import HTTPSemantics
import MappedFiles
import MicroHTTP
import Synchronization

/// One `tail -f | grep` stream: every line of a followed file that ends after `start` is
/// searched once it is complete (ends in `\n`), and its matches go out as NDJSON objects with the
/// file's offsets and line numbers. At the end, one summary line
/// `{"count", "truncated", "next"}`, where `next` is the first byte not searched (resume with
/// `start=`), or `{"error": problem}`.
///
/// Searching runs on worker threads, one step (at most ``stepBytes`` of lines) at a time, only
/// while the output holds less than ``capacity``: a reader that stops reading stops the search,
/// and no thread ever waits for it. Between changes of the file nothing runs and the connection
/// is suspended. A literal is searched over a step's lines at once (it holds no newline but at its
/// end, so it never spans two); a pattern is matched against each line as a subject of its own,
/// `\n` included, as grep does (so `^` and `$` mean the line's start and end).
final class FollowSearchStream: PullSource, Follower {
    struct Query: Sendable {
        let searcher: Searcher
        /// Pattern and options; the window and limit are set per page.
        let request: SearchRequest
        let rendering: MatchRendering
        /// Matches after which the stream ends (`Int.max`: none).
        let limit: Int
        let timeout: Duration
    }

    private struct State {
        var file: FollowedFile?
        /// The first byte not searched yet (the start of a line), and its line number.
        var next = 0
        var line = 1
        var output: [UInt8] = []
        var sent = 0
        var delivered = 0
        var ending: FollowEnd?
        /// The last line (summary or error) is in `output`.
        var finished = false
        var running = false
        /// Changed while a step ran: run another.
        var again = false
        /// The last step stopped on a full output; the reader restarts it once it has drained.
        var blocked = false
        var wake: (@Sendable () -> Void)?
    }

    /// Output held at most before the search pauses (plus one page of matches).
    static let capacity = 256 * 1024
    /// Lines searched per step.
    static let stepBytes = 1 << 20
    /// Matches asked for per search call, which bounds one page's output.
    static let pageMatches = 256
    private static let workers = DispatchQueue(label: "mmapd.follow.search", attributes: .concurrent)

    private let followers: Followers
    private let query: Query
    private let state = Mutex(State())
    private let reached = Atomic<Int64>(-1)
    private let slot: StreamSlots.Slot
    /// Abandoned when the client leaves: stops a search call in progress.
    private let cancellation = SearchCancellation()

    init(followers: Followers, slot: StreamSlots.Slot, query: Query) {
        self.followers = followers
        self.slot = slot
        self.query = query
    }

    var position: Int64 { reached.load(ordering: .relaxed) }

    /// Starts searching `file` at `offset` (a line start), line number `line`.
    func start(_ file: FollowedFile, at offset: Int, line: Int, wake: @escaping @Sendable () -> Void) {
        state.withLock { state in
            state.file = file
            state.next = offset
            state.line = line
            state.wake = wake
        }
        reached.store(Int64(offset), ordering: .relaxed)
        schedule()
    }

    // MARK: Reader (network thread)

    func read(into buffer: UnsafeMutableRawBufferPointer) -> PulledBody.Read {
        let (answer, restart) = state.withLock { state -> (PulledBody.Read, Bool) in
            let available = state.output.count - state.sent
            guard available > 0 else { return (state.finished ? .end : .pending, false) }
            let count = min(available, buffer.count)
            state.output.withUnsafeBytes { output in
                buffer.baseAddress!.copyMemory(from: output.baseAddress! + state.sent, byteCount: count)
            }
            state.sent += count
            guard state.sent == state.output.count else { return (.bytes(count), false) }
            state.output.removeAll(keepingCapacity: true)
            state.sent = 0
            let restart = state.blocked && !state.running
            if restart {
                state.blocked = false
                state.running = true
            }
            return (.bytes(count), restart)
        }
        if restart { Self.workers.async { self.run() } }
        return answer
    }

    func released() {
        cancellation.abandon()
        let file = state.withLock { state -> FollowedFile? in
            state.wake = nil
            state.finished = true
            return state.file
        }
        if let file { followers.leave(self, file: file) }
    }

    // MARK: Follower

    func fileChanged() { schedule() }

    func end(_ how: FollowEnd) {
        state.withLock { $0.ending = max($0.ending ?? how, how) }
        schedule()
    }

    private func schedule() {
        let start = state.withLock { state -> Bool in
            guard state.file != nil, !state.finished else { return false }
            if state.running {
                state.again = true
                return false
            }
            state.running = true
            return true
        }
        if start { Self.workers.async { self.run() } }
    }

    // MARK: Searching (worker thread)

    private enum Plan {
        case stop
        case finish(truncated: Bool)
        case search(FollowedFile, next: Int, line: Int, drain: Bool, remaining: Int)
    }

    private func run() {
        while true {
            let plan = state.withLock { state -> Plan in
                if state.finished {
                    state.running = false
                    return .stop
                }
                if state.output.count - state.sent >= Self.capacity {
                    state.blocked = true
                    state.running = false
                    return .stop
                }
                if state.ending == .now || state.delivered >= query.limit { return .finish(truncated: true) }
                state.again = false
                guard let file = state.file else { return .stop }
                return .search(
                    file, next: state.next, line: state.line, drain: state.ending == .afterTheBytes,
                    remaining: query.limit - state.delivered)
            }
            switch plan {
            case .stop:
                return
            case .finish(let truncated):
                finish { state in
                    SearchResultsNDJSON.summary(count: state.delivered, truncated: truncated, next: truncated ? state.next : nil)
                }
            case .search(let file, let next, let line, let drain, let remaining):
                let step: Step
                do throws(SearchError) {
                    step = try search(file, from: next, line: line, drain: drain, remaining: remaining)
                } catch {
                    finish { _ in Array(#"{"error":"#.utf8) + error.problem.json + Array("}\n".utf8) }
                    continue
                }
                let idle = state.withLock { state -> Bool in
                    state.output += step.output
                    state.delivered += step.delivered
                    state.next = step.next
                    state.line = step.line
                    switch step.outcome {
                    case .more: return false
                    case .limitReached(let resume):
                        state.next = resume
                        return false
                    case .caughtUp:
                        if state.again { return false }
                        state.running = false
                        return true
                    case .drained: return false
                    }
                }
                reached.store(Int64(step.next), ordering: .relaxed)
                switch step.outcome {
                case .limitReached:
                    finish { state in SearchResultsNDJSON.summary(count: state.delivered, truncated: true, next: state.next) }
                case .drained: finish { state in SearchResultsNDJSON.summary(count: state.delivered, truncated: false, next: nil) }
                case .more, .caughtUp: if !step.output.isEmpty { wakeReader() }
                }
                if idle { return }
            }
        }
    }

    /// Appends the last line and ends the stream once it is sent.
    private func finish(_ last: (State) -> [UInt8]) {
        state.withLock { state in
            guard !state.finished else { return }
            state.output += last(state)
            state.finished = true
        }
        wakeReader()
    }

    private func wakeReader() { state.withLock { $0.wake }?() }

    private struct Step {
        var output: [UInt8] = []
        var delivered = 0
        var next: Int
        var line: Int
        var outcome: Outcome

        enum Outcome {
            /// More complete lines may be waiting.
            case more
            /// No complete line after `next`.
            case caughtUp
            /// The file was rotated and everything it holds is searched.
            case drained
            /// `limit` matches delivered; the next unsent one starts at the offset.
            case limitReached(Int)

            var isLimit: Bool {
                if case .limitReached = self { return true }
                return false
            }
        }
    }

    /// Searches the complete lines after `next`, at most a step of them.
    private func search(_ file: FollowedFile, from next: Int, line: Int, drain: Bool, remaining: Int) throws(SearchError) -> Step {
        let region: MappedRegion
        do {
            region = try MappedRegion.reading(file.descriptor)
        } catch {
            throw .fileChanged
        }
        guard let end = file.stableEnd() else { throw .fileChanged }
        let size = min(region.count, Int(clamping: end))
        guard size >= next else { throw .fileChanged }
        let bytes = UnsafeRawBufferPointer(rebasing: region.bytes[0..<size])
        let unsearched = UnsafeRawBufferPointer(rebasing: bytes[next...])
        guard let length = try Searcher.endOfWholeLines(in: unsearched, preferringBefore: Self.stepBytes) else {
            // A rotated file's last line may never end: it is searched as it is.
            guard drain else { return Step(next: next, line: line, outcome: .caughtUp) }
            guard next < size else { return Step(next: next, line: line, outcome: .drained) }
            var step = try search(UnsafeRawBufferPointer(rebasing: bytes[next..<size]), origin: next, line: line, remaining: remaining)
            step.outcome = step.outcome.isLimit ? step.outcome : .drained
            return step
        }
        let lines = UnsafeRawBufferPointer(rebasing: unsearched[..<length])
        var step = try withExtendedLifetime(region) { () throws(SearchError) in
            try search(lines, origin: next, line: line, remaining: remaining)
        }
        if !step.outcome.isLimit { step.outcome = .more }
        return step
    }

    /// The matches in `lines` (whole lines, starting at file offset `origin`, the first numbered
    /// `line`), at most `remaining`.
    private func search(_ lines: UnsafeRawBufferPointer, origin: Int, line: Int, remaining: Int) throws(SearchError) -> Step {
        var step = Step(next: origin + lines.count, line: line, outcome: .more)
        let budget = SearchBudget(timeout: query.timeout, cancellation: cancellation.successor())
        if query.request.isRegex {
            var lineStart = 0
            var number = line
            while lineStart < lines.count {
                let lineEnd = try Self.endOfLine(in: lines, from: lineStart)
                let subject = UnsafeRawBufferPointer(rebasing: lines[lineStart..<lineEnd])
                if let resume = try page(
                    subject, origin: origin + lineStart, line: number, remaining: remaining - step.delivered,
                    budget: budget, into: &step)
                {
                    step.outcome = .limitReached(resume)
                    return step
                }
                lineStart = lineEnd
                number += 1
            }
            step.line = number
        } else {
            if let resume = try page(lines, origin: origin, line: line, remaining: remaining, budget: budget, into: &step) {
                step.outcome = .limitReached(resume)
                return step
            }
            step.line = query.rendering.lineNumbers ? line + (try query.searcher.countNewlines(in: lines)) : line
        }
        return step
    }

    /// Every match in `subject` page by page into `step`; the offset to resume from when
    /// `remaining` ran out first.
    private func page(
        _ subject: UnsafeRawBufferPointer, origin: Int, line: Int, remaining: Int, budget: SearchBudget,
        into step: inout Step
    ) throws(SearchError) -> Int? {
        var from = 0
        var remaining = remaining
        while true {
            guard remaining > 0 else { return origin + from }
            var request = query.request
            request.window = from..<subject.count
            request.limit = min(Self.pageMatches, remaining)
            let outcome = try query.searcher.search(request, in: subject, budget: budget)
            for match in outcome.matches {
                let numbered = SearchMatch(offset: match.offset, length: match.length, line: line + max(0, match.line - 1))
                try query.rendering.append(numbered, bytes: subject, origin: origin, to: &step.output)
                step.output.append(UInt8(ascii: "\n"))
            }
            step.delivered += outcome.matches.count
            remaining -= outcome.matches.count
            guard outcome.truncated, let next = outcome.next, next > from || !outcome.matches.isEmpty else { break }
            from = next
        }
        return nil
    }

    /// Just after the `\n` ending the line at `from`, or the end of `bytes`.
    private static func endOfLine(in bytes: UnsafeRawBufferPointer, from: Int) throws(SearchError) -> Int {
        let rest = UnsafeRawBufferPointer(rebasing: bytes[from...])
        return from + (try Searcher.endOfWholeLines(in: rest, preferringBefore: 0) ?? rest.count)
    }
}
