import FuzzSupport
import HTTPSemantics

/// The `Accept` field a listing is negotiated by (AcceptHeader): no crash on any bytes, every
/// weight within 0...1000, the same answer twice, media types compared without regard to case,
/// `prefers` exactly when the weight is higher, no field accepting everything, elements
/// lowercased with no `*/subtype` range, and a leading `text/html` (the first of equally specific
/// ranges counts) giving HTML the full weight whatever follows.
///
/// Input: flags (bit 0: no field at all), then the essence to weigh up to a NUL, then the field.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let flags = input.u8()
    let essence = FuzzInput.text(input.bytes(until: 0))
    let field: String? = flags & 1 == 1 ? nil : FuzzInput.text(input.rest())

    let accept = AcceptHeader(field)
    for type in [essence, "text/html", "application/json", "text/plain"] {
        let weight = accept.weight(of: type)
        invariant((0...1000).contains(weight), "weight \(weight) of \(type)")
        invariant(AcceptHeader(field).weight(of: type) == weight, "not deterministic for \(type)")
        invariant(accept.weight(of: type.uppercased()) == weight, "case changes the weight of \(type)")
        if field == nil { invariant(weight == 1000, "no field must accept \(type)") }
    }
    let html = accept.weight(of: "text/html")
    let json = accept.weight(of: "application/json")
    invariant(accept.prefers("application/json", over: "text/html") == (json > html), "prefers disagrees with the weights")
    for element in accept.elements {
        invariant((0...1000).contains(element.weight), "element weight \(element.weight)")
        invariant(!element.type.isEmpty && !element.subtype.isEmpty, "empty type or subtype kept")
        invariant(element.type == element.type.lowercased() && element.subtype == element.subtype.lowercased(), "not lowercased")
        invariant(element.type != "*" || element.subtype == "*", "*/subtype kept")
        invariant(element.parameterCount >= 0, "negative parameter count")
    }
    if let field {
        invariant(AcceptHeader("text/html, " + field).weight(of: "text/html") == 1000, "a leading text/html did not count")
    }
    return 0
}
