// The seeded generator every test target shares (Tests/TestSupport), visible in every file here.
@_exported import TestSupport

extension SeededRandom {
    mutating func bytes(_ count: Int) -> [UInt8] { pseudoRandomBytes(count: count, seed: next()) }
}
