import Foundation
import Glibc
import Testing

/// HTTPS through libmicrohttpd's own TLS, with the real curl and a self-signed certificate the
/// test makes with the openssl CLI: whole files and ranges above the sendfile threshold (which
/// libmicrohttpd must read and encrypt instead), search, a plain HTTP request on the TLS port, a
/// file truncated mid-download, and every bad credential refused at start with one line.
@Suite(.serialized) struct TLSTests {
    /// A directory with a self-signed certificate for 127.0.0.1 and its key.
    final class Credentials {
        let directory: URL
        var certificate: String { directory.appendingPathComponent("cert.pem").path }
        var key: String { directory.appendingPathComponent("key.pem").path }

        init(curve: Bool = true) throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("mmapd-tls-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let keyType = curve ? ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"] : ["-newkey", "rsa:2048"]
            try openssl(
                ["req", "-x509"] + keyType + [
                    "-nodes", "-keyout", key, "-out", certificate, "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"
                ])
        }

        func file(_ name: String) -> String { directory.appendingPathComponent(name).path }

        deinit { try? FileManager.default.removeItem(at: directory) }
    }

    @discardableResult
    static func openssl(_ arguments: [String]) throws -> ProcessResult {
        let result = try run("/usr/bin/openssl", arguments)
        guard result.status == 0 else { throw HTTPTestError(description: "openssl \(arguments.first ?? ""): \(result.stderr)") }
        return result
    }

    static let big = pseudoRandomBytes(count: 3 << 20, seed: 0x7150_0001)

    static func start(_ credentials: Credentials, root: URL, _ extra: [String] = []) throws -> (SpawnedServer, UInt16) {
        let server = try SpawnedServer(
            arguments: [
                "--port", "0", "--root", root.path, "--log-level", "warning",
                "--tls-cert", credentials.certificate, "--tls-key", credentials.key
            ] + extra)
        let line = server.waitForStartup()
        #expect(line.hasPrefix("mmapd listening on https://127.0.0.1:"), "\(line)")
        return (server, try #require(server.port))
    }

    static func https(_ credentials: Credentials, _ port: UInt16, _ target: String, _ arguments: [String] = []) throws -> ProcessResult {
        try curl(["--cacert", credentials.certificate] + arguments + ["https://127.0.0.1:\(port)\(target)"])
    }

    @Test func wholeFilesRangesAndSearchOverTLS() throws {
        let credentials = try Credentials()
        let root = try LifecycleTests.makeRoot(["small.txt": "hello over tls\n"])
        try Data(Self.big).write(to: root.appendingPathComponent("big.bin"))
        let (server, port) = try Self.start(credentials, root: root)
        #expect(try Self.https(credentials, port, "/files/small.txt").stdoutText == "hello over tls\n")
        // Above the sendfile threshold: libmicrohttpd cannot sendfile into TLS and must fall back.
        #expect(try Self.https(credentials, port, "/files/big.bin").stdout == Self.big)
        #expect(try Self.https(credentials, port, "/files/big.bin", ["-r", "1000-2100000"]).stdout == Array(Self.big[1000...2_100_000]))
        #expect(try Self.https(credentials, port, "/files/big.bin", ["-r", "-4096"]).stdout == Array(Self.big.suffix(4096)))
        let multipart = try Self.https(credentials, port, "/files/big.bin", ["-r", "0-9,2000000-2000009", "-D", "-"])
        #expect(multipart.stdoutText.contains("multipart/byteranges"))
        let headers = try Self.https(credentials, port, "/files/big.bin", ["-I"])
        #expect(headers.stdoutText.contains("Content-Length: \(Self.big.count)"))
        let search = try Self.https(credentials, port, "/search/small.txt?q=tls")
        #expect(search.stdoutText.contains("\"count\":1"), "\(search.stdoutText)")
        // TLS 1.2 and 1.3 both work; nothing older is offered.
        #expect(try Self.https(credentials, port, "/healthz", ["--tlsv1.2", "--tls-max", "1.2"]).stdoutText == "ok\n")
        #expect(try Self.https(credentials, port, "/healthz", ["--tlsv1.3"]).stdoutText == "ok\n")
        let old = try run("/usr/bin/openssl", ["s_client", "-connect", "127.0.0.1:\(port)", "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"])
        #expect(old.stdoutText.contains("Cipher is (NONE)"), "\(old.stdoutText)")
        let current = try run("/usr/bin/openssl", ["s_client", "-connect", "127.0.0.1:\(port)", "-tls1_2"])
        #expect(current.stdoutText.contains("Cipher is ECDHE-ECDSA-AES"), "\(current.stdoutText)")
        server.stop()
    }

    @Test func anRSACertificateWorksToo() throws {
        let credentials = try Credentials(curve: false)
        let root = try LifecycleTests.makeRoot(["a.txt": "rsa"])
        let (server, port) = try Self.start(credentials, root: root)
        #expect(try Self.https(credentials, port, "/files/a.txt").stdoutText == "rsa")
        server.stop()
    }

    @Test func plainHTTPOnTheTLSPortGetsNoAnswerAndTheServerStaysHealthy() throws {
        let credentials = try Credentials()
        let root = try LifecycleTests.makeRoot(["a.txt": "alpha"])
        let (server, port) = try Self.start(credentials, root: root)
        for _ in 0..<3 {
            let plain = try curl(["--max-time", "10", "http://127.0.0.1:\(port)/files/a.txt"])
            #expect(plain.status != 0)
            #expect(!plain.stdoutText.contains("alpha"))
        }
        let socket = try RawSocket(port: port, timeoutSeconds: 10)
        socket.send(Array("\u{0}\u{1}\u{2} garbage\r\n\r\n".utf8))
        _ = socket.receive(atLeast: Int.max)
        #expect(try Self.https(credentials, port, "/healthz").stdoutText == "ok\n")
        #expect(try Self.https(credentials, port, "/files/a.txt").stdoutText == "alpha")
        server.stop()
        #expect(server.process.terminationStatus == 0)
    }

    /// A file cut short under a TLS download, which is copied from the mapping under the fault
    /// guard (GnuTLS reading the mapping itself would die of SIGBUS): the download ends short
    /// instead of hanging or killing the server, which serves on. The whole file is one borrowed
    /// body; two ranges are a multipart answer, whose parts were encrypted straight from the
    /// mapping before (the server died: curl's exit 56 and then no /healthz).
    @Test(arguments: [nil, "0-16777215,33554432-50331647"])
    func aFileTruncatedMidDownloadEndsTheDownload(ranges: String?) throws {
        let credentials = try Credentials()
        let root = try LifecycleTests.makeRoot([:])
        let file = root.appendingPathComponent("grow.bin")
        try Data(pseudoRandomBytes(count: 64 << 20, seed: 0x7150_0002)).write(to: file)
        let (server, port) = try Self.start(credentials, root: root)
        let output = credentials.file("download.bin")
        let download = Process()
        download.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        download.arguments =
            ["--silent", "--max-time", "120", "--limit-rate", "4M", "--cacert", credentials.certificate, "-o", output]
            + (ranges.map { ["--range", $0] } ?? []) + ["https://127.0.0.1:\(port)/files/grow.bin"]
        try download.run()
        // Wait (bounded) for the body to be under way, then cut the file.
        let deadline = Date().addingTimeInterval(60)
        while ((try? FileManager.default.attributesOfItem(atPath: output)[.size] as? Int) ?? nil ?? 0) < 1 << 20, Date() < deadline {
            usleep(20_000)
        }
        truncate(file.path, 4096)
        download.waitUntilExit()
        #expect(download.terminationStatus != 0, "the download claimed success after a truncation")
        #expect(try Self.https(credentials, port, "/healthz").stdoutText == "ok\n")
        #expect(try Self.https(credentials, port, "/files/grow.bin").stdout.count == 4096)
        server.stop()
    }

    struct Refusal: Sendable, CustomTestStringConvertible {
        let name: String
        let arguments: @Sendable (Credentials) throws -> [String]
        let mentions: String
        var testDescription: String { name }
    }

    static let refusals: [Refusal] = [
        Refusal(name: "missing certificate", arguments: { ["--tls-cert", $0.file("none.pem"), "--tls-key", $0.key] }, mentions: "tlsCert"),
        Refusal(name: "missing key", arguments: { ["--tls-cert", $0.certificate, "--tls-key", $0.file("none.pem")] }, mentions: "tlsKey"),
        Refusal(name: "a directory", arguments: { ["--tls-cert", $0.directory.path, "--tls-key", $0.key] }, mentions: "tlsCert"),
        Refusal(name: "certificate only", arguments: { ["--tls-cert", $0.certificate] }, mentions: "both"),
        Refusal(name: "key only", arguments: { ["--tls-key", $0.key] }, mentions: "both"),
        Refusal(
            name: "not PEM",
            arguments: { credentials in
                try Data("not a certificate\n".utf8).write(to: URL(fileURLWithPath: credentials.file("junk.pem")))
                return ["--tls-cert", credentials.file("junk.pem"), "--tls-key", credentials.key]
            }, mentions: "tlsCert"),
        Refusal(
            name: "key not PEM",
            arguments: { credentials in
                try Data("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n".utf8).write(
                    to: URL(fileURLWithPath: credentials.file("junk.key")))
                return ["--tls-cert", credentials.certificate, "--tls-key", credentials.file("junk.key")]
            }, mentions: "tlsKey"),
        Refusal(
            name: "the certificate as its own key", arguments: { ["--tls-cert", $0.certificate, "--tls-key", $0.certificate] },
            mentions: "tlsKey"),
        Refusal(
            name: "mismatched key",
            arguments: { credentials in
                try openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", credentials.file("other.key")])
                return ["--tls-cert", credentials.certificate, "--tls-key", credentials.file("other.key")]
            }, mentions: "does not belong"),
        Refusal(
            name: "expired certificate",
            arguments: { credentials in
                let configuration = """
                    [ca]
                    default_ca = own
                    [own]
                    database = \(credentials.file("index.txt"))
                    new_certs_dir = \(credentials.directory.path)
                    serial = \(credentials.file("serial"))
                    default_md = sha256
                    policy = any
                    [any]
                    commonName = supplied
                    """
                try Data(configuration.utf8).write(to: URL(fileURLWithPath: credentials.file("ca.cnf")))
                try Data().write(to: URL(fileURLWithPath: credentials.file("index.txt")))
                try Data("01\n".utf8).write(to: URL(fileURLWithPath: credentials.file("serial")))
                try openssl(["req", "-new", "-key", credentials.key, "-subj", "/CN=expired", "-out", credentials.file("req.csr")])
                try openssl([
                    "ca", "-batch", "-notext", "-config", credentials.file("ca.cnf"), "-selfsign", "-keyfile", credentials.key,
                    "-in", credentials.file("req.csr"), "-out", credentials.file("expired.pem"),
                    "-startdate", "20200101000000Z", "-enddate", "20200201000000Z"
                ])
                return ["--tls-cert", credentials.file("expired.pem"), "--tls-key", credentials.key]
            }, mentions: "expired"),
        Refusal(
            name: "bad priority string",
            arguments: { ["--tls-cert", $0.certificate, "--tls-key", $0.key, "--tls-priorities", "NOT-A-PRIORITY"] },
            mentions: "tlsPriorities")
    ]

    @Test(arguments: refusals)
    func badCredentialsRefuseToStartWithOneLine(refusal: Refusal) throws {
        let credentials = try Credentials()
        let root = try LifecycleTests.makeRoot([:])
        let result = try run(
            mmapdExecutable, ["--port", "0", "--root", root.path] + (try refusal.arguments(credentials)),
            environment: ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("MMAPD_") })
        #expect(result.status != 0)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.filter { $0 == "\n" }.count == 1, "\(result.stderr)")
        #expect(result.stderr.contains(refusal.mentions), "\(result.stderr)")
    }
}
