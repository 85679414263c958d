import Glibc
import HTTPSemantics

/// The parts of a malformed request line that libmicrohttpd 0.9.75 lets through, refused before
/// any handler runs (issue 16, item 11; nginx answers each with 400).
///
/// libmicrohttpd cuts the line in place: the space after the method and the one before the version
/// become NUL, and the callbacks get C strings into that one buffer. A NUL the client sent inside
/// the method or the target therefore shortens what the application sees, silently:
/// `GET /files/a%00b` is refused by the target's own rules, but a raw `GET /files/a\0b` would
/// read `/files/a`. The C strings cannot show such a NUL; the distances between them can, since
/// they all point into the line as it arrived:
/// - the target ran from `url` to the NUL just before `version`, so a target (its bytes as the
///   URI log callback saw them, before the query was cut and the path decoded) shorter than that
///   held a NUL;
/// - after the method's terminating NUL come only the spaces libmicrohttpd skipped before the
///   target, so anything else there was a hidden rest of the method.
/// A method must also be a token (RFC 9110 §9.1): libmicrohttpd takes any bytes up to the space.
enum RequestLineCheck {
    static func refusal(
        method: UnsafePointer<CChar>, url: UnsafePointer<CChar>, version: UnsafePointer<CChar>,
        targetByteCount: Int
    ) -> ProblemDetails? {
        let methodLength = strlen(method)
        let methodBytes = UnsafeRawBufferPointer(start: method, count: methodLength)
        guard methodLength > 0, methodBytes.allSatisfy(MediaType.isTokenCharacter) else {
            return .badRequest("The request method must be a token (letters, digits and !#$%&'*+-.^_`|~).")
        }
        let methodEnd = method + methodLength
        // The layout above holds for every line libmicrohttpd hands on (a line without target
        // or version is refused by libmicrohttpd itself); the bounds keep a surprise harmless.
        if url > methodEnd, version > url, version - url <= Self.longestLine {
            let skipped = UnsafeRawBufferPointer(start: methodEnd + 1, count: url - methodEnd - 1)
            guard skipped.allSatisfy({ $0 == UInt8(ascii: " ") }) else {
                return .badRequest("The request method contains a NUL byte.")
            }
            guard version - 1 - url == targetByteCount else {
                return .badRequest("The request target contains a NUL byte.")
            }
        }
        return nil
    }

    /// Beyond any request line libmicrohttpd accepts (its buffer is --max-header-bytes, at most 16 MiB).
    private static let longestLine = 16 << 20
}
