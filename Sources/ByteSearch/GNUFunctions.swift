import Glibc

/// glibc's GNU extensions `memmem` and `memrchr`: the Glibc module does not export them (they need
/// `_GNU_SOURCE`), and this target may hold no C, so they are looked up once with `dlsym` in the
/// process's global namespace (libc is always loaded) and called through C function pointers.
enum GNU {
    typealias MemmemFunction = @convention(c) (
        UnsafeRawPointer?, Int, UnsafeRawPointer?, Int
    ) -> UnsafeMutableRawPointer?
    typealias MemrchrFunction = @convention(c) (UnsafeRawPointer?, Int32, Int) -> UnsafeMutableRawPointer?

    private static func symbol(_ name: String) -> UnsafeMutableRawPointer {
        guard let handle = dlopen(nil, RTLD_NOW), let pointer = dlsym(handle, name) else {
            fatalError("glibc has no \(name)")
        }
        return pointer
    }

    /// `memmem(haystack, haystackLength, needle, needleLength)`.
    static let memmem: MemmemFunction = unsafeBitCast(symbol("memmem"), to: MemmemFunction.self)
    /// `memrchr(s, c, n)`: the last byte equal to `c` in `s[0..<n]`.
    static let memrchr: MemrchrFunction = unsafeBitCast(symbol("memrchr"), to: MemrchrFunction.self)
}
