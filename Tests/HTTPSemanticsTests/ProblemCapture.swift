@testable import HTTPSemantics

/// The problem a throwing parse produced, or nil if it succeeded: lets table-driven tests
/// compare statuses and details in one expression.
func problem<T>(_ body: () throws(ProblemDetails) -> T) -> ProblemDetails? {
    do {
        _ = try body()
        return nil
    } catch {
        return error
    }
}
