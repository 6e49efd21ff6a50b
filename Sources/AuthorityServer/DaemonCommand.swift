import Foundation

/// What `authorityd`'s command line asks for, read from `ServerConfiguration.settings`:
/// `--help`, `--version`, or to run with `--config FILE` and the flags over it.
public enum DaemonCommand: Sendable {
    case help
    case version
    case run(DaemonFlags)

    /// Reads `arguments` (after the program name): `--flag value`, `--flag=value`, or a switch.
    public init(arguments: [String]) throws(UsageError) {
        if arguments.contains(where: { $0 == "--help" || $0 == "-h" }) {
            self = .help
        } else if arguments.contains("--version") {
            self = .version
        } else {
            self = .run(try DaemonFlags(arguments))
        }
    }

    /// The arguments after the program name. Swift on Linux finds them by walking back from
    /// `environ`, which fails (no arguments at all) when a preloaded library such as libfaketime
    /// has changed the environment before `main`: then they are read from /proc/self/cmdline.
    public static func processArguments() -> [String] {
        let arguments = Array(CommandLine.arguments.dropFirst())
        guard arguments.isEmpty, let data = FileManager.default.contents(atPath: "/proc/self/cmdline") else {
            return arguments
        }
        return Array(
            data.split(separator: 0, omittingEmptySubsequences: false).dropFirst().map {
                String(decoding: $0, as: UTF8.self)
            }
            .dropLast(data.last == 0 ? 1 : 0))
    }

    /// `authorityd --help`: every flag with its help, default and accepted values.
    public static let usage: String = {
        let config = (
            "--config <file>",
            "JSON configuration file (its members are the flags' names with _ for -); flags override it."
        )
        let settings = ServerConfiguration.settings.map { setting in
            let notes = [setting.defaultText.map { "default: " + $0 }, setting.accepted].compactMap(\.self)
            return (
                [setting.flag, setting.placeholder].compactMap(\.self).joined(separator: " "),
                setting.help + (notes.isEmpty ? "" : " (" + notes.joined(separator: "; ") + ")")
            )
        }
        let entries =
            [config] + settings + [("--version", "Show the version."), ("-h, --help", "Show help information.")]
        return """
            OVERVIEW: Issues and checks Ed25519-signed temporary links over HTTP on a Unix socket.

            USAGE: authorityd [--config <file>] [<options>]

            OPTIONS:

            """ + entries.map(option).joined()
    }()

    /// One option of `--help`: the flag in a column of 24, its help wrapped to 80 columns.
    private static func option(_ flag: String, _ help: String) -> String {
        var lines = [String]()
        for word in help.split(separator: " ") {
            if let last = lines.last, last.count + 1 + word.count <= 80 - 26 {
                lines[lines.count - 1] += " " + word
            } else {
                lines.append(String(word))
            }
        }
        let indent = String(repeating: " ", count: 26)
        let head =
            flag.count <= 22
            ? "  " + flag.padding(toLength: 24, withPad: " ", startingAt: 0) : "  " + flag + "\n" + indent
        return head + lines.joined(separator: "\n" + indent) + "\n"
    }
}

/// The flags of one start: the configuration file they name and the settings they give.
public struct DaemonFlags: Sendable {
    var configFile: String?
    var assignments = [Assignment]()

    init(_ arguments: [String]) throws(UsageError) {
        var rest = arguments[...]
        while let argument = rest.popFirst() {
            guard argument.hasPrefix("--") else { throw UsageError("Unexpected argument '\(argument)'") }
            let flag = String(argument.prefix { $0 != "=" })
            let attached = argument.contains("=") ? String(argument.drop { $0 != "=" }.dropFirst()) : nil
            if flag == "--config" {
                configFile = try Self.value(of: flag, "<file>", attached, &rest)
            } else if let setting = ServerConfiguration.settings.first(where: { $0.flag == flag }) {
                let value = try Self.value(of: flag, setting.placeholder, attached, &rest)
                guard let assignment = setting.parse(value) else {
                    throw UsageError("The value '\(value ?? "")' is invalid for '\(flag) \(setting.placeholder ?? "")'")
                }
                assignments.append(assignment)
            } else if ServerConfiguration.removedSettings.contains(String(flag.dropFirst(2))) {
                throw UsageError(
                    "\(flag) was removed: " + ServerConfiguration.dialectReplacement("--forward-auth-dialect"))
            } else {
                throw UsageError("Unknown option '\(flag)'")
            }
        }
    }

    /// The value given to `flag`: attached (`--flag=value`) or the next argument unless that looks
    /// like a flag; nil for a switch (`placeholder` nil), which takes none.
    private static func value(
        of flag: String, _ placeholder: String?, _ attached: String?, _ rest: inout ArraySlice<String>
    ) throws(UsageError) -> String? {
        guard let placeholder else {
            guard let attached else { return nil }
            throw UsageError("The option '\(flag)' does not take any value, but '\(attached)' was specified")
        }
        if let attached { return attached }
        guard let next = rest.first, !next.hasPrefix("-") else {
            throw UsageError("Missing value for '\(flag) \(placeholder)'")
        }
        rest.removeFirst()
        return next
    }

    /// Defaults ← the configuration file ← the flags, validated.
    public func configuration() throws(ConfigurationError) -> ServerConfiguration {
        var configuration = ServerConfiguration()
        if let configFile { try configuration.apply(file: configFile) }
        for assignment in assignments { try assignment(&configuration) }
        try configuration.validate()
        return configuration
    }
}

/// A mistake in `authorityd`'s arguments: one line on stderr, exit status 2.
public struct UsageError: Error, Equatable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
