import Testing

@testable import HTTPSemantics

@Suite struct PatchPlanTests {
    static func part(_ start: UInt64, _ length: Int, complete: UInt64? = nil) -> PatchPart {
        PatchPart(start: start, data: 0..<length, completeLength: complete)
    }

    typealias Write = (start: UInt64, length: Int, complete: UInt64?)

    /// (writes, current size, final size or nil when refused with 416/400)
    static let cases: [([Write], UInt64, UInt64?)] = [
        ([(0, 4, nil)], 10, 10),  // overwrite inside
        ([(10, 5, nil)], 10, 15),  // append at the end
        ([(8, 5, nil)], 10, 13),  // runs past the end: grows
        ([(11, 1, nil)], 10, nil),  // starts beyond the end: hole
        ([(0, 1, nil)], 0, 1),  // first byte of an empty file
        ([(1, 1, nil)], 0, nil),  // hole in an empty file
        ([(10, 5, nil), (15, 5, nil)], 10, 20),  // contiguous appends
        ([(15, 5, nil), (10, 5, nil)], 10, 20),  // ...in any order
        ([(10, 5, nil), (16, 5, nil)], 10, nil),  // a gap between appends
        ([(0, 4, 10)], 10, 10),  // complete length agrees
        ([(0, 4, 11)], 10, nil),  // complete length disagrees
        ([(10, 2, 12)], 10, 12),  // append with the right complete length
        ([(10, 2, 11)], 10, nil),
        ([(0, 2, 12), (10, 2, 12)], 10, 12),
        ([(0, 2, 10), (10, 2, 12)], 10, nil)  // one part's statement is stale
    ]

    @Test(arguments: cases)
    func plans(parts: [Write], current: UInt64, expected: UInt64?) {
        let patch = parts.map { Self.part($0.0, $0.1, complete: $0.2) }
        let plan = try? PatchPlan(patch, currentSize: current)
        #expect(plan?.finalSize == expected)
        if let plan { #expect(plan.writes.map(\.start) == plan.writes.map(\.start).sorted()) }
    }

    @Test func holeIs416AndStaleLengthIs400() {
        #expect(throws: ProblemDetails.self) { try PatchPlan([Self.part(5, 1)], currentSize: 1) }
        do {
            _ = try PatchPlan([Self.part(5, 1)], currentSize: 1)
        } catch {
            #expect(error.status == 416)
        }
        do {
            _ = try PatchPlan([Self.part(0, 1, complete: 7)], currentSize: 1)
        } catch {
            #expect(error.status == 400)
        }
    }
}
