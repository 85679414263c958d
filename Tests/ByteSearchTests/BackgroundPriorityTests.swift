import Glibc
import Testing
@testable import ByteSearch

@Suite struct BackgroundPriorityTests {
    private static func policy() -> Int32 {
        var parameters = sched_param()
        var policy: Int32 = -1
        _ = pthread_getschedparam(pthread_self(), &policy, &parameters)
        return policy
    }

    /// Inside: SCHED_IDLE (5). After: the previous policy, where the process may restore it (root,
    /// or an RLIMIT_NICE that allows it); an unprivileged thread stays in the idle class.
    @Test func runsInTheIdleClassAndRestores() {
        let before = Self.policy()
        let inside = BackgroundPriority.run(true) { Self.policy() }
        #expect(inside == 5)
        if getuid() == 0 { #expect(Self.policy() == before) }
        #expect(BackgroundPriority.run(false) { Self.policy() } == Self.policy())
    }

    /// The same answer in either class.
    @Test func aBackgroundSearchFindsTheSame() throws {
        let data = Array(String(repeating: "abc needle xyz\n", count: 20_000).utf8)
        let request = SearchRequest(pattern: Array("needle".utf8), isRegex: false, reverse: false, limit: 5, window: 0..<data.count)
        let tiny = Configurations.tiny(chunk: 4096, block: 1024, threads: 2)
        var background = tiny
        background.backgroundPriority = true
        let plain = try Searcher(configuration: tiny).search(request, in: data)
        let idle = try Searcher(configuration: background).search(request, in: data)
        #expect(idle == plain)
        #expect(idle.count == 20_000)
    }
}
