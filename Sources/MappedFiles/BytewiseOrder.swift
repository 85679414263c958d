import Glibc

extension Array where Element == UInt8 {
    /// Byte-wise order (what `lexicographicallyPrecedes` gives) by one `memcmp`: the generic
    /// element walk cost a debug build most of the time of a 100,000-entry listing's sort.
    func bytewisePrecedes(_ other: [UInt8]) -> Bool {
        let common = Swift.min(count, other.count)
        let order = withUnsafeBufferPointer { a in
            other.withUnsafeBufferPointer { b in common == 0 ? 0 : memcmp(a.baseAddress!, b.baseAddress!, common) }
        }
        return order != 0 ? order < 0 : count < other.count
    }
}
