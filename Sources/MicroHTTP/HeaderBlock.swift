import CMicroHTTPD
import Glibc

/// Header fields that many answers share (a file's validators and type), encoded once as C
/// strings in one allocation.
///
/// Copying a list of `String` pairs into each answer retained and released every string, and two
/// network threads doing that to the same strings fight over their reference counts: a tenth of
/// a 1 KiB range GET's own CPU went to it. A block is added to a libmicrohttpd response by
/// walking its bytes, with no reference counting per field.
public final class HeaderBlock: @unchecked Sendable {
    /// `name\0value\0` for each field, in order; immutable after `init`.
    private let bytes: UnsafeMutableRawBufferPointer
    private let count: Int

    public init(_ fields: [(name: String, value: String)]) {
        let size = fields.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 2 }
        bytes = .allocate(byteCount: max(size, 1), alignment: 1)
        count = fields.count
        var cursor = 0
        func append(_ text: String) {
            for byte in text.utf8 {
                bytes[cursor] = byte
                cursor += 1
            }
            bytes[cursor] = 0
            cursor += 1
        }
        for (name, value) in fields {
            append(name)
            append(value)
        }
    }

    deinit { bytes.deallocate() }

    /// The fields, in order (what `add(to:)` adds), for answers that no daemon sends.
    package var fields: [(name: String, value: String)] {
        var fields: [(name: String, value: String)] = []
        forEachField { name, value in fields.append((String(cString: name), String(cString: value))) }
        return fields
    }

    /// Adds every field to `response`, in order.
    func add(to response: OpaquePointer) {
        forEachField { name, value in _ = MHD_add_response_header(response, name, value) }
    }

    /// Walks the `name\0value\0` pairs in order, without copying them.
    private func forEachField(_ body: (UnsafePointer<CChar>, UnsafePointer<CChar>) -> Void) {
        var name = UnsafePointer<CChar>(bytes.baseAddress!.assumingMemoryBound(to: CChar.self))
        for _ in 0..<count {
            let value = name + strlen(name) + 1
            body(name, value)
            name = value + strlen(value) + 1
        }
    }
}
