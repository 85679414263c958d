/// A value passed to the one thread that finishes a request's work (a write turn holder's
/// deferred fsync and rename) and used there alone: the hand-off through the work queue orders
/// every access, which is what makes the unchecked Sendable sound.
struct HandOff<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
