import ConfinedPaths
import FuzzSupport
import HTTPSemantics

/// Request-target decoding and confinement. Invariant: a parsed RelativePath never holds a
/// segment that is "", ".", ".." or contains "/" or NUL, so joined under the root it names
/// nothing outside it; its string form splits back into the same segments; the route comes from
/// the raw path; refusals are 400 or 404. Also: percent-decoding decodes exactly once.
///
/// Input: a mode byte, then the target. Mode 0 prefixes "/files/", 1 "/search/", 2 nothing, so
/// the fuzzer spends its time in the path rules rather than rediscovering the route names.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    let mode = input.u8() % 3
    let rest = FuzzInput.text(input.rest())
    let raw = (mode == 0 ? "/files/" : mode == 1 ? "/search/" : "") + rest

    checkDecoding(Array(rest.utf8))

    let target: RequestTarget
    do {
        target = try RequestTarget(parsing: raw)
    } catch {
        invariant(error.status == 400 || error.status == 404, "target refused with \(error.status)")
        return 0
    }
    invariant((try? RequestTarget(parsing: raw)) == target, "parsing is not deterministic")
    let path = raw.utf8.prefix { $0 != UInt8(ascii: "?") }
    switch target.route {
    case .files(let file):
        // `/files` alone names the root, to be redirected to `/files/`.
        invariant(path.starts(with: "/files/".utf8) || path.elementsEqual("/files".utf8), "files route from \(raw.debugDescription)")
        check(file)
    case .search(let file):
        invariant(path.starts(with: "/search/".utf8), "search route from \(raw.debugDescription)")
        check(file)
    case .view(let file):
        invariant(path.starts(with: "/view/".utf8), "view route from \(raw.debugDescription)")
        check(file)
    case .assets(let name):
        invariant(path.starts(with: "/assets/".utf8), "assets route from \(raw.debugDescription)")
        invariant(name.utf8.elementsEqual(path.dropFirst("/assets/".utf8.count)), "asset name is not the raw rest of the path")
    case .home:
        invariant(path.elementsEqual("/".utf8), "home route from \(raw.debugDescription)")
    case .healthz:
        invariant(path.elementsEqual("/healthz".utf8), "healthz route from \(raw.debugDescription)")
    case .metrics:
        invariant(path.elementsEqual("/metrics".utf8), "metrics route from \(raw.debugDescription)")
    }
    let questionMark = raw.utf8.firstIndex(of: UInt8(ascii: "?"))
    invariant(target.query == questionMark.map { String(raw[raw.utf8.index(after: $0)...]) }, "query is not the raw text after '?'")
    return 0
}

private func check(_ file: FileTarget) {
    for segment in file.path.segments {
        let bytes = Array(segment.utf8)
        invariant(!bytes.isEmpty, "empty segment")
        invariant(segment != "." && segment != "..", "dot segment \(segment.debugDescription)")
        invariant(!bytes.contains(UInt8(ascii: "/")) && !bytes.contains(0), "slash or NUL in \(segment.debugDescription)")
        invariant(!bytes.elementsEqual("..".utf8) && !bytes.elementsEqual(".".utf8), "dot segment by bytes")
    }
    invariant(RelativePath(segments: file.path.segments) == file.path, "RelativePath refuses its own segments")
    let joined = file.path.string
    invariant(!joined.hasPrefix("/") && !joined.utf8.contains(0), "joined path is absolute or holds NUL")
    let split = joined.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
    invariant(joined.isEmpty ? file.path.segments.isEmpty : split == file.path.segments, "joined path splits differently")
    invariant(!split.contains("..") || joined.isEmpty, "'..' after joining")
}

/// Decoding once: every `%XX` becomes one byte, nothing else changes (path: `+` stays).
private func checkDecoding(_ encoded: [UInt8]) {
    guard let decoded = try? PercentDecoding.decode(encoded, as: .path) else {
        invariant(hasBadEscape(encoded), "decode refused a well-formed input")
        return
    }
    var expected: [UInt8] = []
    var index = 0
    while index < encoded.count {
        if encoded[index] == UInt8(ascii: "%") {
            expected.append(UInt8(hex(encoded[index + 1])! << 4 | hex(encoded[index + 2])!))
            index += 3
        } else {
            expected.append(encoded[index])
            index += 1
        }
    }
    invariant(decoded == expected, "decode differs from the model")
    let query = try? PercentDecoding.decode(encoded, as: .query)
    invariant(query == expected.enumerated().map { offset, byte in
        byte == UInt8(ascii: "+") && !isEscaped(encoded, decodedOffset: offset) ? UInt8(ascii: " ") : byte
    }, "query decoding differs from the model")
}

private func hasBadEscape(_ encoded: [UInt8]) -> Bool {
    var index = 0
    while index < encoded.count {
        if encoded[index] == UInt8(ascii: "%") {
            guard index + 2 < encoded.count, hex(encoded[index + 1]) != nil, hex(encoded[index + 2]) != nil else { return true }
            index += 3
        } else {
            index += 1
        }
    }
    return false
}

/// Whether the decoded byte at `decodedOffset` came from a `%XX` escape.
private func isEscaped(_ encoded: [UInt8], decodedOffset: Int) -> Bool {
    var index = 0
    var offset = 0
    while index < encoded.count {
        let escaped = encoded[index] == UInt8(ascii: "%")
        if offset == decodedOffset { return escaped }
        index += escaped ? 3 : 1
        offset += 1
    }
    return false
}

private func hex(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
    default: nil
    }
}
