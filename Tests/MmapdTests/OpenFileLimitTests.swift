import Testing

@testable import Mmapd

/// The operator is told, in one line, when the open-file limit cannot hold the connections
/// `maxConnections` allows, and only then.
@Suite struct OpenFileLimitTests {
    @Test(arguments: [
        (UInt64(1024), 1024, true), (1152, 1024, false), (1151, 1024, true), (1_048_576, 1024, false),
        (256, 1, false), (100, 1, true), (64, 10, true)
    ])
    func warnsOnlyWhenTheLimitIsTooLow(limit: UInt64, maxConnections: Int, warns: Bool) {
        let warning = OpenFileLimit.warning(limit: limit, maxConnections: maxConnections)
        #expect((warning != nil) == warns)
        if let warning {
            #expect(warning.contains("(\(limit))"))
            #expect(warning.contains("maxConnections (\(maxConnections))"))
        }
    }
}
