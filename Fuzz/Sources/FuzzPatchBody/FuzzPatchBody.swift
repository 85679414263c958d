import FuzzSupport
import HTTPSemantics

/// PATCH bodies: the form from the headers, then the parts of the body, then the plan against a
/// random current size. Invariants: every part's data lie inside the body, are non-empty and as
/// long as its range; multipart parts appear in body order without sharing bytes, write disjoint
/// file ranges and agree on the complete length; the plan is sorted, leaves no hole and ends at
/// the announced length; a resize (`Content-Range: bytes */length`) takes no body and no parts.
/// Every refusal is a 400, 415 or 416.
///
/// Input: mode, current size, one header parameter up to NUL, then the body.
/// Mode 0: raw form (the parameter is the Content-Range header); 1: message/byterange;
/// 2: multipart/byteranges with the parameter as boundary; 3: multipart with boundary "B"
/// (easy for the fuzzer to hit); 4: the parameter is the whole Content-Type.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let mode = input.u8() % 5
    let currentSize = input.bool() ? UInt64(input.u16()) : input.u64() >> (input.u8() % 64)
    let parameter = FuzzInput.text(input.bytes(until: 0))
    let body = input.rest()

    let contentType: String?
    var contentRange: String? = nil
    switch mode {
    case 0: contentType = "application/octet-stream"; contentRange = parameter
    case 1: contentType = "message/byterange"
    case 2: contentType = "multipart/byteranges; boundary=" + parameter
    case 3: contentType = "multipart/byteranges; boundary=B"
    default: contentType = parameter
    }

    let form: PatchForm
    do {
        form = try PatchForm(contentType: contentType, contentRange: contentRange)
    } catch {
        invariant([400, 415].contains(error.status), "header refusal with status \(error.status)")
        return 0
    }
    let parts: [PatchPart]
    do {
        parts = try PatchBody.parts(of: body, form: form)
    } catch {
        invariant([400, 415].contains(error.status), "body refusal with status \(error.status)")
        invariant(throwsSame(body, form, error), "parts(of:) is not deterministic")
        return 0
    }
    invariant((try? PatchBody.parts(of: body, form: form)) == parts, "parts(of:) is not deterministic")
    if case .resize(let length) = form {
        invariant(parts.isEmpty && body.isEmpty, "a resize took a body")
        invariant(length <= UInt64(Int64.max), "a resize beyond off_t")
        return 0
    }
    invariant(!parts.isEmpty, "no parts and no error")

    for part in parts {
        invariant(!part.data.isEmpty && part.data.lowerBound >= 0 && part.data.upperBound <= body.count,
                  "part data \(part.data) outside a \(body.count)-byte body")
        invariant(part.start <= UInt64(Int64.max) && part.end <= UInt64(Int64.max), "part beyond off_t")
    }
    switch form {
    case .contentRange(let start, let length, let complete):
        invariant(parts == [PatchPart(start: start, data: 0..<body.count, completeLength: complete)] && UInt64(body.count) == length,
                  "raw form: the body is not the one part")
    case .messageByterange:
        invariant(parts.count == 1 && parts[0].data.upperBound == body.count, "message/byterange: data must run to the end")
    case .multipartByteranges:
        for (earlier, later) in zip(parts, parts.dropFirst()) {
            invariant(earlier.data.upperBound <= later.data.lowerBound, "multipart parts share body bytes or are out of order")
        }
        let byStart = parts.sorted { $0.start < $1.start }
        for (earlier, later) in zip(byStart, byStart.dropFirst()) {
            invariant(earlier.end <= later.start, "multipart parts overlap in the file")
        }
        let lengths = Set(parts.compactMap(\.completeLength))
        invariant(lengths.count <= 1, "parts disagree on the complete length")
    case .resize:
        return 0  // answered above
    }

    do {
        let plan = try PatchPlan(parts, currentSize: currentSize)
        invariant(plan.writes.count == parts.count, "plan lost or added writes")
        var reach = currentSize
        for (index, write) in plan.writes.enumerated() {
            if index > 0 { invariant(plan.writes[index - 1].start <= write.start, "plan not sorted") }
            invariant(write.start <= reach, "plan leaves a hole at \(reach)")
            reach = max(reach, write.end)
        }
        invariant(plan.finalSize == reach && plan.finalSize >= currentSize, "final size \(plan.finalSize), expected \(reach)")
        for write in plan.writes {
            if let complete = write.completeLength { invariant(complete == plan.finalSize, "announced length not checked") }
        }
    } catch {
        invariant([400, 416].contains(error.status), "plan refusal with status \(error.status)")
    }
    return 0
}

private func throwsSame(_ body: [UInt8], _ form: PatchForm, _ first: ProblemDetails) -> Bool {
    do {
        _ = try PatchBody.parts(of: body, form: form)
        return false
    } catch {
        return error == first
    }
}
