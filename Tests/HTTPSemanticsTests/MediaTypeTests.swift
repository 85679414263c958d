import HTTPSemantics
import Testing

@Suite("MediaType")
struct MediaTypeTests {
    static let byFileName: [(String, String)] = [
        ("a.txt", "text/plain; charset=utf-8"),
        ("A.TXT", "text/plain; charset=utf-8"),
        ("server.log", "text/plain; charset=utf-8"),
        ("index.html", "text/html; charset=utf-8"),
        ("index.htm", "text/html; charset=utf-8"),
        ("style.css", "text/css; charset=utf-8"),
        ("app.js", "text/javascript; charset=utf-8"),
        ("module.mjs", "text/javascript; charset=utf-8"),
        ("data.json", "application/json"),
        ("feed.xml", "application/xml; charset=utf-8"),
        ("table.csv", "text/csv; charset=utf-8"),
        ("README.md", "text/markdown; charset=utf-8"),
        ("config.yaml", "application/yaml; charset=utf-8"),
        ("photo.png", "image/png"),
        ("photo.jpg", "image/jpeg"),
        ("photo.jpeg", "image/jpeg"),
        ("PHOTO.JPG", "image/jpeg"),
        ("anim.gif", "image/gif"),
        ("pic.webp", "image/webp"),
        ("logo.svg", "image/svg+xml"),
        ("doc.pdf", "application/pdf"),
        ("bundle.zip", "application/zip"),
        ("archive.tar.gz", "application/gzip"),
        ("archive.tar", "application/x-tar"),
        ("movie.mp4", "video/mp4"),
        ("clip.webm", "video/webm"),
        ("song.mp3", "audio/mpeg"),
        ("sound.wav", "audio/wav"),
        ("module.wasm", "application/wasm"),
        ("font.woff2", "font/woff2"),
        ("été.TXT", "text/plain; charset=utf-8"),
        ("a.b.c.json", "application/json")
    ]

    @Test("Content-Type by extension", arguments: byFileName)
    func contentType(fileName: String, expected: String) {
        #expect(MediaType.contentType(forFileName: fileName) == expected)
    }

    @Test(
        "unknown or missing extensions are application/octet-stream",
        arguments: [
            "", "noext", "Makefile", ".bashrc", ".txt", "a.", "a.unknownext", "a.tx", "a.txt.bak", "a.exe", "a. txt"
        ])
    func octetStream(fileName: String) {
        #expect(MediaType.contentType(forFileName: fileName) == "application/octet-stream")
    }

    static let parses: [(String, String, String, [String: String])] = [
        ("text/plain", "text", "plain", [:]),
        ("Text/HTML; Charset=UTF-8", "text", "html", ["charset": "UTF-8"]),
        ("multipart/byteranges; boundary=abc", "multipart", "byteranges", ["boundary": "abc"]),
        ("multipart/byteranges; boundary=\"abc\"", "multipart", "byteranges", ["boundary": "abc"]),
        ("multipart/byteranges; boundary=\"a b:c?\"", "multipart", "byteranges", ["boundary": "a b:c?"]),
        ("multipart/byteranges;boundary=XyZ", "multipart", "byteranges", ["boundary": "XyZ"]),
        ("message/byterange", "message", "byterange", [:]),
        ("  text/plain ; a=1 ;b=2  ", "text", "plain", ["a": "1", "b": "2"]),
        ("text/plain;\ta=1", "text", "plain", ["a": "1"]),
        ("text/plain;", "text", "plain", [:]),
        ("text/plain;;a=1;;", "text", "plain", ["a": "1"]),
        ("text/plain; a=\"\"", "text", "plain", ["a": ""]),
        ("text/plain; a=\"q\\\"uote\\\\d\"", "text", "plain", ["a": "q\"uote\\d"]),
        ("text/plain; a=\"semi;colon=eq\"", "text", "plain", ["a": "semi;colon=eq"]),
        ("application/vnd.api+json", "application", "vnd.api+json", [:]),
        ("application/x-www-form-urlencoded; charset=utf-8", "application", "x-www-form-urlencoded", ["charset": "utf-8"])
    ]

    @Test("parses type, subtype and parameters", arguments: parses)
    func parse(header: String, type: String, subtype: String, parameters: [String: String]) throws {
        let mediaType = try #require(MediaType(parsing: header))
        #expect(mediaType.type == type)
        #expect(mediaType.subtype == subtype)
        #expect(mediaType.essence == "\(type)/\(subtype)")
        #expect(mediaType.parameters.count == parameters.count)
        for (name, value) in parameters {
            #expect(mediaType.parameter(name) == value)
        }
    }

    @Test(
        "refuses malformed values",
        arguments: [
            "", " ", "text", "text/", "/plain", "text/plain/x", "text /plain", "text/ plain", "text/plain x",
            "text/plain; a", "text/plain; a=", "text/plain; =b", "text/plain; a =b", "text/plain; a= b",
            "text/plain; a=\"unterminated", "text/plain; a=b c", "text/plain; a=\"x\"y", "text/plain, text/html",
            "text/plain; a=1; A=2", "text/plain; boundary=a; boundary=b", "tëxt/plain", "text/plain; a=b\u{1}",
            "text/plain; a=\"b\u{1}\"", "text/plain; a=\"b\\", "text/plain; a=@", "(comment)text/plain"
        ])
    func malformed(header: String) {
        #expect(MediaType(parsing: header) == nil)
    }

    @Test("parameter names match case-insensitively; values keep their case")
    func parameterCase() throws {
        let mediaType = try #require(MediaType(parsing: "multipart/byteranges; BOUNDARY=AbC"))
        #expect(mediaType.parameter("boundary") == "AbC")
        #expect(mediaType.parameter("Boundary") == "AbC")
        #expect(mediaType.parameter("charset") == nil)
        #expect(mediaType.parameters.map(\.name) == ["boundary"])
        #expect(mediaType.parameters.map(\.value) == ["AbC"])
    }

    @Test("parameters keep their order")
    func parameterOrder() throws {
        let mediaType = try #require(MediaType(parsing: "a/b; z=1; y=2; x=3"))
        #expect(mediaType.parameters.map(\.name) == ["z", "y", "x"])
    }

    @Test("non-ASCII inside quotes is kept")
    func obsText() throws {
        #expect(MediaType(parsing: "text/plain; title=\"été\"")?.parameter("title") == "été")
    }
}
