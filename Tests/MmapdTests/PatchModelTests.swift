import Foundation
import Glibc
import Mmapd
import Testing

/// Model-based: seeded random sequences of PATCHes (overwrites, appends, growth, multipart with
/// several parts, message/byterange, chunked bodies, conditional writes, resizes, and invalid
/// requests), PUTs (replacing, creating, conditional) and DELETEs go both to a live server and to
/// an in-memory model, `[UInt8]` or no file at all. After every step the file on disk and a GET
/// both equal the model (or both say there is no file), a 2xx's ETag is new and is what the next
/// GET says, and a rejection leaves the ETag as it was.
@Suite struct PatchModelTests {
    typealias Random = SeededRandom

    /// One request of the sequence and what the model says it must do.
    struct Step: CustomStringConvertible {
        var kind: String
        var headers: [(String, String)]
        var body: [UInt8]
        var status: Int
        /// The writes a 204 applies, in any order (they never overlap).
        var writes: [PatchWrite] = []
        var method = "PATCH"
        /// What a success does to the whole file, beyond `writes`.
        var whole: Whole = .unchanged

        enum Whole {
            case unchanged
            case resize(Int)
            case replace, delete
        }

        var description: String {
            "\(kind): \(headers.map { "\($0.0): \($0.1.prefix(80))" }.joined(separator: "; ")) [\(body.count) bytes] → \(status)"
        }
    }

    /// Largest file the sequence grows to; past it only overwrites are generated.
    static let sizeCap = 150_000

    /// A step on a file that exists: mostly PATCHes, sometimes a resize, a PUT or a DELETE.
    static func makeStep(_ random: inout Random, size: Int, etag: String, previousETags: [String]) -> Step {
        let roll = random.int(0...99)
        switch roll {
        case 0..<5:
            let length = random.chance(50) ? random.int(0...max(0, size - 1)) : size + random.int(0...min(5000, max(0, sizeCap - size)))
            return Step(kind: "resize", headers: [("Content-Range", "bytes */\(length)")], body: [], status: 204, whole: .resize(length))
        case 5..<7:
            return Step(kind: "resize with a body", headers: [("Content-Range", "bytes */\(size)")], body: [1], status: 400)
        case 7..<10:
            return Step(
                kind: "PUT", headers: random.chance(50) ? [("If-Match", etag)] : [], body: random.bytes(random.int(0...30_000)),
                status: 204, method: "PUT", whole: .replace)
        case 10..<12:
            return Step(kind: "PUT If-None-Match *", headers: [("If-None-Match", "*")], body: random.bytes(10), status: 412, method: "PUT")
        case 12..<14:
            return Step(
                kind: "DELETE", headers: random.chance(50) ? [("If-Match", etag)] : [], body: [], status: 204, method: "DELETE",
                whole: .delete)
        case 14..<15:
            let stale = previousETags.last ?? "\"stale\""
            return Step(kind: "DELETE If-Match stale", headers: [("If-Match", stale)], body: [], status: 412, method: "DELETE")
        default:
            return makePatch(&random, size: size, etag: etag, previousETags: previousETags)
        }
    }

    /// A step when no file exists: mostly a PUT that creates it; PATCH, DELETE and PUT If-Match fail.
    static func makeStepWithoutFile(_ random: inout Random) -> Step {
        switch random.int(0...9) {
        case 0: return Step(kind: "PATCH of no file", headers: [("Content-Range", "bytes 0-0/*")], body: [1], status: 404)
        case 1: return Step(kind: "DELETE of no file", headers: [], body: [], status: 404, method: "DELETE")
        case 2: return Step(kind: "PUT If-Match of no file", headers: [("If-Match", "*")], body: [1], status: 412, method: "PUT")
        default:
            return Step(
                kind: "PUT create", headers: random.chance(50) ? [("If-None-Match", "*")] : [], body: random.bytes(random.int(0...20_000)),
                status: 201, method: "PUT", whole: .replace)
        }
    }

    static func makePatch(_ random: inout Random, size: Int, etag: String, previousETags: [String]) -> Step {
        let canGrow = size < sizeCap
        let roll = random.int(0...99)
        // A valid range: an overwrite inside the file, or (when allowed) one that appends or grows.
        func validWrite(maxLength: Int = 2000) -> PatchWrite {
            if size > 0 && (!canGrow || random.chance(60)) {
                let start = random.int(0...(size - 1))
                return PatchWrite(start: start, bytes: random.bytes(random.int(1...min(maxLength, size - start))))
            }
            let start = random.chance(50) ? size : random.int(max(0, size - 300)...size)
            return PatchWrite(start: start, bytes: random.bytes(random.int(max(1, size - start + 1)...(size - start + maxLength))))
        }
        switch roll {
        case 0..<22:
            let write = validWrite()
            return Step(kind: "raw", headers: [("Content-Range", write.contentRange)], body: write.bytes, status: 204, writes: [write])
        case 22..<30:
            var write = validWrite()
            write.complete = "\(max(size, write.start + write.bytes.count))"
            return Step(kind: "raw /len", headers: [("Content-Range", write.contentRange)], body: write.bytes, status: 204, writes: [write])
        case 30..<36:
            let write = canGrow ? PatchWrite(start: size, bytes: random.bytes(random.int(1...4000))) : validWrite()
            return Step(kind: "append", headers: [("Content-Range", write.contentRange)], body: write.bytes, status: 204, writes: [write])
        case 36..<54:
            let writes = multipartWrites(&random, size: size, canGrow: canGrow)
            let boundary = "model-\(random.next() % 100_000)"
            return Step(
                kind: "multipart ×\(writes.count)", headers: [("Content-Type", "multipart/byteranges; boundary=\(boundary)")],
                body: multipartByteranges(writes, boundary: boundary), status: 204, writes: writes)
        case 54..<60:
            let write = validWrite()
            return Step(
                kind: "message/byterange", headers: [("Content-Type", "message/byterange")],
                body: messageByterange(write), status: 204, writes: [write])
        case 60..<66:
            let write = validWrite()
            return Step(
                kind: "chunked raw", headers: [("Content-Range", write.contentRange), ("Transfer-Encoding", "chunked")],
                body: chunked(write.bytes, chunkSize: random.int(1...700)), status: 204, writes: [write])
        case 66..<72:
            let write = validWrite()
            return Step(
                kind: "If-Match current", headers: [("Content-Range", write.contentRange), ("If-Match", etag)],
                body: write.bytes, status: 204, writes: [write])
        // Invalid requests: the model does not change.
        case 72..<76:
            let start = size + random.int(1...1000)
            let write = PatchWrite(start: start, bytes: random.bytes(random.int(1...100)))
            return Step(kind: "beyond the end", headers: [("Content-Range", write.contentRange)], body: write.bytes, status: 416)
        case 76..<80:
            var writes = multipartWrites(&random, size: size, canGrow: canGrow)
            let victim = writes[random.int(0...(writes.count - 1))]
            let overlapStart = victim.start + random.int(0...(victim.bytes.count - 1))
            writes.insert(PatchWrite(start: overlapStart, bytes: random.bytes(random.int(1...50))), at: random.int(0...writes.count))
            return Step(
                kind: "multipart overlapping", headers: [("Content-Type", "multipart/byteranges; boundary=ov")],
                body: multipartByteranges(writes, boundary: "ov"), status: 400)
        case 80..<83:
            var writes = size > 0 ? multipartWrites(&random, size: size, canGrow: false) : []
            writes.append(PatchWrite(start: size + 1 + random.int(0...50), bytes: random.bytes(5)))
            return Step(
                kind: "multipart with a gap", headers: [("Content-Type", "multipart/byteranges; boundary=gap")],
                body: multipartByteranges(writes.shuffled(using: &random), boundary: "gap"), status: 416)
        case 83..<86:
            let write = validWrite()
            let body = random.chance(50) ? Array(write.bytes.dropLast()) : write.bytes + [0]
            return Step(
                kind: "chunked raw, wrong length", headers: [("Content-Range", write.contentRange), ("Transfer-Encoding", "chunked")],
                body: chunked(body, chunkSize: random.int(1...700)), status: 400)
        case 86..<89:
            let write = validWrite()
            return Step(
                kind: "Content-Length mismatch", headers: [("Content-Range", write.contentRange)],
                body: write.bytes + [1], status: 400)
        case 89..<93:
            let write = validWrite()
            let stale = previousETags.isEmpty ? "\"stale\"" : previousETags[random.int(0...(previousETags.count - 1))]
            return Step(
                kind: "If-Match stale", headers: [("Content-Range", write.contentRange), ("If-Match", stale)],
                body: write.bytes, status: 412)
        case 93..<96:
            var write = validWrite()
            write.complete = "\(max(size, write.start + write.bytes.count) + random.int(1...10))"
            return Step(kind: "raw, wrong /len", headers: [("Content-Range", write.contentRange)], body: write.bytes, status: 400)
        default:
            var writes = multipartWrites(&random, size: size, canGrow: canGrow)
            let body = multipartByteranges(writes, boundary: "cut", close: false)
            writes = []
            return Step(
                kind: "multipart without closing delimiter", headers: [("Content-Type", "multipart/byteranges; boundary=cut")],
                body: body, status: 400)
        }
    }

    /// 1 to 5 non-overlapping parts in random order; when growing is allowed the last may run past
    /// the end and be followed by parts that each start where the previous one ended.
    static func multipartWrites(_ random: inout Random, size: Int, canGrow: Bool) -> [PatchWrite] {
        let starts = Set((0..<random.int(1...5)).map { _ in random.int(0...max(0, size - 1)) }).sorted()
        var writes: [PatchWrite] = []
        for (index, start) in starts.enumerated() {
            let room = index + 1 < starts.count ? starts[index + 1] - start : (canGrow ? 3000 : size - start)
            guard room > 0 else { continue }
            writes.append(PatchWrite(start: start, bytes: random.bytes(random.int(1...min(room, 1500)))))
        }
        if writes.isEmpty {
            writes.append(PatchWrite(start: size, bytes: random.bytes(random.int(1...100))))
        }
        if canGrow, let last = writes.last, last.start + last.bytes.count >= size {
            var end = last.start + last.bytes.count
            for _ in 0..<random.int(0...2) {
                let bytes = random.bytes(random.int(1...500))
                writes.append(PatchWrite(start: end, bytes: bytes))
                end += bytes.count
            }
        }
        return writes.shuffled(using: &random)
    }

    @Test(
        "random PATCH, PUT and DELETE sequences match the model after every step",
        arguments: [
            (seed: UInt64(1), initialSize: 0), (seed: 2, initialSize: 1000), (seed: 3, initialSize: 20_000),
            (seed: 0xDEC0DE, initialSize: 4096)
        ])
    func randomSequence(seed: UInt64, initialSize: Int) throws {
        var random = Random(seed: seed)
        var model: [UInt8]? = random.bytes(initialSize)
        let server = try TestServer(configure: { $0.writable = true }, files: ["model.bin": model!])
        let target = "/files/model.bin"
        var etag = try #require(server.request("GET", target).header("ETag"))
        var previousETags: [String] = []
        var kinds: [String: Int] = [:]
        for index in 0..<200 {
            let step =
                model.map { Self.makeStep(&random, size: $0.count, etag: etag, previousETags: previousETags) }
                ?? Self.makeStepWithoutFile(&random)
            kinds[step.kind.split(separator: " ×").first.map(String.init) ?? step.kind, default: 0] += 1
            let response = try server.request(step.method, target, headers: step.headers, body: step.body)
            guard response.status == step.status else {
                Issue.record("seed \(seed) step \(index): \(step) answered \(response.status): \(response.text)")
                return
            }
            if (200..<300).contains(step.status) {
                switch step.whole {
                case .unchanged:
                    for write in step.writes.sorted(by: { $0.start < $1.start }) { model = applied(model!, write.bytes, at: write.start) }
                case .resize(let length): model = Array((model! + fill(0, max(0, length - model!.count))).prefix(length))
                case .replace: model = step.body
                case .delete: model = nil
                }
                previousETags.append(etag)
                if model != nil {
                    let next = try #require(response.header("ETag"))
                    #expect(next != etag && !previousETags.contains(next), "seed \(seed) step \(index): ETag reused")
                    etag = next
                }
            }
            guard let expected = model else {
                #expect(!FileManager.default.fileExists(atPath: server.path("model.bin")), "seed \(seed) step \(index): \(step)")
                #expect(try server.request("GET", target).status == 404, "seed \(seed) step \(index): \(step)")
                continue
            }
            let disk = try server.read("model.bin")
            guard disk == expected else {
                let first =
                    zip(disk, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(disk.count, expected.count)
                Issue.record(
                    "seed \(seed) step \(index): \(step): the file (\(disk.count) bytes) differs from the model (\(expected.count) bytes) at \(first)"
                )
                return
            }
            let get = try server.request("GET", target)
            #expect(get.status == 200)
            #expect(get.body == expected, "seed \(seed) step \(index): GET differs from the model")
            #expect(get.header("ETag") == etag, "seed \(seed) step \(index): \(step)")
        }
        // The sequence really mixed the forms.
        #expect(kinds.count >= 14, "\(kinds)")
    }
}
