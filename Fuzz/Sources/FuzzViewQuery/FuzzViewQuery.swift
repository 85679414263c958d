import FuzzSupport
import HTTPSemantics

/// The query parameters of the views and pages: `lines` (LineSelection), the file views
/// (FileViewParameters: lines, follow, offset, line_numbers), the viewer page
/// (ViewerParameters) and the tree search (TreeSearchParameters: globs, excludes, binary,
/// hidden, cursor). No crash on any query; every refusal a 400; what is accepted obeys the
/// documented bounds; a selection's canonical form parses back to itself; a tree search's
/// fingerprint is stable and its cursors round-trip.
///
/// Input: the raw `lines` value up to a NUL (tried alone, as LineSelection sees it), then a raw
/// query for the three parameter sets.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var input = FuzzInput(data, size)
    checkSelection(input.bytes(until: 0))
    let query = FuzzInput.text(input.rest())
    let parameters: QueryParameters
    do {
        parameters = try QueryParameters(parsing: query)
    } catch {
        invariant(error.status == 400, "query refused with \(error.status)")
        return 0
    }
    checkFileView(parameters)
    checkViewer(parameters)
    checkTreeSearch(parameters)
    return 0
}

private func checkSelection(_ value: [UInt8]) {
    let selection: LineSelection
    do {
        selection = try LineSelection(parsing: value)
    } catch {
        invariant(error.status == 400, "lines refused with \(error.status)")
        return
    }
    switch selection {
    case .range(let first, let last):
        invariant(first >= 1, "first line \(first)")
        if let last { invariant(last >= first, "range \(first)-\(last) ends before it starts") }
    case .last(let count):
        invariant(count >= 1, "last \(count) lines")
    }
    invariant(!value.isEmpty && value.allSatisfy { $0 == UInt8(ascii: "-") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) },
              "accepted a value with other bytes than digits and '-'")
    let canonical = Array(selection.canonical.utf8)
    invariant((try? LineSelection(parsing: canonical)) == selection, "canonical \(selection.canonical) does not parse back")
    let tag = EntityTag(strong: "f")
    invariant(selection.entityTag(of: tag) != tag, "the view's ETag equals the file's")
}

private func checkFileView(_ query: QueryParameters) {
    let view: FileViewParameters?
    do {
        view = try FileViewParameters.parse(query)
    } catch {
        invariant(error.status == 400, "view refused with \(error.status)")
        return
    }
    guard let view else {
        invariant(!query.contains("lines"), "lines given but no view")
        return
    }
    invariant(view.lines != nil || view.follow, "a view with neither lines nor follow")
    if !view.follow { invariant(view.offset == nil, "offset kept without follow") }
    if let offset = view.offset { invariant(offset >= 0, "negative offset \(offset)") }
    if view.follow, case .range? = view.lines { invariant(false, "follow with a lines range") }
}

private func checkViewer(_ query: QueryParameters) {
    let viewer: ViewerParameters
    do {
        viewer = try ViewerParameters(query)
    } catch {
        invariant(error.status == 400, "viewer refused with \(error.status)")
        return
    }
    if let line = viewer.line { invariant(line >= 1, "line \(line)") }
    if let offset = viewer.offset { invariant(offset >= 0, "offset \(offset)") }
    if let length = viewer.length {
        invariant(length >= 0, "length \(length)")
        invariant(viewer.offset != nil, "length without offset")
    }
    if let mode = viewer.mode { invariant(query.string("mode") == mode.rawValue, "mode \(mode) from another value") }
    invariant((try? ViewerParameters(query)) == viewer, "viewer parameters not deterministic")
}

private func checkTreeSearch(_ query: QueryParameters) {
    let search: TreeSearchParameters
    do {
        search = try TreeSearchParameters(query, directory: "d", maximumLimit: 100, maximumPatternBytes: 64)
    } catch {
        invariant(error.status == 400, "tree search refused with \(error.status)")
        return
    }
    invariant(!search.search.pattern.isEmpty, "empty pattern accepted")
    invariant((0...100).contains(search.search.limit), "limit \(search.search.limit)")
    invariant(search.filter.globs.count + search.filter.excludes.count == query.allBytes("glob").count + query.allBytes("exclude").count,
              "a glob or exclude was lost")
    let again = try? TreeSearchParameters(query, directory: "d", maximumLimit: 100, maximumPatternBytes: 64)
    invariant(again?.fingerprint == search.fingerprint, "fingerprint not stable")
    let other = try? TreeSearchParameters(query, directory: "e", maximumLimit: 100, maximumPatternBytes: 64)
    if search.cursor == nil { invariant(other?.fingerprint != search.fingerprint, "another directory, the same fingerprint") }
    if let cursor = search.cursor {
        invariant(cursor.fingerprint == search.fingerprint, "a cursor of another search accepted")
        invariant(TreeSearchCursor(encoded: Array(cursor.encoded.utf8)) == cursor, "cursor does not round-trip")
    }
    let made = TreeSearchCursor(path: Array("a/b".utf8), offset: 7, fingerprint: search.fingerprint)
    invariant(TreeSearchCursor(encoded: Array(made.encoded.utf8)) == made, "a made cursor does not round-trip")
}
