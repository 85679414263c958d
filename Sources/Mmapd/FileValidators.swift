import HTTPSemantics
import MappedFiles

extension Validators {
    /// The validators of a file as stat describes it, plus the write generation this process
    /// keeps for it.
    ///
    /// The strong ETag covers every way the bytes can change: a replacement by rename (inode),
    /// growth or truncation (size), a rewrite within the same second (mtime in nanoseconds), a
    /// writer that restores mtime afterwards (ctime), and two PATCHes within one clock tick
    /// (`generation`, bumped by every write this server makes).
    init(_ identity: FileIdentity, generation: UInt64 = 0) {
        let parts = [identity.inode, identity.size, UInt64(bitPattern: identity.modified), UInt64(bitPattern: identity.changed), generation]
        self.init(
            etag: EntityTag(strong: parts.map { String($0, radix: 16) }.joined(separator: "-")),
            lastModified: identity.modifiedSeconds
        )
    }

    var headers: [(name: String, value: String)] {
        [("ETag", etag.headerValue), ("Last-Modified", HTTPDate.format(lastModified))]
    }
}
