import Foundation

/// One setting of `authorityd`, declared once in `ServerConfiguration.settings`: its flag, its
/// configuration-file member (the flag's name with `_` for `-`), its help and the values it
/// accepts. Its default is the `ServerConfiguration` property's own. The flags, `--help`, the
/// configuration file and `validate()` are all read from the table.
public struct Setting: Sendable {
    /// The flag: `--max-ttl`, or `--no-revocations` for a switch that is on by default.
    public let flag: String
    /// The configuration-file member (`max_ttl`, `revocations`); nil for a flag-only setting.
    public let member: String?
    /// What follows the flag in `--help` (`<seconds>`); nil for a switch, which takes no value.
    public let placeholder: String?
    public let help: String
    /// The default as `--help` shows it; nil when there is none to show.
    public let defaultText: String?
    /// The values accepted as `--help` and the refusal say them (`1 to 31536000 seconds`); nil: any.
    public let accepted: String?
    /// What `validate()` says of a value outside them: `max-ttl must be 1 to 31536000 seconds`.
    public let refusal: String
    let isValid: @Sendable (ServerConfiguration) -> Bool
    /// Reads the flag's value (nil for a switch); nil when it is malformed (not an integer).
    let parse: @Sendable (String?) -> Assignment?
    /// Reads the configuration-file member; nil when it is absent or null.
    let decode: @Sendable (KeyedDecodingContainer<MemberKey>) throws -> Assignment?

    /// The general form: the flag's text is read by `fromText`, the file member as `Raw`, and
    /// either is stored by `store` (which may refuse it, as an octal mode or a dialect can).
    init<Raw: Decodable & Sendable>(
        _ name: String, flag: String? = nil, inFile: Bool = true, placeholder: String?, help: String,
        default defaultText: String?, accepted: String?, refusal: String? = nil,
        isValid: @escaping @Sendable (ServerConfiguration) -> Bool = { _ in true },
        fromText: @escaping @Sendable (String?) -> Raw?,
        store: @escaping @Sendable (Raw, inout ServerConfiguration) throws(ConfigurationError) -> Void
    ) {
        let member = inFile ? Self.member(name) : nil
        self.flag = "--" + (flag ?? name)
        self.member = member
        self.placeholder = placeholder
        self.help = help
        self.defaultText = defaultText
        self.accepted = accepted
        self.refusal = refusal ?? accepted.map { "\(name) must be \($0)" } ?? "\(name) is invalid"
        self.isValid = isValid
        @Sendable func assigning(_ raw: Raw) -> Assignment {
            { (configuration: inout ServerConfiguration) throws(ConfigurationError) in try store(raw, &configuration) }
        }
        parse = { text in fromText(text).map(assigning) }
        decode = { container in
            guard let member, let raw = try container.decodeIfPresent(Raw.self, forKey: MemberKey(member)) else {
                return nil
            }
            return assigning(raw)
        }
    }

    /// The configuration-file member of the setting `name`: `max-ttl` → `max_ttl`.
    static func member(_ name: String) -> String { name.replacingOccurrences(of: "-", with: "_") }
}

/// Sets one setting on a configuration.
typealias Assignment = @Sendable (inout ServerConfiguration) throws(ConfigurationError) -> Void

struct MemberKey: CodingKey {
    let stringValue: String
    init(_ member: String) { stringValue = member }
    init?(stringValue: String) { self.init(stringValue) }
    var intValue: Int? { nil }
    init?(intValue: Int) { nil }
}

extension Setting {
    /// A string stored as it is: a path, a group; `isValid` and `refusal` say what it must be.
    static func text(
        _ name: String, _ path: WritableKeyPath<ServerConfiguration, String> & Sendable,
        _ placeholder: String = "<path>",
        help: String, refusal: String? = nil, isValid: @escaping @Sendable (String) -> Bool = { _ in true }
    ) -> Setting {
        Setting(
            name, placeholder: placeholder, help: help, default: ServerConfiguration()[keyPath: path], accepted: nil,
            refusal: refusal, isValid: { isValid($0[keyPath: path]) },
            fromText: { $0 }, store: { text, configuration in configuration[keyPath: path] = text })
    }

    /// A string that may be absent; `defaultText` says what its absence means.
    static func text(
        _ name: String, _ path: WritableKeyPath<ServerConfiguration, String?> & Sendable,
        _ placeholder: String = "<path>", inFile: Bool = true,
        default defaultText: String? = nil, help: String, refusal: String? = nil,
        isValid: @escaping @Sendable (String) -> Bool = { _ in true }
    ) -> Setting {
        Setting(
            name, inFile: inFile, placeholder: placeholder, help: help, default: defaultText ?? ServerConfiguration()[keyPath: path],
            accepted: nil, refusal: refusal, isValid: { $0[keyPath: path].map(isValid) ?? true },
            fromText: { $0 }, store: { text, configuration in configuration[keyPath: path] = text })
    }

    /// An integer within `lower` to `upper` (either may be another setting's value); with
    /// `zeroIsOff`, 0 is accepted too and switches the feature off.
    static func integer<Value: FixedWidthInteger & Decodable & Sendable>(
        _ name: String, _ path: WritableKeyPath<ServerConfiguration, Value> & Sendable, _ lower: Limit<Value>,
        _ upper: Limit<Value>, _ unit: String? = nil, zeroIsOff: Bool = false, default defaultText: String? = nil,
        help: String
    ) -> Setting {
        let span = "\(lower.text) to \(upper.text)" + (unit.map { " " + $0 } ?? "")
        let accepted = !zeroIsOff ? span : lower.text == "0" ? "0 (off)" + span.dropFirst() : "0 (off) or " + span
        return Setting(
            name, placeholder: "<\(unit ?? "n")>", help: help,
            default: defaultText ?? "\(ServerConfiguration()[keyPath: path])",
            accepted: accepted,
            isValid: { configuration in
                let value = configuration[keyPath: path]
                return (zeroIsOff && value == 0)
                    || (lower.value(configuration) <= value && value <= upper.value(configuration))
            },
            fromText: { $0.flatMap { Value($0) } },
            store: { value, configuration in configuration[keyPath: path] = value })
    }

    /// One of `choices`, named as they are.
    static func choice(
        _ name: String, _ path: WritableKeyPath<ServerConfiguration, String> & Sendable, _ placeholder: String,
        among choices: [String], help: String
    ) -> Setting {
        let accepted = orList(choices)
        return Setting(
            name, placeholder: placeholder, help: help, default: ServerConfiguration()[keyPath: path],
            accepted: accepted,
            isValid: { choices.contains($0[keyPath: path]) },
            fromText: { $0 }, store: { text, configuration in configuration[keyPath: path] = text })
    }

    /// A switch: the flag (`--name`, or `--no-name` when it is on by default) turns it from its
    /// default; the file member, if any, is `true` or `false`.
    static func toggle(
        _ name: String, _ path: WritableKeyPath<ServerConfiguration, Bool> & Sendable, inFile: Bool = true,
        help: String
    ) -> Setting {
        let isOn = ServerConfiguration()[keyPath: path]
        return Setting(
            name, flag: isOn ? "no-" + name : name, inFile: inFile, placeholder: nil, help: help, default: nil,
            accepted: nil,
            fromText: { $0 == nil ? !isOn : nil },
            store: { value, configuration in configuration[keyPath: path] = value })
    }

    /// `a, b or c`.
    static func orList(_ words: [String]) -> String {
        words.count < 2 ? words.joined() : words.dropLast().joined(separator: ", ") + " or " + words[words.count - 1]
    }
}

/// A bound of an integer setting: a number, or another setting's value.
struct Limit<Value: FixedWidthInteger & Sendable>: Sendable, ExpressibleByIntegerLiteral {
    let text: String
    let value: @Sendable (ServerConfiguration) -> Value

    init(integerLiteral literal: Int64) {
        let bound = Value(literal)  // traps only on a literal of the table that does not fit: a programming error
        text = "\(bound)"
        value = { _ in bound }
    }

    private init(_ name: String, _ path: KeyPath<ServerConfiguration, Value> & Sendable) {
        text = name
        value = { $0[keyPath: path] }
    }

    /// Bounded by the setting `name`'s value.
    static func setting(_ name: String, _ path: KeyPath<ServerConfiguration, Value> & Sendable) -> Limit {
        Limit(name, path)
    }
}
