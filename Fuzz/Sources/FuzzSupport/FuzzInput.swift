/// Splits one libFuzzer input into the typed values a target needs. Reading past the end yields
/// zeros and empty strings, so every input is usable and the fuzzer never wastes runs on
/// "too short" rejections.
public struct FuzzInput {
    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0

    public init(_ data: UnsafePointer<UInt8>, _ size: Int) {
        bytes = UnsafeBufferPointer(start: data, count: size)
    }

    public var isAtEnd: Bool { index >= bytes.count }

    public mutating func u8() -> UInt8 {
        guard index < bytes.count else { return 0 }
        defer { index += 1 }
        return bytes[index]
    }

    public mutating func bool() -> Bool { u8() & 1 == 1 }

    public mutating func u16() -> UInt16 { UInt16(u8()) | UInt16(u8()) << 8 }

    public mutating func u32() -> UInt32 { UInt32(u16()) | UInt32(u16()) << 16 }

    public mutating func u64() -> UInt64 { UInt64(u32()) | UInt64(u32()) << 32 }

    public mutating func i64() -> Int64 { Int64(bitPattern: u64()) }

    /// Bytes up to (not including) the next `terminator`, which is consumed; the rest if none.
    public mutating func bytes(until terminator: UInt8) -> [UInt8] {
        var result: [UInt8] = []
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            if byte == terminator { break }
            result.append(byte)
        }
        return result
    }

    /// Everything not read yet.
    public mutating func rest() -> [UInt8] {
        guard index < bytes.count else { return [] }
        defer { index = bytes.count }
        return Array(bytes[index...])
    }

    /// A field value as the server sees one: libmicrohttpd hands header bytes to Swift, which
    /// decodes them with replacement characters (`String(decoding:as:)`).
    public static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }
}

/// Stops the run with a message libFuzzer shows next to the crashing input.
public func invariant(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
                      file: StaticString = #fileID, line: UInt = #line) {
    if !condition() { fatalError("invariant violated: \(message())", file: file, line: line) }
}
