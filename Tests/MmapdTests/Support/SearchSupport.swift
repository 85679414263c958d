import Foundation
import Glibc
import Testing

/// Helpers of the search suites: query targets, decoded answers, the Python reference (CPython's
/// own `mmap.find`/`rfind`, `bytes.count` and `re.finditer` over bytes), and a raw client that can
/// peek at a socket and read a chunked NDJSON body line by line without keeping it.

// MARK: Queries

/// One `GET /search/<path>` query; `nil` parameters are left out of the URL.
struct SearchQuery: Sendable, CustomStringConvertible {
    var pattern: [UInt8]
    var regex = false
    var icase = false
    var reverse = false
    var start: Int64?
    var end: Int64?
    var limit: Int?

    init(
        _ pattern: String, regex: Bool = false, icase: Bool = false, reverse: Bool = false,
        start: Int64? = nil, end: Int64? = nil, limit: Int? = nil
    ) {
        self.init(bytes: Array(pattern.utf8), regex: regex, icase: icase, reverse: reverse, start: start, end: end, limit: limit)
    }

    init(
        bytes: [UInt8], regex: Bool = false, icase: Bool = false, reverse: Bool = false,
        start: Int64? = nil, end: Int64? = nil, limit: Int? = nil
    ) {
        self.pattern = bytes
        self.regex = regex
        self.icase = icase
        self.reverse = reverse
        self.start = start
        self.end = end
        self.limit = limit
    }

    /// The request target, every pattern byte outside the unreserved set percent-encoded (so `+`
    /// is `%2B`, not a space).
    func target(_ path: String) -> String {
        var items = ["q=" + percentEncoded(pattern)]
        if regex { items.append("regex=true") }
        if icase { items.append("icase=true") }
        if reverse { items.append("reverse=true") }
        if let start { items.append("start=\(start)") }
        if let end { items.append("end=\(end)") }
        if let limit { items.append("limit=\(limit)") }
        return "/search/\(path)?" + items.joined(separator: "&")
    }

    /// The limit the server applies (100 when none is given).
    var effectiveLimit: Int { limit ?? 100 }

    var description: String {
        let shown = String(decoding: pattern, as: UTF8.self).debugDescription
        return "q=\(shown)\(regex ? " regex" : "")\(icase ? " icase" : "")\(reverse ? " reverse" : "")"
            + " start=\(start.map(String.init) ?? "-") end=\(end.map(String.init) ?? "-") limit=\(limit.map(String.init) ?? "-")"
    }
}

func percentEncoded(_ bytes: [UInt8]) -> String {
    var out = ""
    for byte in bytes {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            out.unicodeScalars.append(Unicode.Scalar(byte))
        default:
            out += String(format: "%%%02X", byte)
        }
    }
    return out
}

// MARK: Answers

/// One match object of an answer (JSON or NDJSON line).
struct FoundMatch: Equatable, CustomStringConvertible {
    let offset: Int
    let length: Int
    let line: Int
    let text: String

    init(_ object: [String: Any]) {
        offset = object["offset"] as? Int ?? -1
        length = object["length"] as? Int ?? -1
        line = object["line"] as? Int ?? -1
        text = object["text"] as? String ?? "<no text>"
    }

    var description: String { "\(offset)+\(length)@\(line)" }
}

/// A decoded `200 application/json` search answer (or the status and problem of an error).
struct SearchAnswer: CustomStringConvertible {
    let response: HTTPResponse
    var status: Int { response.status }
    let path: String?
    let size: Int?
    /// `nil` when the JSON holds `null` (budget cut) or no `count` at all.
    let count: Int?
    let truncated: Bool?
    let next: Int?
    let matches: [FoundMatch]

    init(_ response: HTTPResponse) {
        self.response = response
        let json = response.json
        path = json["path"] as? String
        size = json["size"] as? Int
        count = json["count"] as? Int
        truncated = json["truncated"] as? Bool
        next = json["next"] as? Int
        matches = (json["matches"] as? [[String: Any]] ?? []).map(FoundMatch.init)
    }

    var spans: [Span] { matches.map { Span($0.offset, $0.length) } }

    var description: String {
        status == 200
            ? "count \(count.map(String.init) ?? "null"), truncated \(truncated.map(String.init) ?? "-"), next \(next.map(String.init) ?? "null"), \(matches.count) matches \(matches.prefix(8))"
            : "\(status) \(response.text)"
    }
}

/// Offset and length of a match, for list comparisons.
struct Span: Hashable, CustomStringConvertible {
    let offset: Int
    let length: Int
    init(_ offset: Int, _ length: Int) {
        self.offset = offset
        self.length = length
    }
    var end: Int { offset + length }
    var description: String { "\(offset)+\(length)" }
}

extension TestServer {
    /// A JSON search on a new connection.
    func search(_ path: String, _ query: SearchQuery) throws -> SearchAnswer {
        SearchAnswer(try request("GET", query.target(path)))
    }

    /// Follows `next` page by page (as `start`, or as `end` with `reverse`) until an answer is not
    /// truncated; returns every page. Stops after `maxPages` (a loop would be a bug).
    func pages(_ path: String, _ query: SearchQuery, maxPages: Int = 10_000) throws -> [SearchAnswer] {
        var pages: [SearchAnswer] = []
        var query = query
        while pages.count < maxPages {
            let page = try search(path, query)
            pages.append(page)
            guard page.status == 200, page.truncated == true, let next = page.next else { break }
            if query.reverse { query.end = Int64(next) } else { query.start = Int64(next) }
        }
        return pages
    }
}

/// `start`/`end` resolved with the slice rules of `mmap.find` (the Swift twin of `slice.indices`).
func pythonWindow(start: Int64?, end: Int64?, size: Int) -> (lower: Int, upper: Int) {
    func clamp(_ value: Int64?, _ absent: Int) -> Int {
        guard let value else { return absent }
        let shifted = value < 0 ? value + Int64(size) : value
        return Int(min(max(shifted, 0), Int64(size)))
    }
    return (clamp(start, 0), clamp(end, size))
}

// MARK: The Python reference

/// What CPython answers for one query.
struct ReferenceMatch: Equatable, CustomStringConvertible {
    let offset: Int
    let length: Int
    let line: Int
    /// The line decoded with `backslashreplace`, or nil when it is longer than 1,024 bytes.
    let text: String?
    var span: Span { Span(offset, length) }
    var description: String { "\(offset)+\(length)@\(line)" }
}

struct ReferenceAnswer {
    /// Every match of the window, in the requested order (up to `maxMatches` of them).
    let matches: [ReferenceMatch]
    /// The total, `bytes.count` for literals.
    let count: Int
}

enum PythonReference {
    /// Reads the file and a JSON list of queries; prints a JSON list of answers.
    ///
    /// - Literals: `find(sub, start, end)` looped for forward order, `rfind(sub, start, i)` looped
    ///   for reverse (right-to-left greedy), `bytes.count(sub, start, end)` for the count (checked
    ///   against the loop). `icase`: the same on `bytes.lower()` (ASCII only).
    ///
    ///   `find`/`rfind` run on the file's bytes, not on an `mmap`: they are the same CPython code
    ///   with the same slice rules (`ADJUST_INDICES`), but Debian's Python 3.11.2 `mmap.find` reads
    ///   past the end of a mapping that ends on a page boundary and dies with SIGSEGV
    ///   (`mm.find(b" the ", n - 12, n)` on a 20 MiB file). The mapping is still opened, so a
    ///   file Python cannot map fails loudly.
    /// - Patterns: `re.compile(pat).finditer(data, lo, hi)` where `lo, hi` are `slice(start,
    ///   end).indices(len)`; nothing when `lo > hi` (mmap.find's rule); reversed for `reverse`.
    /// - Lines: 1 + the number of `\n` before the offset; the text is the line without its `\n`,
    ///   decoded with `backslashreplace`, when it has at most 1,024 bytes.
    static let script = #"""
        import sys, json, mmap, re
        path, spec = sys.argv[1], sys.argv[2]
        data = open(path, 'rb').read()
        n = len(data)
        queries = json.load(open(spec))
        mm = None
        if n:
            handle = open(path, 'rb')
            mm = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        lowered = None
        out = []
        for q in queries:
            pat = bytes.fromhex(q['pattern'])
            s = q.get('start'); e = q.get('end')
            s = 0 if s is None else s
            e = n if e is None else e
            found = []
            if q['regex']:
                lo, hi, _ = slice(s, e).indices(n)
                if lo <= hi:
                    rx = re.compile(pat, re.IGNORECASE if q['icase'] else 0)
                    found = [(m.start(), m.end() - m.start()) for m in rx.finditer(data, lo, hi)]
                if q['reverse']:
                    found.reverse()
                count = len(found)
            else:
                if q['icase']:
                    if lowered is None:
                        lowered = data.lower()
                    hay, needle, counted = lowered, pat.lower(), lowered
                else:
                    hay, needle, counted = data, pat, data
                count = counted.count(needle, s, e)
                if not q['reverse']:
                    i = hay.find(needle, s, e)
                    while i >= 0:
                        found.append((i, len(needle)))
                        i = hay.find(needle, i + len(needle), e)
                else:
                    i = hay.rfind(needle, s, e)
                    while i >= 0:
                        found.append((i, len(needle)))
                        i = hay.rfind(needle, s, i)
                if count != len(found):
                    raise SystemExit('count %d != loop %d' % (count, len(found)))
            limit = q.get('max')
            if limit is not None:
                found = found[:limit] if limit >= 0 else found[limit:]
            lines = {}
            position, line = 0, 1
            for off in sorted(set(o for o, _ in found)):
                line += data.count(b'\n', position, off)
                position = off
                lines[off] = line
            rows = []
            for off, length in found:
                text = None
                if q.get('texts', True):
                    lo = max(0, off - 1025)
                    a = data.rfind(b'\n', lo, off)
                    a = a + 1 if a >= 0 else (0 if lo == 0 else None)
                    hi = min(n, off + 1025)
                    b = data.find(b'\n', off, hi)
                    b = b if b >= 0 else (n if hi == n else None)
                    if a is not None and b is not None and b - a <= 1024:
                        text = data[a:b].decode('utf-8', 'backslashreplace')
                rows.append([off, length, lines[off], text])
            out.append({'count': count, 'matches': rows})
        json.dump(out, sys.stdout)
        """#

    /// Evaluates `queries` on the file at `path`. `maxMatches`: keep only the first n (or, negative,
    /// the last n) matches of each list; `texts: false` leaves texts out (big files).
    static func answers(
        file path: String, _ queries: [SearchQuery], maxMatches: Int? = nil,
        texts: Bool = true
    ) throws -> [ReferenceAnswer] {
        let spec: [[String: Any]] = queries.map { query in
            var item: [String: Any] = [
                "pattern": query.pattern.map { String(format: "%02x", $0) }.joined(),
                "regex": query.regex, "icase": query.icase, "reverse": query.reverse, "texts": texts
            ]
            if let start = query.start { item["start"] = start }
            if let end = query.end { item["end"] = end }
            if let maxMatches { item["max"] = maxMatches }
            return item
        }
        let specPath = FileManager.default.temporaryDirectory.appendingPathComponent("mmapd-spec-\(UUID().uuidString).json").path
        try JSONSerialization.data(withJSONObject: spec).write(to: URL(fileURLWithPath: specPath))
        defer { unlink(specPath) }
        let result = try run("/usr/bin/python3", ["-X", "faulthandler", "-c", script, path, specPath])
        guard result.status == 0, let list = try JSONSerialization.jsonObject(with: Data(result.stdout)) as? [[String: Any]] else {
            throw HTTPTestError(description: "python3 reference failed (\(result.status)): \(result.stderr)")
        }
        return list.map { item in
            let rows = item["matches"] as? [[Any]] ?? []
            return ReferenceAnswer(
                matches: rows.map { row in
                    ReferenceMatch(
                        offset: row[0] as? Int ?? -1, length: row[1] as? Int ?? -1, line: row[2] as? Int ?? -1,
                        text: row[3] as? String)
                },
                count: item["count"] as? Int ?? -1)
        }
    }

    /// Runs a Python program (generators, one-off computations) and decodes its JSON output.
    static func evaluate(_ program: String, _ arguments: [String] = []) throws -> Any {
        let result = try run("/usr/bin/python3", ["-c", program] + arguments)
        guard result.status == 0 else {
            throw HTTPTestError(description: "python3 failed (\(result.status)): \(result.stderr)")
        }
        return try JSONSerialization.jsonObject(with: Data(result.stdout), options: [.fragmentsAllowed])
    }

    /// Python that writes `size` bytes of seeded English-like text to argv[1]: words of 1 to 9
    /// letters (mixed case) with frequent " the " and "example", lines of 3 to 15 words.
    static let textGenerator = #"""
        import random, sys
        path, size, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
        r = random.Random(seed)
        letters = b'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'
        words = [bytes(r.choice(letters) for _ in range(r.randint(1, 9))) for _ in range(3000)]
        words += [b'the'] * 300 + [b'example'] * 20 + [b'The'] * 30 + [b'hello', b'world', b'mmap']
        with open(path, 'wb') as f:
            written = 0
            while written < size:
                block = []
                for _ in range(2000):
                    block.append(b' '.join(r.choices(words, k=r.randint(3, 15))))
                chunk = b'\n'.join(block) + b'\n'
                chunk = chunk[:size - written]
                f.write(chunk)
                written += len(chunk)
        print(written)
        """#
}

/// Writes `size` bytes of seeded text (see ``PythonReference/textGenerator``) to `path`.
func writeText(_ path: String, size: Int, seed: Int) throws {
    _ = try PythonReference.evaluate(PythonReference.textGenerator, [path, "\(size)", "\(seed)"])
}

// MARK: A raw client that can peek and stream

/// A raw HTTP/1.1 client over one socket: sends a request, can tell without blocking whether any
/// answer byte has arrived, and reads a chunked body piece by piece (nothing kept beyond a small
/// window), or whole.
final class RawHTTPClient {
    private var socket: Int32
    private var buffer: [UInt8] = []
    private var position = 0
    private var scratch = [UInt8](repeating: 0, count: 256 * 1024)
    private(set) var status = 0
    private(set) var headers: [(name: String, value: String)] = []
    private var chunkRemaining = 0
    private var bodyDone = false

    init(port: UInt16, timeoutSeconds: Int = 60) throws {
        socket = try connectToLoopback(port: port, timeoutSeconds: timeoutSeconds)
    }

    deinit { close() }

    /// Closes the socket now (a client going away mid-answer).
    func close() {
        if socket >= 0 { Glibc.close(socket) }
        socket = -1
    }

    func send(_ target: String, method: String = "GET", headers: [(String, String)] = []) throws {
        var head = "\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        head += "\r\n"
        let bytes = Array(head.utf8)
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { throw HTTPTestError(description: "send: errno \(errno)") }
            offset += sent
        }
    }

    /// Whether at least one byte of the answer is waiting to be read (or the peer closed), without
    /// blocking: `poll` with a zero timeout.
    func hasBytesWaiting() -> Bool {
        if position < buffer.count { return true }
        var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, 0) > 0
    }

    private func receive() throws -> Bool {
        let received = scratch.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
        if received < 0 { throw HTTPTestError(description: "recv failed or timed out: errno \(errno)") }
        if received == 0 { return false }
        if position > 1 << 20 {
            buffer.removeFirst(position)
            position = 0
        }
        buffer += scratch[..<received]
        return true
    }

    /// Index just past the first `\r\n` at or after `position`, reading as needed.
    private func lineEnd(_ terminator: [UInt8]) throws -> Int {
        while true {
            if let found = buffer[position...].firstRange(of: terminator) { return found.upperBound }
            guard try receive() else { throw HTTPTestError(description: "connection closed in a header") }
        }
    }

    func readHead() throws {
        let end = try lineEnd([13, 10, 13, 10])
        let head = String(decoding: buffer[position..<(end - 4)], as: UTF8.self)
        position = end
        var lines = head.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        status = statusLine.count >= 2 ? Int(statusLine[1]) ?? 0 : 0
        headers = lines.compactMap { line in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
    }

    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    var isChunked: Bool { header("Transfer-Encoding")?.lowercased().contains("chunked") == true }

    /// The next piece of a chunked body (at most what is buffered), or nil after the last chunk.
    func readChunkPiece() throws -> ArraySlice<UInt8>? {
        if bodyDone { return nil }
        if chunkRemaining == 0 {
            let end = try lineEnd([13, 10])
            let sizeText = String(decoding: buffer[position..<(end - 2)], as: UTF8.self).split(separator: ";").first ?? ""
            guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16) else {
                throw HTTPTestError(description: "bad chunk size line '\(sizeText)'")
            }
            position = end
            if size == 0 {
                position = try lineEnd([13, 10])  // the empty line that ends the (empty) trailer
                bodyDone = true
                return nil
            }
            chunkRemaining = size + 2
        }
        if position >= buffer.count {
            guard try receive() else { throw HTTPTestError(description: "connection closed inside a chunk") }
        }
        let take = min(chunkRemaining, buffer.count - position)
        var piece = buffer[position..<(position + take)]
        position += take
        let before = chunkRemaining
        chunkRemaining -= take
        // Drop the CRLF that ends the chunk (it may be split across pieces).
        let dataLeft = max(0, before - 2)
        if take > dataLeft { piece = piece.prefix(dataLeft) }
        return piece
    }

    /// The whole body (Content-Length or chunked).
    func readBody() throws -> [UInt8] {
        if isChunked {
            var body: [UInt8] = []
            while let piece = try readChunkPiece() { body += piece }
            return body
        }
        let length = header("Content-Length").flatMap(Int.init) ?? 0
        while buffer.count - position < length {
            guard try receive() else { throw HTTPTestError(description: "connection closed in a body") }
        }
        defer { position += length }
        return Array(buffer[position..<(position + length)])
    }

    /// Calls `body` with each `\n`-terminated line of a chunked body (without the `\n`), in
    /// order, until it returns false or the body ends. Returns the bytes after the last `\n`
    /// (should be empty).
    @discardableResult
    func forEachLine(_ body: (UnsafeRawBufferPointer) throws -> Bool) throws -> [UInt8] {
        var carry: [UInt8] = []
        while let piece = try readChunkPiece() {
            var keepGoing = true
            try piece.withUnsafeBytes { raw in
                var start = 0
                while start < raw.count {
                    guard let hit = memchr(raw.baseAddress! + start, 0x0A, raw.count - start) else {
                        carry += raw[start...]
                        return
                    }
                    let end = raw.baseAddress!.distance(to: UnsafeRawPointer(hit))
                    if carry.isEmpty {
                        keepGoing = try body(UnsafeRawBufferPointer(rebasing: raw[start..<end]))
                    } else {
                        carry += raw[start..<end]
                        keepGoing = try carry.withUnsafeBytes { try body($0) }
                        carry.removeAll(keepingCapacity: true)
                    }
                    start = end + 1
                    if !keepGoing { return }
                }
            }
            if !keepGoing { return carry }
        }
        return carry
    }
}

/// Reads the decimal integer that follows `key` (e.g. `"offset":`) in a JSON line, or nil.
func integer(after key: String, in line: UnsafeRawBufferPointer) -> Int? {
    let keyBytes = Array(key.utf8)
    guard let base = line.baseAddress, !keyBytes.isEmpty else { return nil }
    var from = 0
    var found: Int?
    while from + keyBytes.count <= line.count {
        guard let hit = memchr(base + from, Int32(keyBytes[0]), line.count - from) else { return nil }
        let index = base.distance(to: UnsafeRawPointer(hit))
        if index + keyBytes.count <= line.count,
            keyBytes.withUnsafeBytes({ memcmp(base + index, $0.baseAddress!, keyBytes.count) }) == 0
        {
            found = index + keyBytes.count
            break
        }
        from = index + 1
    }
    guard var index = found else { return nil }
    var value = 0
    var digits = 0
    while index < line.count, line[index] >= 0x30, line[index] <= 0x39 {
        value = value * 10 + Int(line[index] - 0x30)
        index += 1
        digits += 1
    }
    return digits > 0 ? value : nil
}

/// Whether the file at `path` is currently mapped into this process (the in-process server leased it).
func isMappedInThisProcess(_ path: String) -> Bool {
    guard let maps = try? String(contentsOfFile: "/proc/self/maps", encoding: .utf8) else { return false }
    return maps.split(separator: "\n").contains { $0.hasSuffix(" " + path) || $0.hasSuffix("\t" + path) }
}
