import FuzzSupport
import Glibc
import HTTPSemantics

/// The request-line check (RequestLineCheck, compiled from MicroHTTP's own file): the line is cut
/// in place as libmicrohttpd 0.9.75 cuts it (NUL at the first space, the target from the first
/// byte after the spaces that follow, NUL at the last space, the version after it), and the check
/// must refuse it exactly when the method is empty or not a token (a NUL is no token character)
/// or the target holds a NUL, with 400 each time. The target's length is what the URI log
/// callback measures (`strlen`), as the server passes it.
///
/// Input: the request line without its line end.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    var line = input.rest()
    guard let methodEnd = line.firstIndex(of: UInt8(ascii: " ")) else { return 0 }
    guard let targetStart = line[methodEnd...].firstIndex(where: { $0 != UInt8(ascii: " ") }),
          let versionSpace = line.lastIndex(of: UInt8(ascii: " ")), versionSpace > targetStart else { return 0 }
    let method = line[..<methodEnd]
    let target = line[targetStart..<versionSpace]
    let expectRefusal = method.isEmpty || !method.allSatisfy(MediaType.isTokenCharacter) || target.contains(0)

    line[methodEnd] = 0
    line[versionSpace] = 0
    line.append(0)
    let refusal = line.withUnsafeBufferPointer { buffer in
        buffer.withMemoryRebound(to: CChar.self) { chars in
            let base = chars.baseAddress!
            return RequestLineCheck.refusal(method: base, url: base + targetStart, version: base + versionSpace + 1,
                                            targetByteCount: strlen(base + targetStart))
        }
    }
    invariant((refusal != nil) == expectRefusal,
              "refused \(refusal != nil) for method \(Array(method)) target \(Array(target))")
    if let refusal { invariant(refusal.status == 400, "refused with \(refusal.status)") }
    return 0
}
