/// One part of a `multipart/byteranges` body.
struct ByterangesPart {
    let headers: [(name: String, value: String)]
    let body: [UInt8]

    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}

/// A parsed `multipart/byteranges` body (RFC 9110 §14.6, framing per RFC 2046 §5.1.1), read the
/// way a strict client reads it: the framing is checked, not guessed, so a malformed answer from
/// the server fails the test instead of parsing into something plausible.
struct ByterangesBody {
    let boundary: String
    let parts: [ByterangesPart]
    /// Bytes before the first delimiter (RFC 2046 lets a sender put something there; mmapd
    /// sends nothing).
    let preamble: [UInt8]
    /// Bytes after the close delimiter's line break.
    let epilogue: [UInt8]

    /// The boundary of a `multipart/byteranges; boundary=...` Content-Type value, or nil when the
    /// value is some other type or has no boundary parameter. A quoted boundary is unquoted.
    static func boundary(fromContentType value: String) -> String? {
        let pieces = value.split(separator: ";").map { $0.trimmingWhitespace() }
        guard let type = pieces.first, type.lowercased() == "multipart/byteranges" else { return nil }
        for parameter in pieces.dropFirst() {
            guard let equals = parameter.firstIndex(of: "=") else { continue }
            guard parameter[..<equals].trimmingWhitespace().lowercased() == "boundary" else { continue }
            var boundary = parameter[parameter.index(after: equals)...].trimmingWhitespace()
            if boundary.count >= 2, boundary.hasPrefix("\""), boundary.hasSuffix("\"") {
                boundary = String(boundary.dropFirst().dropLast())
            }
            return boundary.isEmpty ? nil : boundary
        }
        return nil
    }

    /// Parses `body` framed with `boundary`.
    ///
    /// Accepted: an optional preamble; the first delimiter `--boundary` at the very start or after
    /// a CRLF; each part's header block ended by an empty line; every later delimiter
    /// `CRLF--boundary`; the close delimiter `CRLF--boundary--`, then optionally CRLF and an
    /// epilogue. Transport padding (whitespace after a delimiter) is not accepted: nothing sends it.
    init(_ body: [UInt8], boundary: String) throws {
        self.boundary = boundary
        let dashBoundary = Array(("--" + boundary).utf8)
        let delimiter = [13, 10] + dashBoundary

        let firstDelimiterStart: Int
        if body.starts(with: dashBoundary) {
            firstDelimiterStart = 0
        } else if let found = body.firstRange(of: delimiter) {
            firstDelimiterStart = found.lowerBound + 2
        } else {
            throw HTTPTestError(description: "multipart body has no delimiter --\(boundary)")
        }
        preamble = Array(body[..<firstDelimiterStart])

        var parts: [ByterangesPart] = []
        var index = firstDelimiterStart + dashBoundary.count
        while true {
            // After a delimiter: "--" closes the body, CRLF opens a part.
            if body[index...].starts(with: [45, 45]) {
                index += 2
                if body[index...].starts(with: [13, 10]) { index += 2 }
                epilogue = Array(body[index...])
                break
            }
            guard body[index...].starts(with: [13, 10]) else {
                throw HTTPTestError(description: "multipart delimiter at \(index - dashBoundary.count) not followed by CRLF or --")
            }
            index += 2
            guard let headerEnd = body[index...].firstRange(of: [13, 10, 13, 10]) else {
                throw HTTPTestError(description: "multipart part at \(index) has no end of headers")
            }
            let headerText = String(decoding: body[index..<headerEnd.lowerBound], as: UTF8.self)
            var headers: [(name: String, value: String)] = []
            for line in headerText.components(separatedBy: "\r\n") where !line.isEmpty {
                guard let colon = line.firstIndex(of: ":") else {
                    throw HTTPTestError(description: "multipart header line without a colon: \(line)")
                }
                headers.append((String(line[..<colon]), line[line.index(after: colon)...].trimmingWhitespace()))
            }
            let contentStart = headerEnd.upperBound
            guard let next = body[contentStart...].firstRange(of: delimiter) else {
                throw HTTPTestError(description: "multipart part at \(contentStart) is not closed by a delimiter")
            }
            parts.append(ByterangesPart(headers: headers, body: Array(body[contentStart..<next.lowerBound])))
            index = next.upperBound
        }
        self.parts = parts
    }
}

extension StringProtocol {
    fileprivate func trimmingWhitespace() -> String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
