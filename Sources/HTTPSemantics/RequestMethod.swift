/// A request's method (RFC 9110 §9). Methods are case-sensitive tokens, so `get` is not `GET`:
/// one compares them by their exact name. The ones mmapd answers have names of their own; any
/// other method is kept as it came, for the 405 and the log.
public struct RequestMethod: Hashable, Sendable, CustomStringConvertible {
    public let name: String

    public init(_ name: String) { self.name = name }

    public static let get = RequestMethod("GET")
    public static let head = RequestMethod("HEAD")
    public static let put = RequestMethod("PUT")
    public static let patch = RequestMethod("PATCH")
    public static let delete = RequestMethod("DELETE")
    public static let options = RequestMethod("OPTIONS")

    /// The methods mmapd answers, in the order `Allow` lists them and metrics label them.
    public static let answered: [RequestMethod] = [.get, .head, .put, .patch, .delete, .options]

    /// Reads only (RFC 9110 §9.2.1): what a read token or a signed link can be good for.
    public var isSafe: Bool { self == .get || self == .head || self == .options }

    /// Changes a file: what needs a write token and a `--writable` server.
    public var writes: Bool { self == .put || self == .patch || self == .delete }

    public var description: String { name }
}

extension [RequestMethod] {
    /// The value of an `Allow` field listing these methods.
    public var allowField: String { map(\.name).joined(separator: ", ") }
}
