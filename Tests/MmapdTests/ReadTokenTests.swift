import Foundation
import Glibc
import Mmapd
import Testing

/// Read tokens on a live server: every route and method without a token, with a read token and
/// with a write token; what a refusal reveals; and where tokens must never show up.
@Suite struct ReadTokenTests {
    static let readToken = "read-secret-1"
    static let writeToken = "write-secret-1"
    static let files: [String: [UInt8]] = ["doc.txt": Array("alpha beta gamma\n".utf8), "dir/inner.txt": Array("inner\n".utf8)]

    static func server(writable: Bool = true) throws -> TestServer {
        try TestServer(
            configure: { settings in
                settings.writable = writable
                settings.tokens = [writeToken]
                settings.readTokens = [readToken, "read-secret-2"]
            }, files: files)
    }

    /// Every route a client can name, existing or not, well-formed or not.
    static let targets = [
        "/", "/files/", "/files/doc.txt", "/files/missing.txt", "/files/dir/", "/files/dir", "/files/dir/inner.txt",
        "/files/../etc/passwd", "/files/%2e%2e/x", "/files/bad%zz", "/search/doc.txt?q=beta", "/search/missing.txt?q=beta",
        "/search/doc.txt", "/metrics", "/nowhere", "/files/doc.txt?lines=1-2"
    ]

    @Test(arguments: ["GET", "HEAD", "OPTIONS", "PATCH", "PUT", "DELETE", "POST"])
    func withoutATokenEveryRouteButHealthzIs401AndRevealsNothing(method: String) throws {
        let server = try Self.server()
        var bodies = Set<String>()
        for target in Self.targets {
            let answer = try server.request(
                method, target, headers: method == "PATCH" ? [("Content-Range", "bytes 0-0/*")] : [],
                body: method == "PATCH" ? [0x41] : [])
            #expect(answer.status == 401, "\(method) \(target)")
            #expect(answer.header("WWW-Authenticate")?.hasPrefix("Bearer") == true, "\(method) \(target)")
            #expect(answer.header("Content-Type") == "application/problem+json", "\(method) \(target)")
            #expect(answer.header("ETag") == nil && answer.header("Content-Range") == nil && answer.header("Location") == nil)
            if method != "HEAD" { bodies.insert(answer.text) }
        }
        // One answer for every target: a missing file, an existing one, a bad path look the same.
        #expect(bodies.count <= 1, "\(bodies)")
        #expect(try server.read("doc.txt") == Self.files["doc.txt"])
    }

    @Test func aWrongOrPartialTokenIs401() throws {
        let server = try Self.server()
        for value in [
            "Bearer wrong", "Bearer read-secret", "Bearer read-secret-1x", "Basic cmVhZC1zZWNyZXQtMQ==", "read-secret-1",
            "Bearer READ-SECRET-1", "Bearer"
        ] {
            #expect(try server.request("GET", "/files/doc.txt", headers: [("Authorization", value)]).status == 401, "\(value)")
        }
    }

    @Test func healthzNeedsNoToken() throws {
        let server = try Self.server()
        #expect(try server.request("GET", "/healthz").status == 200)
        #expect(try server.request("HEAD", "/healthz").status == 200)
    }

    @Test(arguments: [readToken, "read-secret-2", writeToken])
    func aReadOrWriteTokenReadsEveryRoute(token: String) throws {
        let server = try Self.server()
        let auth = [("Authorization", "Bearer \(token)")]
        #expect(try server.request("GET", "/files/doc.txt", headers: auth).text == "alpha beta gamma\n")
        #expect(try server.request("HEAD", "/files/doc.txt", headers: auth).status == 200)
        #expect(try server.request("GET", "/files/doc.txt", headers: auth + [("Range", "bytes=6-9")]).text == "beta")
        #expect(try server.request("GET", "/files/missing.txt", headers: auth).status == 404)
        #expect(try server.request("GET", "/files/dir/", headers: auth).status == 200)
        #expect(try server.request("GET", "/files/dir", headers: auth).status == 301)
        #expect(try server.request("GET", "/search/doc.txt?q=beta", headers: auth).json["count"] as? Int == 1)
        #expect(try server.request("GET", "/metrics", headers: auth).status == 200)
        #expect(try server.request("OPTIONS", "/files/doc.txt", headers: auth).status == 204)
    }

    @Test func aReadTokenForAWriteIs403AndChangesNothing() throws {
        let server = try Self.server()
        for method in ["PATCH", "PUT", "DELETE"] {
            let answer = try server.request(
                method, "/files/doc.txt",
                headers: [("Authorization", "Bearer \(Self.readToken)"), ("Content-Range", "bytes 0-4/*")],
                body: Array("ALPHA".utf8))
            #expect(answer.status == 403, "\(method)")
            #expect(answer.header("Content-Type") == "application/problem+json")
        }
        // Also on a path that does not exist: the refusal comes before the file.
        #expect(
            try server.request(
                "PATCH", "/files/missing.txt",
                headers: [
                    ("Authorization", "Bearer \(Self.readToken)"),
                    ("Content-Range", "bytes 0-0/*")
                ], body: [0x41]
            ).status == 403)
        #expect(try server.read("doc.txt") == Self.files["doc.txt"])
    }

    @Test func aWriteTokenWrites() throws {
        let server = try Self.server()
        let answer = try server.request(
            "PATCH", "/files/doc.txt",
            headers: [
                ("Authorization", "Bearer \(Self.writeToken)"),
                ("Content-Range", "bytes 0-4/*")
            ], body: Array("ALPHA".utf8))
        #expect(answer.status == 204)
        #expect(try server.read("doc.txt") == Array("ALPHA beta gamma\n".utf8))
    }

    /// A browser's CORS preflight carries no credentials and reveals only the route's methods.
    @Test func aCORSPreflightNeedsNoToken() throws {
        let server = try TestServer(
            configure: { settings in
                settings.readTokens = [Self.readToken]
                settings.corsOrigins = ["https://app.example"]
            }, files: Self.files)
        let answer = try server.request(
            "OPTIONS", "/files/doc.txt",
            headers: [
                ("Origin", "https://app.example"),
                ("Access-Control-Request-Method", "GET")
            ])
        #expect(answer.status == 204)
        #expect(answer.header("ETag") == nil && answer.body.isEmpty)
    }

    /// The length difference is compared at full width: a token followed by 256·k more bytes once
    /// passed, because only the low byte of the difference was kept.
    @Test(arguments: [1, 255, 256, 257, 512])
    func aTokenWithExtraBytesIsRefused(extra: Int) throws {
        let server = try Self.server()
        let suffix = String(repeating: "x", count: extra)
        let read = try server.request("GET", "/files/doc.txt", headers: [("Authorization", "Bearer \(Self.readToken)\(suffix)")])
        #expect(read.status == 401)
        let write = try server.request(
            "PATCH", "/files/doc.txt",
            headers: [
                ("Authorization", "Bearer \(Self.writeToken)\(suffix)"),
                ("Content-Range", "bytes 0-0/*")
            ], body: [0x41])
        #expect(write.status == 401)
        #expect(try server.read("doc.txt") == Self.files["doc.txt"])
    }

    @Test func tokensNeverAppearInLogsMetricsOrErrorBodies() throws {
        let root = try LifecycleTests.makeRoot(["doc.txt": "alpha"])
        let server = try SpawnedServer(arguments: [
            "--port", "0", "--root", root.path, "--log-level", "info", "--writable",
            "--token", Self.writeToken, "--read-token", Self.readToken
        ])
        _ = server.waitForStartup()
        let port = try #require(server.port)
        let guesses = ["guess-token-zzz", Self.readToken + "yy"]
        var answers: [HTTPResponse] = []
        for guess in guesses {
            answers.append(try HTTPConnection(port: port).send("GET", "/files/doc.txt", headers: [("Authorization", "Bearer \(guess)")]))
            answers.append(
                try HTTPConnection(port: port).send(
                    "PATCH", "/files/doc.txt",
                    headers: [
                        ("Authorization", "Bearer \(guess)"),
                        ("Content-Range", "bytes 0-0/*")
                    ], body: [0x41]))
        }
        answers.append(
            try HTTPConnection(port: port).send(
                "PATCH", "/files/doc.txt",
                headers: [
                    ("Authorization", "Bearer \(Self.readToken)"),
                    ("Content-Range", "bytes 0-0/*")
                ], body: [0x41]))
        answers.append(
            try HTTPConnection(port: port).send("GET", "/files/missing", headers: [("Authorization", "Bearer \(Self.readToken)")]))
        let metrics = try HTTPConnection(port: port).send("GET", "/metrics", headers: [("Authorization", "Bearer \(Self.writeToken)")])
        #expect(metrics.status == 200)
        server.signal(SIGTERM)
        let (status, log) = server.waitForExit()
        #expect(status == 0)
        #expect(log.contains("status=401") && log.contains("status=403"), "\(log)")
        for secret in [Self.readToken, Self.writeToken, "guess-token-zzz"] {
            #expect(!log.contains(secret), "the log holds \(secret)")
            #expect(!metrics.text.contains(secret))
            for answer in answers { #expect(!answer.text.contains(secret)) }
        }
    }
}
