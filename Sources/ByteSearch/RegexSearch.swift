import CPCRE2
import Glibc
import MappedFiles
import Synchronization

// PCRE2 over bytes, JIT compiled.
//
// Semantics are Python's `re.finditer(pattern, buffer[:end], start)` — i.e. `finditer` with `pos`
// and `endpos` — for the window [start, end): the subject is the buffer up to the end of the window
// (so `$`, `\z` and lookaheads see the window's end, lookbehinds see the bytes before its start),
// matching starts at `start`. After an empty match at p the next search starts at p with
// `PCRE2_NOTEMPTY_ATSTART` (a match at p must not be empty; one further on may be), which is what
// Python 3.7+ yields. `PCRE2_ALT_CIRCUMFLEX` makes a multiline `^` match after a final newline, as
// Python's does.
//
// Matching runs with `PCRE2_USE_OFFSET_LIMIT`: a call may only start matches below the end of its
// block or chunk, while the subject still runs to the end of the window (so matches may end past
// it, and lookaheads see past it). Blocks and the offset limit cost a little against a bare
// `pcre2_jit_match` loop; the figures are in Benchmarks/README.md, "Profiles behind the code".

/// Compile flags that distinguish cache entries.
struct PatternKey: Hashable, Sendable {
    var pattern: [UInt8]
    var options: UInt32
}

/// A compiled pattern, shared read-only by every thread that matches it (PCRE2 allows that once
/// JIT compilation is done).
final class CompiledPattern: @unchecked Sendable {
    // @unchecked: `code` is immutable after init and PCRE2 code is safe to match concurrently.
    let code: OpaquePointer
    /// The pattern may use `\G` (anchored at the start offset): it cannot be resumed at block or
    /// chunk boundaries without changing its meaning.
    let usesStartAnchor: Bool

    init(code: OpaquePointer, usesStartAnchor: Bool) {
        self.code = code
        self.usesStartAnchor = usesStartAnchor
    }

    deinit { pcre2_code_free_8(code) }

    static func compile(_ key: PatternKey) throws(SearchError) -> CompiledPattern {
        guard let context = pcre2_compile_context_create_8(nil) else { throw .matchFailed(message: "out of memory") }
        defer { pcre2_compile_context_free_8(context) }
        pcre2_set_newline_8(context, UInt32(PCRE2_NEWLINE_LF))
        var errorCode: Int32 = 0
        var errorOffset = 0
        let code = key.pattern.withUnsafeBufferPointer { pattern in
            // A non-null pointer even for the empty pattern.
            pcre2_compile_8(
                pattern.baseAddress ?? UnsafePointer(bitPattern: 1), pattern.count, key.options,
                &errorCode, &errorOffset, context)
        }
        guard let code else {
            throw .invalidPattern(message: PCRE2Error.message(errorCode), offset: errorOffset)
        }
        // `(*NO_JIT)` makes pcre2_jit_compile succeed without compiling anything: only the size
        // of the machine code tells. The interpreter is not offered instead: it allocates while
        // matching, so a call could not be stopped from outside (see SearchCancellation).
        var jitSize = 0
        guard pcre2_jit_compile_8(code, PCRE2_JIT_COMPLETE) == 0,
            pcre2_pattern_info_8(code, UInt32(PCRE2_INFO_JITSIZE), &jitSize) == 0, jitSize > 0
        else {
            pcre2_code_free_8(code)
            throw .invalidPattern(
                message:
                    "the pattern cannot be compiled to machine code (for example (*NO_JIT)); this server runs JIT-compiled patterns only",
                offset: 0)
        }
        return CompiledPattern(code: code, usesStartAnchor: Self.mentionsStartAnchor(key.pattern))
    }

    /// Whether the pattern text contains `\G` outside `\Q...\E` (a comment mentioning it gives a
    /// harmless false positive: the search then runs unsplit).
    static func mentionsStartAnchor(_ pattern: [UInt8]) -> Bool {
        var i = 0
        var quoted = false
        while i < pattern.count {
            let byte = pattern[i]
            if byte == UInt8(ascii: "\\"), i + 1 < pattern.count {
                let escaped = pattern[i + 1]
                if quoted {
                    if escaped == UInt8(ascii: "E") { quoted = false }
                } else if escaped == UInt8(ascii: "Q") {
                    quoted = true
                } else if escaped == UInt8(ascii: "G") {
                    return true
                }
                i += 2
            } else {
                i += 1
            }
        }
        return false
    }
}

enum PCRE2Error {
    static func message(_ code: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 256)
        let length = pcre2_get_error_message_8(code, &buffer, buffer.count)
        guard length > 0 else { return "PCRE2 error \(code)" }
        return String(decoding: buffer[..<Int(length)], as: UTF8.self)
    }

    static func searchError(_ code: Int32) -> SearchError {
        switch code {
        case PCRE2_ERROR_MATCHLIMIT, PCRE2_ERROR_DEPTHLIMIT, PCRE2_ERROR_HEAPLIMIT, PCRE2_ERROR_JIT_STACKLIMIT:
            return .budgetExceeded
        default:
            return .matchFailed(message: message(code))
        }
    }
}

/// A small thread-safe LRU of compiled patterns.
final class PatternCache: Sendable {
    private struct Entry {
        var pattern: CompiledPattern
        var lastUse: UInt64
    }
    private struct State {
        var entries: [PatternKey: Entry] = [:]
        var clock: UInt64 = 0
    }
    private let capacity: Int
    private let state = Mutex(State())

    init(capacity: Int) { self.capacity = max(0, capacity) }

    /// The compiled pattern for `key`, compiling it (outside the lock) on a miss.
    func pattern(for key: PatternKey) throws(SearchError) -> CompiledPattern {
        if let hit = state.withLock({ (state: inout State) -> CompiledPattern? in
            state.clock += 1
            guard var entry = state.entries[key] else { return nil }
            entry.lastUse = state.clock
            state.entries[key] = entry
            return entry.pattern
        }) {
            return hit
        }
        let compiled = try CompiledPattern.compile(key)
        guard capacity > 0 else { return compiled }
        return state.withLock { state in
            state.clock += 1
            if let existing = state.entries[key] { return existing.pattern }
            if state.entries.count >= capacity,
                let oldest = state.entries.min(by: { $0.value.lastUse < $1.value.lastUse })?.key
            {
                state.entries[oldest] = nil
            }
            state.entries[key] = Entry(pattern: compiled, lastUse: state.clock)
            return compiled
        }
    }

    var count: Int { state.withLock { $0.entries.count } }
}

/// What one thread needs to run PCRE2: match data (one ovector pair: only the whole match is
/// used), a match context with the limits, and its own JIT stack. Never shared between threads
/// while checked out; pooled between searches.
final class MatchResources: @unchecked Sendable {
    // @unchecked: owned by exactly one kernel at a time (the pool hands it out under a lock).
    let matchData: OpaquePointer
    let context: OpaquePointer
    let jitStack: OpaquePointer?

    init?(matchLimit: UInt32, depthLimit: UInt32, jitStackSize: Int) {
        guard let matchData = pcre2_match_data_create_8(1, nil) else { return nil }
        guard let context = pcre2_match_context_create_8(nil) else {
            pcre2_match_data_free_8(matchData)
            return nil
        }
        self.matchData = matchData
        self.context = context
        pcre2_set_match_limit_8(context, matchLimit)
        pcre2_set_depth_limit_8(context, depthLimit)
        jitStack = pcre2_jit_stack_create_8(min(32 << 10, jitStackSize), max(32 << 10, jitStackSize), nil)
        if let jitStack { pcre2_jit_stack_assign_8(context, nil, UnsafeMutableRawPointer(jitStack)) }
    }

    deinit {
        pcre2_match_data_free_8(matchData)
        pcre2_match_context_free_8(context)
        if let jitStack { pcre2_jit_stack_free_8(jitStack) }
    }
}

/// Keeps a few ``MatchResources`` between searches (creating a JIT stack maps memory).
final class MatchResourcePool: Sendable {
    private let matchLimit: UInt32
    private let depthLimit: UInt32
    private let jitStackSize: Int
    private let retained: Int
    private let free = Mutex<[MatchResources]>([])

    init(configuration: SearchConfiguration) {
        matchLimit = configuration.matchLimit
        depthLimit = configuration.depthLimit
        jitStackSize = configuration.jitStackSize
        retained = 2 * max(1, configuration.concurrency) + 2
    }

    func take() -> MatchResources? {
        if let pooled = free.withLock({ $0.popLast() }) { return pooled }
        return MatchResources(matchLimit: matchLimit, depthLimit: depthLimit, jitStackSize: jitStackSize)
    }

    func give(_ resources: MatchResources) {
        free.withLock { if $0.count < retained { $0.append(resources) } }
    }
}

/// A pattern compiled for one buffer and window.
final class RegexProgram: SearchProgram, @unchecked Sendable {
    // @unchecked: `base` points into the caller's buffer, which outlives the search.
    let pattern: CompiledPattern
    let pool: MatchResourcePool
    let base: UnsafeRawPointer
    let window: Range<Int>
    let territory: Range<Int>
    let blockSize: Int
    /// UTF-8 mode: attempts advance by characters, which a block or chunk starting inside a
    /// multi-byte sequence would not respect (an empty match could appear there), so the window is
    /// searched unsplit.
    let unicode: Bool
    var splittable: Bool { !pattern.usesStartAnchor && !unicode }
    var memoryBound: Bool { false }

    init(
        pattern: CompiledPattern, pool: MatchResourcePool, base: UnsafeRawPointer, window: Range<Int>, blockSize: Int,
        unicode: Bool
    ) {
        self.pattern = pattern
        self.unicode = unicode
        self.pool = pool
        self.base = base
        self.window = window
        // Attempt positions: every offset of the window and its end (an empty match may sit there).
        self.territory = window.lowerBound..<(window.upperBound + 1)
        self.blockSize = blockSize
    }

    func makeKernel() -> any MatchKernel { RegexKernel(self) }

    func real(_ match: RawMatch) -> (offset: Int, length: Int) { (match.start, match.end - match.start) }

    func realPosition(_ position: Int) -> Int { position }

    /// Every `chunkSize` bytes, moved forward to the next line start when one is near (within half
    /// a chunk): multi-line matches rarely cross such boundaries, so merges rarely need to rescan.
    func chunkBoundaries(chunkSize: Int, in buffer: UnsafeRawBufferPointer) throws(SearchError) -> [Int] {
        let nominal = Array(stride(from: territory.lowerBound + chunkSize, to: window.upperBound, by: chunkSize))
        let base = self.base
        let end = window.upperBound
        let reach = max(1, chunkSize / 2)
        var aligned = nominal
        do {
            try aligned.withUnsafeMutableBufferPointer { (buffer) throws(MemoryFault) in
                let boundaries = buffer
                try MemoryFaultGuard.run {
                    for index in boundaries.indices {
                        let boundary = boundaries[index]
                        let length = min(reach, end - boundary)
                        if length > 0, let newline = memchr(base + boundary, 0x0A, length) {
                            boundaries[index] = base.distance(to: UnsafeRawPointer(newline)) + 1
                        }
                    }
                }
            }
        } catch {
            throw .fileChanged
        }
        var result: [Int] = []
        for boundary in aligned where boundary < territory.upperBound && boundary > (result.last ?? territory.lowerBound) {
            result.append(boundary)
        }
        return result
    }
}

/// One thread's matcher: pooled PCRE2 resources and the subject.
final class RegexKernel: MatchKernel {
    private let program: RegexProgram
    private let resources: MatchResources?
    private let code: OpaquePointer
    private let subject: UnsafePointer<UInt8>
    private let subjectLength: Int
    private var poisoned = false
    private var interruption: (level: InterruptLevel, threshold: Int32)?

    init(_ program: RegexProgram) {
        self.program = program
        self.resources = program.pool.take()
        self.code = program.pattern.code
        self.subject = program.base.assumingMemoryBound(to: UInt8.self)
        self.subjectLength = program.window.upperBound
    }

    deinit {
        // After a fault the resources may be mid-update: leak them rather than reuse them.
        if let resources, !poisoned { program.pool.give(resources) }
    }

    func poison() { poisoned = true }

    func interruptible(by level: InterruptLevel, threshold: Int32) -> Bool {
        interruption = (level, threshold)
        return true
    }

    func error(for code: Int32) -> SearchError { PCRE2Error.searchError(code) }

    func scan(from state: ScanState, attemptEnd: Int, into output: UnsafeMutablePointer<RawMatch>, capacity: Int)
        -> KernelStep
    {
        guard let resources else { return KernelStep(written: 0, state: state, exhausted: true, error: PCRE2_ERROR_NOMEMORY) }
        let lastAttempt = min(attemptEnd, program.territory.upperBound) - 1
        var position = state.position
        var afterEmpty = state.afterEmpty
        var written = 0
        guard position <= lastAttempt else {
            return KernelStep(written: 0, state: state, exhausted: true, error: 0)
        }
        let matchData = resources.matchData
        let context = resources.context
        pcre2_set_offset_limit_8(context, lastAttempt)
        let ovector = pcre2_get_ovector_pointer_8(matchData)!
        while written < capacity {
            if position > lastAttempt {
                return KernelStep(
                    written: written, state: ScanState(position: position, afterEmpty: afterEmpty), exhausted: true, error: 0)
            }
            let options: UInt32 = afterEmpty ? UInt32(PCRE2_NOTEMPTY_ATSTART) : 0
            var call = JITMatchCall(
                code: code, subject: subject, length: subjectLength, start: position, options: options, matchData: matchData,
                context: context, result: 0)
            if let interruption {
                switch withUnsafeMutablePointer(
                    to: &call, { interruption.level.call(threshold: interruption.threshold, JITMatchCall.run, $0) })
                {
                case .completed: break
                case .faulted: call.result = KernelStep.faulted
                case .interrupted: call.result = KernelStep.interrupted
                }
            } else {
                JITMatchCall.run(&call)
            }
            let rc = call.result
            if rc == PCRE2_ERROR_NOMATCH {
                return KernelStep(
                    written: written, state: ScanState(position: position, afterEmpty: afterEmpty), exhausted: true, error: 0)
            }
            if rc < 0 {
                return KernelStep(
                    written: written, state: ScanState(position: position, afterEmpty: afterEmpty), exhausted: false, error: rc)
            }
            let start = ovector[0]
            let end = ovector[1]
            output[written] = RawMatch(start: min(start, end), end: end)
            written += 1
            position = end
            afterEmpty = start >= end
        }
        return KernelStep(written: written, state: ScanState(position: position, afterEmpty: afterEmpty), exhausted: false, error: 0)
    }
}

/// The arguments and result of one `pcre2_jit_match`, on the caller's stack, so that the call can
/// run through a C function pointer as an interruptible call that allocates nothing.
private struct JITMatchCall {
    var code: OpaquePointer
    var subject: UnsafePointer<UInt8>
    var length: Int
    var start: Int
    var options: UInt32
    var matchData: OpaquePointer
    var context: OpaquePointer
    var result: Int32

    static let run: @convention(c) (UnsafeMutableRawPointer?) -> Void = { raw in
        let call = raw!.assumingMemoryBound(to: JITMatchCall.self)
        call.pointee.result = pcre2_jit_match_8(
            call.pointee.code, call.pointee.subject, call.pointee.length, call.pointee.start, call.pointee.options,
            call.pointee.matchData, call.pointee.context)
    }
}
