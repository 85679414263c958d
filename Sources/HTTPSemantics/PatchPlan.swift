/// Checks a PATCH's writes against the file's current size before anything is written.
///
/// Writes are applied in ascending offset order. Each must start at or before the end of what
/// exists by then (the file, or an earlier write of this PATCH that extended it): a start at the
/// current size appends, a range running past the end grows the file, a gap would leave a hole
/// and is refused with 416. A `complete-length` (`bytes a-b/len`) states the file's length after
/// the PATCH; one that disagrees is a 400, so a client's idea of the file is checked, not trusted.
public struct PatchPlan: Sendable, Equatable {
    /// The writes, sorted by offset.
    public let writes: [PatchPart]
    /// The file's size once every write is applied.
    public let finalSize: UInt64

    public init(_ parts: [PatchPart], currentSize: UInt64) throws(ProblemDetails) {
        let sorted = parts.sorted { $0.start < $1.start }
        var reach = currentSize
        for part in sorted {
            guard part.start <= reach else {
                throw ProblemDetails(
                    status: 416, title: "Range Not Satisfiable",
                    detail: "A write starts at byte \(part.start), beyond the end of the file (\(reach) bytes): it would leave a hole.")
            }
            reach = max(reach, part.end)
        }
        for part in sorted {
            if let stated = part.completeLength, stated != reach {
                throw .badRequest(
                    "The Content-Range states a complete length of \(stated) bytes, but the file would be \(reach) bytes long after this PATCH."
                )
            }
        }
        writes = sorted
        finalSize = reach
    }
}
