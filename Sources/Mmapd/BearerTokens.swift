/// A set of secrets accepted in `Authorization: Bearer <token>` (the write tokens, or the read tokens).
///
/// Comparison takes the same time whatever the guess: every configured token is compared over
/// its full length with no early exit, and the lengths are compared at full width, so response
/// timing says nothing about how much of a guess was right and no longer string can pass for a
/// token. Tokens are never logged (the access log records method and target only).
struct BearerTokens: Sendable {
    private let tokens: [[UInt8]]

    init(_ tokens: [String]) { self.tokens = tokens.map { Array($0.utf8) } }

    var required: Bool { !tokens.isEmpty }

    /// The credential of an `Authorization` value: what follows the case-insensitive scheme
    /// `Bearer ` (RFC 9110 §11.1; the token itself is case-sensitive); nil for any other form.
    static func credential(in authorization: String?) -> [UInt8]? {
        guard let authorization else { return nil }
        let bytes = Array(authorization.utf8)
        guard bytes.count > 7, String(decoding: bytes[0..<7], as: UTF8.self).lowercased() == "bearer " else { return nil }
        return Array(bytes[7...].drop { $0 == 0x20 })
    }

    /// Whether `offered` is one of the tokens (false when there are none).
    func contains(_ offered: [UInt8]?) -> Bool {
        guard let offered else { return false }
        var accepted = false
        for token in tokens { accepted = Self.constantTimeEqual(token, offered) || accepted }
        return accepted
    }

    /// Equal bytes and equal lengths. The length difference is kept at full width: folding it
    /// into a byte once let a token followed by 256·k extra bytes pass.
    static func constantTimeEqual(_ secret: [UInt8], _ offered: [UInt8]) -> Bool {
        var bytes: UInt8 = 0
        for index in 0..<secret.count {
            bytes |= secret[index] ^ (index < offered.count ? offered[index] : 0)
        }
        return (UInt(bitPattern: secret.count ^ offered.count) | UInt(bytes)) == 0
    }
}
