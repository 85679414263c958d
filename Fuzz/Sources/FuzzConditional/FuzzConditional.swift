import FuzzSupport
import HTTPSemantics

/// Conditional request headers (RFC 9110 §13) evaluated against random validators: no crash,
/// the same answer twice, never 304 for an unsafe method, no header means proceed, the current
/// strong ETag in If-Match always passes step 1; entity-tag lists round-trip.
///
/// Input: flags, validators (weakness, opaque bytes, Last-Modified, now), then up to five
/// NUL-separated field values (If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since,
/// If-Range), each present when its flag bit is set.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let flags = input.u8()
    let present = input.u8()
    let isWeak = flags & 1 == 1
    let isSafe = flags & 2 == 2
    let opaque = String(decoding: input.bytes(until: 0).prefix(24).filter { $0 == 0x21 || ($0 >= 0x23 && $0 < 0x7F) },
                        as: UTF8.self)
    let etag = isWeak ? EntityTag(weak: opaque) : EntityTag(strong: opaque)
    // HTTP-dates span years 0000-9999; Last-Modified and the clock stay in that span.
    let span: Int64 = 253_402_300_799 + 62_167_219_200
    let lastModified = Int64(input.u64() % UInt64(span)) - 62_167_219_200
    let now: Int64? = flags & 4 == 4 ? Int64(input.u64() % UInt64(span)) - 62_167_219_200 : nil
    let current = Validators(etag: etag, lastModified: lastModified)

    var fields: [String?] = []
    for bit in 0..<5 {
        let value = FuzzInput.text(input.bytes(until: 0))
        fields.append(present & (1 << bit) != 0 ? value : nil)
    }
    let headers = ConditionalHeaders(ifMatch: fields[0], ifNoneMatch: fields[1], ifModifiedSince: fields[2],
                                     ifUnmodifiedSince: fields[3], ifRange: fields[4])

    let outcome = ConditionalRequest.evaluate(headers, isSafe: isSafe, current: current, now: now)
    invariant(outcome == ConditionalRequest.evaluate(headers, isSafe: isSafe, current: current, now: now), "evaluate is not deterministic")
    if !isSafe { invariant(outcome != .notModified, "304 for an unsafe method") }
    if fields[0...3].allSatisfy({ $0 == nil }) { invariant(outcome == .proceed, "no precondition, yet \(outcome)") }

    let applies = ConditionalRequest.rangeApplies(ifRange: fields[4], current: current, now: now)
    invariant(applies == ConditionalRequest.rangeApplies(ifRange: fields[4], current: current, now: now), "rangeApplies is not deterministic")
    if fields[4] == nil { invariant(applies, "no If-Range, yet the range is ignored") }
    if isWeak, let ifRange = fields[4], EntityTag.parse(ifRange) != nil { invariant(!applies, "weak ETag passed If-Range") }

    // The current tag itself, alone in If-Match: passes iff strong.
    let own = ConditionalRequest.evaluate(ConditionalHeaders(ifMatch: etag.headerValue), isSafe: isSafe, current: current, now: now)
    invariant(own == (isWeak ? .preconditionFailed : .proceed), "If-Match with the current ETag gave \(own)")
    let none = ConditionalRequest.evaluate(ConditionalHeaders(ifNoneMatch: "W/" + "\"" + opaque + "\""), isSafe: isSafe,
                                           current: current, now: now)
    invariant(none == (isSafe ? .notModified : .preconditionFailed), "If-None-Match with the current ETag gave \(none)")

    for case let value? in fields {
        if let tag = EntityTag.parse(value) {
            invariant(EntityTag.parse(tag.headerValue) == tag, "entity tag does not round-trip")
        }
        if case .tags(let tags)? = EntityTag.parseList(value) {
            let rebuilt = tags.map(\.headerValue).joined(separator: ", ")
            invariant(EntityTag.parseList(rebuilt) == .tags(tags), "entity tag list does not round-trip")
            invariant(tags.contains { $0.weakMatch(etag) } == EntityTagList.tags(tags).weakMatch(etag), "weakMatch disagrees")
        }
    }
    return 0
}
