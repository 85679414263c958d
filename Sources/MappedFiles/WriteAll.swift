import SystemPackage

/// All of `bytes` written to `fd`, at `offset` (pwrite) or else at the file position (write),
/// through swift-system's `writeAll`, which writes again after a short write or an EINTR.
func writeAll(_ bytes: UnsafeRawBufferPointer, to descriptor: FileDescriptor, at offset: UInt64? = nil) throws(FileAccessError) {
    do {
        if let offset {
            _ = try descriptor.writeAll(toAbsoluteOffset: Int64(offset), bytes)
        } else {
            _ = try descriptor.writeAll(bytes)
        }
    } catch let error as Errno {
        throw FileAccessError(errno: error.rawValue)
    } catch {
        // writeAll throws nothing but Errno; the untyped signature needs this arm.
        throw .system(.ioError)
    }
}
