/// Media types: the `Content-Type` to send for a file, and a parsed `Content-Type` from a request.
public struct MediaType: Sendable, Hashable {
    /// The top-level type, lowercased (`multipart`).
    public let type: String
    /// The subtype, lowercased (`byteranges`).
    public let subtype: String
    /// The parameters in order, names lowercased, values unquoted but otherwise as sent (a
    /// `boundary` is case-sensitive).
    public let parameters: [Parameter]

    public struct Parameter: Sendable, Hashable {
        public let name: String
        public let value: String
    }

    /// `type/subtype`, lowercased, without parameters: what to compare against.
    public var essence: String { type + "/" + subtype }

    /// The value of parameter `name` (matched case-insensitively), or `nil`.
    public func parameter(_ name: String) -> String? {
        let lowered = name.lowercased()
        return parameters.first { $0.name == lowered }?.value
    }

    /// Parses a `Content-Type` field value per RFC 9110 §8.3.1:
    /// `type "/" subtype *( OWS ";" OWS [ name "=" ( token / quoted-string ) ] )`.
    ///
    /// Returns `nil` for anything malformed, including a parameter name given twice: two
    /// `boundary` values would leave it to chance which one frames the body.
    public init?(parsing fieldValue: String) {
        var scanner = FieldValueScanner(Array(fieldValue.utf8))
        scanner.skipWhitespace()
        guard let type = scanner.token(), scanner.consume(UInt8(ascii: "/")), let subtype = scanner.token() else {
            return nil
        }
        var parameters: [Parameter] = []
        while true {
            scanner.skipWhitespace()
            if scanner.isAtEnd { break }
            guard scanner.consume(UInt8(ascii: ";")) else { return nil }
            scanner.skipWhitespace()
            if scanner.isAtEnd || scanner.peek == UInt8(ascii: ";") { continue }
            guard let name = scanner.token()?.lowercased(), scanner.consume(UInt8(ascii: "=")),
                let value = scanner.peek == UInt8(ascii: "\"") ? scanner.quotedString() : scanner.token(),
                !parameters.contains(where: { $0.name == name })
            else { return nil }
            parameters.append(Parameter(name: name, value: value))
        }
        self.type = type.lowercased()
        self.subtype = subtype.lowercased()
        self.parameters = parameters
    }

    /// The `Content-Type` to send for a file, chosen by its extension (case-insensitive).
    /// Text types carry `; charset=utf-8`; an unknown or missing extension gives
    /// `application/octet-stream`, which never invites a browser to interpret the bytes.
    public static func contentType(forFileName fileName: String) -> String {
        guard let dot = fileName.utf8.lastIndex(of: UInt8(ascii: ".")),
            dot != fileName.utf8.startIndex
        else { return octetStream }
        let fileExtension = String(fileName[fileName.utf8.index(after: dot)...]).lowercased()
        return byExtension[fileExtension] ?? octetStream
    }

    /// RFC 9110 `tchar`: visible ASCII except the delimiters `"(),/:;<=>?@[\]{}`.
    public static func isTokenCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        default:
            "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }

    private static let octetStream = "application/octet-stream"

    private static let byExtension: [String: String] = [
        // Text
        "txt": "text/plain; charset=utf-8",
        "text": "text/plain; charset=utf-8",
        "log": "text/plain; charset=utf-8",
        "conf": "text/plain; charset=utf-8",
        "ini": "text/plain; charset=utf-8",
        "md": "text/markdown; charset=utf-8",
        "markdown": "text/markdown; charset=utf-8",
        "csv": "text/csv; charset=utf-8",
        "tsv": "text/tab-separated-values; charset=utf-8",
        "html": "text/html; charset=utf-8",
        "htm": "text/html; charset=utf-8",
        "css": "text/css; charset=utf-8",
        "js": "text/javascript; charset=utf-8",
        "mjs": "text/javascript; charset=utf-8",
        "xml": "application/xml; charset=utf-8",
        "yaml": "application/yaml; charset=utf-8",
        "yml": "application/yaml; charset=utf-8",
        "toml": "application/toml; charset=utf-8",
        // JSON is UTF-8 by definition (RFC 8259) and has no charset parameter.
        "json": "application/json",
        "ndjson": "application/x-ndjson",
        "jsonl": "application/jsonl",
        "map": "application/json",
        // Images
        "png": "image/png",
        "jpg": "image/jpeg",
        "jpeg": "image/jpeg",
        "gif": "image/gif",
        "webp": "image/webp",
        "avif": "image/avif",
        "bmp": "image/bmp",
        "ico": "image/vnd.microsoft.icon",
        "tif": "image/tiff",
        "tiff": "image/tiff",
        "svg": "image/svg+xml",
        // Documents, archives, binaries
        "pdf": "application/pdf",
        "zip": "application/zip",
        "gz": "application/gzip",
        "tgz": "application/gzip",
        "bz2": "application/x-bzip2",
        "xz": "application/x-xz",
        "zst": "application/zstd",
        "7z": "application/x-7z-compressed",
        "tar": "application/x-tar",
        "wasm": "application/wasm",
        // Audio and video
        "mp3": "audio/mpeg",
        "wav": "audio/wav",
        "ogg": "audio/ogg",
        "oga": "audio/ogg",
        "opus": "audio/ogg",
        "flac": "audio/flac",
        "m4a": "audio/mp4",
        "mp4": "video/mp4",
        "m4v": "video/mp4",
        "webm": "video/webm",
        "ogv": "video/ogg",
        "mov": "video/quicktime",
        "mkv": "video/x-matroska",
        // Fonts
        "woff": "font/woff",
        "woff2": "font/woff2",
        "ttf": "font/ttf",
        "otf": "font/otf"
    ]
}

/// A cursor over the bytes of a field value for the RFC 9110 productions `MediaType` and
/// `AcceptHeader` need.
struct FieldValueScanner {
    private let bytes: [UInt8]
    private var index = 0

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    var isAtEnd: Bool { index == bytes.count }
    var peek: UInt8? { isAtEnd ? nil : bytes[index] }

    mutating func consume(_ byte: UInt8) -> Bool {
        guard peek == byte else { return false }
        index += 1
        return true
    }

    mutating func skipWhitespace() {
        while let byte = peek, byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") { index += 1 }
    }

    /// `1*tchar`, or `nil` when none is here.
    mutating func token() -> String? {
        let start = index
        while let byte = peek, MediaType.isTokenCharacter(byte) { index += 1 }
        return index == start ? nil : String(decoding: bytes[start..<index], as: UTF8.self)
    }

    /// `DQUOTE *( qdtext / quoted-pair ) DQUOTE`, returned with the quoting removed.
    mutating func quotedString() -> String? {
        guard consume(UInt8(ascii: "\"")) else { return nil }
        var value: [UInt8] = []
        while let byte = peek {
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                return String(decoding: value, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard let escaped = peek, Self.isQuotedPairCharacter(escaped) else { return nil }
                value.append(escaped)
                index += 1
            case _ where Self.isQuotedPairCharacter(byte):
                value.append(byte)
            default:
                return nil
            }
        }
        return nil
    }

    /// HTAB, SP, VCHAR and obs-text: what may stand inside quotes (unescaped, `"` and `\` aside).
    private static func isQuotedPairCharacter(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "\t") || byte >= 0x20 && byte != 0x7F
    }
}
