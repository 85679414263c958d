/// The tokens PATCH accepts in `Authorization: Bearer <token>`.
///
/// Comparison takes the same time whatever the guess: every configured token is compared over
/// its full length with no early exit, so response timing says nothing about how much of a
/// guess was right. Tokens are never logged (the access log records method and target only).
struct BearerTokens: Sendable {
    private let tokens: [[UInt8]]

    init(_ tokens: [String]) { self.tokens = tokens.map { Array($0.utf8) } }

    var required: Bool { !tokens.isEmpty }

    func accepts(authorization: String?) -> Bool {
        guard required else { return true }
        guard let authorization else { return false }
        let bytes = Array(authorization.utf8)
        // The scheme is case-insensitive (RFC 9110 §11.1); the token is not.
        guard bytes.count > 7, String(decoding: bytes[0..<7], as: UTF8.self).lowercased() == "bearer " else { return false }
        let offered = Array(bytes[7...].drop { $0 == 0x20 })
        var accepted = false
        for token in tokens { accepted = Self.constantTimeEqual(token, offered) || accepted }
        return accepted
    }

    private static func constantTimeEqual(_ secret: [UInt8], _ offered: [UInt8]) -> Bool {
        var difference = UInt8(truncatingIfNeeded: secret.count ^ offered.count)
        for index in 0..<secret.count {
            difference |= secret[index] ^ (index < offered.count ? offered[index] : 0)
        }
        return difference == 0
    }
}
