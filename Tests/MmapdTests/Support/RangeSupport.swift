import Foundation
import Glibc
import Testing

/// Helpers shared by the range and conditional request suites.

/// The resident set size of this process (`VmRSS` in /proc/self/status), in bytes. The server runs
/// in-process, so this includes every page of a mapping it touched.
func residentSetBytes() throws -> UInt64 {
    let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
    guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
        let kilobytes = line.split(separator: " ").dropFirst().first.flatMap({ UInt64($0) })
    else { throw HTTPTestError(description: "no VmRSS in /proc/self/status") }
    return kilobytes * 1024
}

/// stat(2) of `path`, throwing on failure.
func fileStatus(_ path: String) throws -> stat {
    var status = stat()
    guard stat(path, &status) == 0 else { throw HTTPTestError(description: "stat \(path): errno \(errno)") }
    return status
}

/// Sets both atime and mtime of `path` to `seconds` (whole seconds, nanoseconds 0).
func setModificationTime(_ path: String, seconds: Int) throws {
    var times = [timespec(tv_sec: seconds, tv_nsec: 0), timespec(tv_sec: seconds, tv_nsec: 0)]
    guard utimensat(AT_FDCWD, path, &times, 0) == 0 else {
        throw HTTPTestError(description: "utimensat \(path): errno \(errno)")
    }
}

/// Writes `bytes` at `offset` into the existing file at `path` without truncating it.
func overwrite(_ path: String, at offset: Int, with bytes: [UInt8]) throws {
    let fd = open(path, O_WRONLY)
    guard fd >= 0 else { throw HTTPTestError(description: "open \(path): errno \(errno)") }
    defer { close(fd) }
    let written = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(offset)) }
    guard written == bytes.count else { throw HTTPTestError(description: "pwrite \(path): errno \(errno)") }
}

/// The parsed multipart body of a 206 `multipart/byteranges` answer; fails the test (by throwing)
/// when the Content-Type or the framing is wrong.
func byteranges(of response: HTTPResponse) throws -> ByterangesBody {
    let contentType = try #require(response.header("Content-Type"))
    let boundary = try #require(
        ByterangesBody.boundary(fromContentType: contentType),
        "not multipart/byteranges with a boundary: \(contentType)")
    return try ByterangesBody(response.body, boundary: boundary)
}

/// Checks a multipart/byteranges answer against `file`: 206, a Content-Length that counts the
/// whole body, one part per expected range in order, each with the file's media type, the exact
/// Content-Range and exactly the file's bytes.
func expectByteranges(
    _ response: HTTPResponse, _ expected: [ClosedRange<UInt64>], of file: [UInt8],
    contentType: String, sourceLocation: SourceLocation = #_sourceLocation
) throws {
    #expect(response.status == 206, sourceLocation: sourceLocation)
    #expect(
        response.header("Content-Range") == nil, "a multipart answer has no top-level Content-Range",
        sourceLocation: sourceLocation)
    #expect(response.header("Content-Length") == "\(response.body.count)", sourceLocation: sourceLocation)
    let multipart = try byteranges(of: response)
    #expect(multipart.preamble.isEmpty, sourceLocation: sourceLocation)
    #expect(multipart.epilogue.isEmpty, sourceLocation: sourceLocation)
    #expect(multipart.parts.count == expected.count, sourceLocation: sourceLocation)
    for (part, range) in zip(multipart.parts, expected) {
        #expect(part.header("Content-Type") == contentType, sourceLocation: sourceLocation)
        #expect(
            part.header("Content-Range") == "bytes \(range.lowerBound)-\(range.upperBound)/\(file.count)",
            sourceLocation: sourceLocation)
        #expect(
            part.body == Array(file[Int(range.lowerBound)...Int(range.upperBound)]),
            "bytes of part \(range)", sourceLocation: sourceLocation)
    }
}

/// The headers that must be identical between a GET and a HEAD of the same resource: everything
/// but `Date`, with a multipart boundary (random per answer) replaced by its length.
func comparableHeaders(_ response: HTTPResponse) -> [String] {
    response.headers
        .filter { $0.name.lowercased() != "date" }
        .map { header -> String in
            let name = header.name.lowercased()
            if name == "content-type", let boundary = ByterangesBody.boundary(fromContentType: header.value) {
                return "\(name): multipart/byteranges; boundary=<\(boundary.utf8.count) characters>"
            }
            return "\(name): \(header.value)"
        }
        .sorted()
}
