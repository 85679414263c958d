import Foundation
import Testing

@testable import Mmapd

/// Parses Prometheus text exposition into (name with labels) → value, failing on malformed lines.
func parsePrometheus(_ text: String) throws -> [String: Double] {
    var samples: [String: Double] = [:]
    for line in text.split(separator: "\n") where !line.hasPrefix("#") {
        let parts = line.split(separator: " ")
        guard parts.count == 2, let value = Double(parts[1]) else { throw HTTPTestError(description: "bad sample line: \(line)") }
        samples[String(parts[0])] = value
    }
    return samples
}

@Suite struct MetricsTests {
    @Test func scrapeReportsRequestsPoolSearchAndPatch() throws {
        let server = try TestServer(configure: { $0.writable = true }, files: ["a.txt": Array("one two one\n".utf8)])
        let connection = try HTTPConnection(port: server.port)
        _ = try connection.send("GET", "/files/a.txt")
        _ = try connection.send("GET", "/files/a.txt")
        _ = try connection.send("GET", "/files/missing")
        _ = try connection.send("GET", "/search/a.txt?q=one")
        _ = try connection.send("PATCH", "/files/a.txt", headers: [("Content-Range", "bytes 0-2/*")], body: Array("ONE".utf8))
        let response = try connection.send("GET", "/metrics")
        #expect(response.status == 200)
        #expect(response.header("Content-Type")?.hasPrefix("text/plain; version=0.0.4") == true)
        let samples = try parsePrometheus(response.text)
        #expect(samples[#"mmapd_requests_total{route="files",method="GET",status="200"}"#] == 2)
        #expect(samples[#"mmapd_requests_total{route="files",method="GET",status="404"}"#] == 1)
        #expect(samples[#"mmapd_requests_total{route="search",method="GET",status="200"}"#] == 1)
        #expect(samples[#"mmapd_requests_total{route="files",method="PATCH",status="204"}"#] == 1)
        // GET (miss), GET (hit), search (hit); the PATCH grew nothing, so no remap.
        #expect(samples["mmapd_pool_misses_total"] == 1)
        #expect(samples["mmapd_pool_hits_total"] == 2)
        #expect(samples["mmapd_pool_mappings"] == 1)
        #expect(samples["mmapd_search_scanned_bytes_total"] == 12)  // the whole 12-byte window
        #expect(samples["mmapd_patch_written_bytes_total"] == 3)
        #expect(samples["mmapd_patch_flush_duration_seconds_count"] == 1)
        #expect(samples["mmapd_response_body_bytes_total"] ?? 0 >= 24)
        #expect(samples["mmapd_connections"] ?? 0 >= 1)
        #expect(samples["mmapd_leases_in_use"] == 0)
        #expect(samples["mmapd_request_duration_seconds_count"] ?? 0 >= 5)
    }

    @Test func countersOnlyGoUpBetweenScrapes() throws {
        let server = try TestServer(files: ["a": [1, 2, 3]])
        let connection = try HTTPConnection(port: server.port)
        _ = try connection.send("GET", "/files/a")
        let first = try parsePrometheus(try connection.send("GET", "/metrics").text)
        _ = try connection.send("GET", "/files/a")
        let second = try parsePrometheus(try connection.send("GET", "/metrics").text)
        for (name, value) in first where name.hasSuffix("_total") || name.contains("_total{") {
            #expect((second[name] ?? -1) >= value, "\(name)")
        }
        #expect(second["mmapd_pool_hits_total"] == (first["mmapd_pool_hits_total"] ?? 0) + 1)
    }
}

@Suite struct CrossOriginTests {
    @Test func allowedOriginGetsExposedHeaders() throws {
        let server = try TestServer(configure: { $0.corsOrigins = ["https://app.example"] }, files: ["v.mp4": [0, 1, 2, 3]])
        let response = try server.request("GET", "/files/v.mp4", headers: [("Origin", "https://app.example"), ("Range", "bytes=0-1")])
        #expect(response.status == 206)
        #expect(response.header("Access-Control-Allow-Origin") == "https://app.example")
        #expect(response.header("Vary") == "Origin")
        let exposed = response.header("Access-Control-Expose-Headers") ?? ""
        for name in ["Content-Range", "Accept-Ranges", "ETag", "Content-Length"] { #expect(exposed.contains(name)) }
    }

    @Test func otherOriginsGetNothing() throws {
        let server = try TestServer(configure: { $0.corsOrigins = ["https://app.example"] }, files: ["a": [1]])
        let response = try server.request("GET", "/files/a", headers: [("Origin", "https://evil.example")])
        #expect(response.status == 200)
        #expect(response.header("Access-Control-Allow-Origin") == nil)
    }

    @Test func preflightAnswersMethodsAndHeadersOnce() throws {
        let server = try TestServer(
            configure: {
                $0.corsOrigins = ["*"]
                $0.writable = true
            }, files: ["a": [1]])
        let response = try server.request(
            "OPTIONS", "/files/a", headers: [("Origin", "https://x.example"), ("Access-Control-Request-Method", "PATCH")])
        #expect(response.status == 204)
        #expect(response.header("Access-Control-Allow-Methods")?.contains("PATCH") == true)
        #expect(response.header("Access-Control-Allow-Headers")?.contains("Range") == true)
        #expect(response.headers.filter { $0.name.lowercased() == "access-control-allow-origin" }.map(\.value) == ["*"])
    }

    @Test func noCORSConfiguredMeansNoHeaders() throws {
        let server = try TestServer(files: ["a": [1]])
        let response = try server.request("GET", "/files/a", headers: [("Origin", "https://app.example")])
        #expect(response.header("Access-Control-Allow-Origin") == nil)
    }
}
