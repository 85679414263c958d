/// The host name of a `Host` header (RFC 9110 §7.2): the port dropped, an IPv6 literal's
/// brackets kept, ASCII letters lowercased (names compare case-insensitively).
public enum HostHeader {
    /// nil for a value that is not `host[:port]` (empty, unbalanced brackets, a port that is not
    /// digits, or bytes no host name has: whitespace, `/`, `@`, controls).
    public static func name(of value: String) -> String? {
        let text = FieldText.trimmingWhitespace(Array(value.utf8)[...])
        var host = text
        var port = text[text.endIndex...]
        if host.first == UInt8(ascii: "[") {
            guard let close = host.firstIndex(of: UInt8(ascii: "]")) else { return nil }
            let rest = host[(close + 1)...]
            host = host[...close]
            if !rest.isEmpty {
                guard rest.first == UInt8(ascii: ":") else { return nil }
                port = rest.dropFirst()
            }
        } else if let colon = host.firstIndex(of: UInt8(ascii: ":")) {
            port = host[(colon + 1)...]
            host = host[..<colon]
        }
        guard !host.isEmpty,
            port.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
            !host.contains(where: { $0 <= 0x20 || $0 == 0x7F || $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "@") })
        else { return nil }
        return String(decoding: host.map(FieldText.lowercased), as: UTF8.self)
    }
}
