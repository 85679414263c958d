import Glibc
import SystemPackage
import Testing

@testable import MappedFiles

/// The storage layer says what happened, with the errno where it matters; it does not decide
/// what a client is told (that is `Mmapd/StorageProblems.swift`, tested in MmapdTests).
@Suite struct FileAccessErrorTests {
    @Test(arguments: [
        (ENOENT, FileAccessError.notFound), (ENOTDIR, .notFound), (ENAMETOOLONG, .notFound),
        (EXDEV, .outsideRoot), (ELOOP, .outsideRoot),
        (ENXIO, .notRegularFile), (ENODEV, .notRegularFile),
        (EACCES, .permissionDenied(.permissionDenied)), (EPERM, .permissionDenied(.notPermitted)),
        (EISDIR, .isDirectory), (ENOSPC, .noSpace), (EDQUOT, .noSpace),
        (EIO, .system(.ioError)), (EROFS, .system(.readOnlyFileSystem)), (EMFILE, .system(.tooManyOpenFiles))
    ])
    func errnoIsClassified(code: Int32, expected: FileAccessError) {
        #expect(FileAccessError(errno: code) == expected)
    }

}
