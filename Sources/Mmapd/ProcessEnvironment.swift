/// The process environment as `NAME=value` entries, in `environ` order, read into the dictionary
/// the settings loader takes.
///
/// An environment may hold the same name twice (execve passes whatever it is given, and some
/// launchers append rather than replace). glibc's `getenv` scans `environ` from the start and
/// returns the first match, so the first entry wins here too: mmapd sees what any other program
/// reading the same environment would see. Entries without `=` are ignored.
public enum ProcessEnvironment {
    public static func variables(_ entries: some Sequence<String>) -> [String: String] {
        var variables: [String: String] = [:]
        for entry in entries {
            guard let equals = entry.firstIndex(of: "=") else { continue }
            let name = String(entry[..<equals])
            if variables[name] == nil { variables[name] = String(entry[entry.index(after: equals)...]) }
        }
        return variables
    }
}
