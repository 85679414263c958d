import Configuration
import SystemPackage

extension Settings {
    /// Builds the provider hierarchy: flags > `MMAPD_*` environment > JSON file > defaults.
    ///
    /// `arguments` are the option flags only (`--port 0 --writable`); an unknown flag is an error,
    /// since a misspelt limit silently ignored is worse than a refusal to start.
    public static func load(arguments: [String], environment: [String: String], configFile: String?) async throws(SettingsError) -> Settings
    {
        let known = Set(options.map(\.flag))
        for argument in arguments where argument.hasPrefix("--") {
            let flag = String(argument.prefix { $0 != "=" })
            guard known.contains(flag) else { throw SettingsError("unknown option '\(flag)' (see --help)") }
        }
        var providers: [any ConfigProvider] = [
            CommandLineArgumentsProvider(
                arguments: ["mmapd"] + lastOccurrences(arguments), secretsSpecifier: .specific(["--token", "--read-token"])),
            KeyMappingProvider(
                upstream: EnvironmentVariablesProvider(
                    environmentVariables: environment, secretsSpecifier: .specific(["MMAPD_TOKEN", "MMAPD_READ_TOKEN"])),
                keyMapper: { key in key.prepending(["mmapd"]) }
            )
        ]
        if let configFile {
            do {
                providers.append(try await FileProvider<JSONSnapshot>(filePath: FilePath(configFile)))
            } catch {
                throw SettingsError("cannot read config file '\(configFile)': \(error)")
            }
        }
        return try resolve(from: ConfigReader(providers: providers))
    }

    /// A repeated flag means "this one, not that one" (as with `--port 0` appended to a script's
    /// arguments), except the list options (`--token`, `--read-token`, `--cors-origins`, `--allowed-hosts`), which add up.
    private static func lastOccurrences(_ arguments: [String]) -> [String] {
        var groups: [(flag: String, words: [String])] = []
        for argument in arguments {
            if argument.hasPrefix("--") || groups.isEmpty {
                groups.append((String(argument.prefix { $0 != "=" }), [argument]))
            } else {
                groups[groups.count - 1].words.append(argument)
            }
        }
        var kept: [String] = []
        for (index, group) in groups.enumerated()
        where ["--token", "--read-token", "--cors-origins", "--allowed-hosts"].contains(group.flag)
            || !groups[(index + 1)...].contains(where: { $0.flag == group.flag })
        {
            kept += group.words
        }
        return kept
    }

    /// The option table as help text, flag and environment spellings side by side.
    public static var helpText: String {
        let width = options.map(\.flag.count).max() ?? 0
        return options.map { option in
            option.flag.padding(toLength: width + 2) + option.help + " [" + option.environment + "]"
        }.joined(separator: "\n")
    }
}

extension String {
    fileprivate func padding(toLength length: Int) -> String {
        count >= length ? self : self + String(repeating: " ", count: length - count)
    }
}
