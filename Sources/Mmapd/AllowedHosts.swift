import HTTPSemantics
import MicroHTTP

/// `--allowed-hosts`: the host names file and search requests must be addressed to. A page that
/// rebinds its own DNS name to 127.0.0.1 (DNS rebinding) sends its own name as `Host`, so a
/// loopback server that checks `Host` is out of its reach. Empty (the default): any `Host`.
/// `/healthz` and `/metrics` are not checked, so probes that address the server by IP keep working.
struct AllowedHosts: Sendable {
    private let names: Set<String>

    init(_ names: [String]) {
        self.names = Set(names.compactMap { HostHeader.name(of: $0) })
    }

    /// nil when `request` may be served; otherwise the problem to answer (421). Without a list,
    /// not even the header is looked up.
    func refusal(for request: Request) -> ProblemDetails? {
        guard !names.isEmpty else { return nil }
        let host = request.header("Host")
        if let host, let name = HostHeader.name(of: host), names.contains(name) { return nil }
        guard let host else { return .misdirectedRequest("The request has no Host header; this server answers only for named hosts.") }
        return .misdirectedRequest("This server does not answer for the host \(ProblemDetails.quoted(Array(host.utf8))).")
    }
}
