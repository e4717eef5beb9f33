/// One key of a settings file or command line: its name, what it does (for `--help`), and how its
/// text sets a field of `Settings`. A settings type lists its keys once, in a table, and every
/// reader (HAT's YAML files, a pipeline section, command-line overrides) applies that table,
/// so a key's name, type, range and destination are written in one place
/// (TrainingConfig.keyTable, EvolutionSettings.keyTable, PipelineConfig's sections).
public struct ConfigKey<Settings> {
    public let name: String
    public let help: String
    /// Sets the field from the key's text; throws `ConfigKeyProblem` saying what is expected.
    public let set: (inout Settings, String) throws -> Void

    public init(_ name: String, help: String, set: @escaping (inout Settings, String) throws -> Void) {
        self.name = name
        self.help = help
        self.set = set
    }
}

/// What was wrong with one key's text; the reader adds the file, line and key.
public struct ConfigKeyProblem: Error, CustomStringConvertible {
    public let description: String
    public init(_ message: String) { description = message }
}

extension ConfigKey {
    /// An integer of at least `min`.
    public static func integer(_ name: String, _ field: WritableKeyPath<Settings, Int>, min: Int = 1, help: String) -> ConfigKey {
        ConfigKey(name, help: help) { settings, text in settings[keyPath: field] = try parseInteger(text, min: min) }
    }

    /// An integer of at least `min`, stored as an optional (absent: nil).
    public static func integer(_ name: String, _ field: WritableKeyPath<Settings, Int?>, min: Int = 1, help: String) -> ConfigKey {
        ConfigKey(name, help: help) { settings, text in settings[keyPath: field] = try parseInteger(text, min: min) }
    }

    /// A seed: any integer ≥ 0 (a negative one is refused rather than wrapped).
    public static func seed(_ name: String, _ field: WritableKeyPath<Settings, UInt64>, help: String) -> ConfigKey {
        ConfigKey(name, help: help) { settings, text in settings[keyPath: field] = UInt64(try parseInteger(text, min: 0)) }
    }

    /// A number in `range`; `expected` says what a good value looks like ("a probability in [0, 1)").
    public static func number(
        _ name: String, _ field: WritableKeyPath<Settings, Double>, in range: ClosedRange<Double>,
        expected: String, help: String
    ) -> ConfigKey {
        ConfigKey(name, help: help) { settings, text in settings[keyPath: field] = try parseNumber(text, in: range, expected: expected) }
    }

    /// A probability in [0, 1) (dropout rates) or [0, 1] (`closed`).
    public static func probability(_ name: String, _ field: WritableKeyPath<Settings, Double>, closed: Bool = false, help: String) -> ConfigKey {
        let range = closed ? 0...1 : 0...(1 - Double.ulpOfOne)
        return number(name, field, in: range, expected: closed ? "a probability in [0, 1]" : "a probability in [0, 1)", help: help)
    }

    /// True or false (also yes/no, 1/0, any case: YAML's and Python's spellings).
    public static func flag(_ name: String, _ field: WritableKeyPath<Settings, Bool>, help: String) -> ConfigKey {
        ConfigKey(name, help: help) { settings, text in
            switch text.lowercased() {
            case "true", "yes", "1": settings[keyPath: field] = true
            case "false", "no", "0": settings[keyPath: field] = false
            default: throw ConfigKeyProblem("expected True or False, found '\(text)'")
            }
        }
    }

    /// One of an enum's raw values.
    public static func choice<Choice: RawRepresentable & CaseIterable>(
        _ name: String, _ field: WritableKeyPath<Settings, Choice>,
        help: String
    ) -> ConfigKey where Choice.RawValue == String {
        ConfigKey(name, help: help) { settings, text in
            guard let value = Choice(rawValue: text) else {
                throw ConfigKeyProblem("'\(text)' is not one of \(Choice.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            settings[keyPath: field] = value
        }
    }

    /// Text kept as written (paths, constraints parsed later).
    public static func text(_ name: String, _ field: WritableKeyPath<Settings, String?>, help: String) -> ConfigKey {
        ConfigKey(name, help: help) { settings, text in settings[keyPath: field] = text }
    }
}

extension ConfigKey {
    /// The same key setting a part of a larger settings value (a pipeline section's evolution keys
    /// set `PipelineConfig.evolution`).
    public func lifted<Outer>(into part: WritableKeyPath<Outer, Settings>) -> ConfigKey<Outer> {
        let set = self.set
        return ConfigKey<Outer>(name, help: help) { outer, text in try set(&outer[keyPath: part], text) }
    }
}

public func parseInteger(_ text: String, min: Int) throws -> Int {
    guard let v = Int(text), v >= min else {
        throw ConfigKeyProblem(min == 0 ? "must be an integer ≥ 0, not '\(text)'" : "must be an integer ≥ \(min), not '\(text)'")
    }
    return v
}

public func parseNumber(_ text: String, in range: ClosedRange<Double>, expected: String) throws -> Double {
    guard let v = Double(text), v.isFinite, range.contains(v) else { throw ConfigKeyProblem("must be \(expected), not '\(text)'") }
    return v
}

/// Where a key's text came from, for error messages: a file (with its line) or the command line.
public struct ConfigKeySource {
    public let text: String
    /// The file (`path:line`) or "<command line>".
    public let location: String
    public init(text: String, location: String) {
        self.text = text
        self.location = location
    }
}

extension Array {
    /// Applies the keys present in `values` (key → text and where it came from) in the table's
    /// order, so settings that depend on others see them set; unknown keys are the caller's to
    /// check. Errors name the location and key.
    public func apply<Settings>(_ values: [String: ConfigKeySource], to settings: inout Settings, keyPrefix: String = "") throws
    where Element == ConfigKey<Settings> {
        for key in self {
            guard let value = values[key.name] else { continue }
            do {
                try key.set(&settings, value.text.trimmingCharacters(in: .whitespaces))
            } catch let problem as ConfigKeyProblem {
                throw ConfigError(file: value.location, key: keyPrefix + key.name, problem.description)
            }
        }
    }

    /// The help text of the key `name` (a command-line option that sets it shows the same words).
    public func help<Settings>(for name: String) -> String where Element == ConfigKey<Settings> {
        first { $0.name == name }.map { $0.help.prefix(1).uppercased() + $0.help.dropFirst() + "." } ?? ""
    }

    /// The table's names.
    public func names<Settings>() -> Set<String> where Element == ConfigKey<Settings> { Set(map(\.name)) }
}
