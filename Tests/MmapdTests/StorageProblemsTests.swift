import ByteSearch
import HTTPSemantics
import MappedFiles
import MicroHTTP
import Testing

@testable import Mmapd

/// What a client is told about a storage error: every way of not reaching a file reads as the
/// same 404 (no probing of what lies outside the root or behind permissions).
@Suite struct StorageProblemsTests {
    @Test(arguments: [
        (FileAccessError.notFound, 404), (.outsideRoot, 404), (.notRegularFile, 404),
        (.permissionDenied(.permissionDenied), 404), (.permissionDenied(.notPermitted), 404), (.isDirectory, 404),
        (.notWritable, 403), (.noSpace, 507), (.changedWhileReading, 503), (.system(.ioError), 500)
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

/// The error log names the error value of a server error, not a re-read of the body sent.
@Suite struct FailureCauseTests {
    @Test func aServerErrorLogsTheErrorValue() {
        let response = Response.problem(for: FileAccessError.system(.ioError))
        #expect(response.status == 500)
        #expect(response.failure == String(describing: FileAccessError.system(.ioError)))
        #expect(response.failure?.contains("system") == true)
    }

    @Test func aClientErrorLogsNothing() {
        #expect(Response.problem(for: FileAccessError.permissionDenied(.permissionDenied)).failure == nil)
        #expect(Response.problem(for: SearchError.patternTooLong(limit: 8)).failure == nil)
        #expect(Response.problem(.notFound()).failure == nil)
    }

    @Test func aProblemWithoutACauseLogsItsDetail() {
        #expect(Response.problem(.internalServerError("The search failed.")).failure == "The search failed.")
        #expect(
            Response.problem(for: SearchError.matchFailed(message: "JIT stack")).failure
                == String(describing: SearchError.matchFailed(message: "JIT stack")))
    }

    /// What a write's step threw, through the one boundary: its own problems as they are, storage
    /// errors by their mapping with the value as the cause, anything else a 500 naming it.
    @Test func thrownErrorsMeetOneBoundary() {
        struct Unexpected: Error {}
        let rule = Response.problem(forThrown: ProblemDetails.preconditionFailed("stale"))
        #expect(rule.status == 412)
        #expect(rule.failure == nil)
        let full = Response.problem(forThrown: FileAccessError.noSpace)
        #expect(full.status == 507)
        let failed = Response.problem(forThrown: FileAccessError.system(.ioError))
        #expect(failed.status == 500)
        #expect(failed.failure == String(describing: FileAccessError.system(.ioError)))
        let entry = Response.problem(forThrown: ResolvedEntry.Failure.missingParent)
        #expect(entry.status == 409)
        let unknown = Response.problem(forThrown: Unexpected())
        #expect(unknown.status == 500)
        #expect(unknown.failure?.contains("Unexpected") == true)
    }
}
