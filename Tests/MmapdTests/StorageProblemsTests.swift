import ByteSearch
import HTTPSemantics
import MappedFiles
import Testing
@testable import Mmapd

/// What a client is told about a storage error: every way of not reaching a file reads as the
/// same 404 (no probing of what lies outside the root or behind permissions).
@Suite struct StorageProblemsTests {
    @Test(arguments: [
        (FileAccessError.notFound, 404), (.outsideRoot, 404), (.notRegularFile, 404),
        (.permissionDenied(.permissionDenied), 404), (.permissionDenied(.notPermitted), 404), (.isDirectory, 404),
        (.notWritable, 403), (.noSpace, 507), (.changedWhileReading, 503), (.system(.ioError), 500),
    ])
    func accessErrorsBecomeOneAnswerEach(error: FileAccessError, status: Int) {
        #expect(error.problem.status == status)
    }

    /// The hidden cases cannot be told apart by their answer, detail included.
    @Test func refusalsReadExactlyAsMissing() {
        let missing = FileAccessError.notFound.problem
        for hidden in [FileAccessError.outsideRoot, .notRegularFile, .permissionDenied(.permissionDenied)] {
            #expect(hidden.problem == missing)
        }
    }

    /// The errno's text and nothing else: no path (the error carries none to leak).
    @Test func systemErrorsNameTheErrnoOnly() {
        #expect(FileAccessError.system(.ioError).problem.detail == "The file could not be read (Input/output error).")
    }
}
