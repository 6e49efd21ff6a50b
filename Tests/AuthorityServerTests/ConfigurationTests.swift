import AuthorityTesting
import Foundation
import Testing
@testable import AuthorityServer

@Suite struct ConfigurationTests {
    func write(_ text: String, in directory: TemporaryDirectory, name: String = "file.json") -> String {
        _ = FileManager.default.createFile(atPath: directory.path + "/" + name, contents: Data(text.utf8))
        return directory.path + "/" + name
    }

    @Test func fileMembersMirrorTheFlags() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var configuration = ServerConfiguration()
        try configuration.apply(file: write(#"""
            {"socket": "/run/x.sock", "socket_mode": "0600", "state_dir": "/s", "max_ttl": 60, "revocations": false,
             "log_level": "debug", "body_limit": 2048}
            """#, in: directory))
        #expect(configuration.socketPath == "/run/x.sock" && configuration.socketMode == 0o600)
        #expect(configuration.stateDirectory == "/s" && configuration.maxTTL == 60 && !configuration.revocationsEnabled)
        #expect(configuration.logLevel == "debug" && configuration.bodyLimit == 2048)
        try configuration.validate()
    }

    @Test(arguments: [#"{"sockett": "/x"}"#, #"{"max_ttl": "60"}"#, #"{"revocations": 1}"#, "[1]", "nope",
                      #"{"socket_mode": "999"}"#])
    func badFilesAreRefused(text: String) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var configuration = ServerConfiguration()
        #expect(throws: ConfigurationError.self) { try configuration.apply(file: write(text, in: directory)) }
    }

    @Test func forwardAuthDialectFromTheFileAndTheRemovedMembers() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var configuration = ServerConfiguration()
        #expect(configuration.forwardAuthDialect == nil, "no dialect unless the operator names one")
        try configuration.apply(file: write(#"{"forward_auth_dialect": "caddy"}"#, in: directory))
        #expect(configuration.forwardAuthDialect == .caddy)
        for text in [#"{"forward_auth_dialect": "auto"}"#, #"{"forward_auth_dialect": "Nginx"}"#] {
            #expect(throws: ConfigurationError.self) { try configuration.apply(file: write(text, in: directory)) }
        }
        for member in ["forward_auth_headers", "forward_auth_client_ip"] {
            let error = #expect(throws: ConfigurationError.self) {
                try configuration.apply(file: write(#"{"\#(member)": "auto"}"#, in: directory))
            }
            #expect(error?.description.contains("unknown member \"\(member)\" (removed)") == true, "\(String(describing: error))")
            #expect(error?.description.contains("\"forward_auth_dialect\"") == true)
        }
    }

    @Test func verifyCacheEntriesFromTheFileAndItsRange() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var configuration = ServerConfiguration()
        #expect(configuration.verifyCacheEntries == 65_536)
        try configuration.apply(file: write(#"{"verify_cache_entries": 0}"#, in: directory))
        #expect(configuration.verifyCacheEntries == 0)
        try configuration.validate()
        for good in [1, 16_777_216] {
            configuration.verifyCacheEntries = good
            try configuration.validate()
        }
        for bad in [-1, 16_777_217] {
            configuration.verifyCacheEntries = bad
            let error = #expect(throws: ConfigurationError.self) { try configuration.validate() }
            #expect(error?.description == "configuration: verify-cache-entries must be 0 (off) to 16777216")
        }
        let path = write(#"{"verify_cache_entries": "many"}"#, in: directory)
        let error = #expect(throws: ConfigurationError.self) { try configuration.apply(file: path) }
        #expect(error == .invalid(path, "\"verify_cache_entries\" must be an integer"))
    }

    @Test func connectionLimitsFromTheFileAndTheirRanges() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var configuration = ServerConfiguration()
        #expect(configuration.requestTimeout == 10 && configuration.idleTimeout == 75)
        #expect(configuration.maxConnections == 8_192 && configuration.maxConnectionsPerUID == 2_048)
        #expect(configuration.writeBufferLimit == 65_536 && configuration.writeBufferHardLimit == 4_194_304)
        try configuration.apply(file: write(#"""
            {"request_timeout": 5, "idle_timeout": 30, "max_connections": 100, "max_connections_per_uid": 10,
             "write_buffer_limit": 8192, "write_buffer_hard_limit": 65536}
            """#, in: directory))
        #expect(configuration.requestTimeout == 5 && configuration.idleTimeout == 30)
        #expect(configuration.maxConnections == 100 && configuration.maxConnectionsPerUID == 10)
        #expect(configuration.writeBufferLimit == 8_192 && configuration.writeBufferHardLimit == 65_536)
        try configuration.validate()
        let bad: [(WritableKeyPath<ServerConfiguration, Int>, Int, String)] = [
            (\.maxConnections, 0, "max-connections must be 1 to 1048576"),
            (\.maxConnectionsPerUID, 101, "max-connections-per-uid must be 1 to max-connections"),
            (\.maxConnectionsPerUID, 0, "max-connections-per-uid must be 1 to max-connections"),
            (\.writeBufferLimit, 1_024, "write-buffer-limit must be 4096 to 16777216 bytes"),
            (\.writeBufferHardLimit, 4_096, "write-buffer-hard-limit must be write-buffer-limit to 1073741824 bytes"),
        ]
        for (member, value, message) in bad {
            var wrong = configuration
            wrong[keyPath: member] = value
            let error = #expect(throws: ConfigurationError.self) { try wrong.validate() }
            #expect(error?.description == "configuration: \(message)")
        }
        for (member, value) in [(\ServerConfiguration.requestTimeout, 0), (\.requestTimeout, 3_601), (\.idleTimeout, 0)] {
            var wrong = configuration
            wrong[keyPath: member] = Int64(value)
            #expect(throws: ConfigurationError.self) { try wrong.validate() }
        }
    }

    @Test func validationRefusesNonsense() throws {
        var configuration = ServerConfiguration()
        configuration.maxTTL = 0
        #expect(throws: ConfigurationError.self) { try configuration.validate() }
        configuration = ServerConfiguration()
        configuration.socketPath = "/" + String(repeating: "s", count: 120)
        #expect(throws: ConfigurationError.self) { try configuration.validate() }
        configuration = ServerConfiguration()
        configuration.logLevel = "loud"
        #expect(throws: ConfigurationError.self) { try configuration.validate() }
        #expect(throws: ConfigurationError.self) { try ServerConfiguration.parseMode("rw-") }
        #expect(try ServerConfiguration.parseMode("660") == 0o660)
    }
}

/// `ServerConfiguration.settings` held to account: each row against values written out here.
@Suite struct SettingsTableTests {
    /// An integer setting's bounds and refusal. A bound that is another setting's value is at
    /// its default; `with` keeps the other settings valid at both bounds.
    struct Bounds: Sendable, CustomTestStringConvertible {
        let flag: String, lower: Int64, upper: Int64, refusal: String
        var with: [String] = []
        var testDescription: String { flag }
    }

    static let bounds: [Bounds] = [
        Bounds(flag: "--max-ttl", lower: 1, upper: 31_536_000, refusal: "max-ttl must be 1 to 31536000 seconds"),
        Bounds(flag: "--not-before-leeway", lower: 0, upper: 86_400, refusal: "not-before-leeway must be 0 to 86400 seconds"),
        Bounds(flag: "--body-limit", lower: 1_024, upper: 16_777_216, refusal: "body-limit must be 1024 to 16777216 bytes"),
        Bounds(flag: "--rotation-interval", lower: 60, upper: 315_360_000,
               refusal: "rotation-interval must be 0 (off) or 60 to 315360000 seconds"),
        Bounds(flag: "--maintenance-interval", lower: 1, upper: 86_400, refusal: "maintenance-interval must be 1 to 86400 seconds"),
        Bounds(flag: "--event-retention", lower: 60, upper: 31_536_000, refusal: "event-retention must be 60 to 31536000 seconds"),
        Bounds(flag: "--expiring-soon", lower: 60, upper: 31_536_000, refusal: "expiring-soon must be 0 (off) or 60 to 31536000 seconds"),
        Bounds(flag: "--event-loops", lower: 1, upper: 256, refusal: "event-loops must be 1 to 256"),
        Bounds(flag: "--blocking-threads", lower: 1, upper: 64, refusal: "blocking-threads must be 1 to 64"),
        Bounds(flag: "--forward-auth-max-age", lower: 0, upper: 86_400, refusal: "forward-auth-max-age must be 0 to 86400 seconds"),
        Bounds(flag: "--bundle-max-age", lower: 10, upper: 604_800, refusal: "bundle-max-age must be 10 to 604800 seconds"),
        Bounds(flag: "--max-staleness", lower: 1, upper: 3_600, refusal: "max-staleness must be 1 to 3600 seconds"),
        Bounds(flag: "--password-max-failures", lower: 1, upper: 1_000, refusal: "password-max-failures must be 1 to 1000"),
        Bounds(flag: "--password-lockout", lower: 1, upper: 86_400, refusal: "password-lockout must be 1 to 86400 seconds"),
        Bounds(flag: "--password-threads", lower: 1, upper: 8, refusal: "password-threads must be 1 to 8"),
        Bounds(flag: "--cookie-ttl", lower: 1, upper: 604_800, refusal: "cookie-ttl must be 1 to 604800 seconds"),
        Bounds(flag: "--grant-cookie-idle", lower: 60, upper: 604_800, refusal: "grant-cookie-idle must be 60 to 604800 seconds"),
        Bounds(flag: "--verify-cache-entries", lower: 0, upper: 16_777_216, refusal: "verify-cache-entries must be 0 (off) to 16777216"),
        Bounds(flag: "--request-timeout", lower: 1, upper: 3_600, refusal: "request-timeout must be 1 to 3600 seconds"),
        Bounds(flag: "--idle-timeout", lower: 1, upper: 86_400, refusal: "idle-timeout must be 1 to 86400 seconds"),
        Bounds(flag: "--max-connections", lower: 1, upper: 1_048_576, refusal: "max-connections must be 1 to 1048576",
               with: ["--max-connections-per-uid", "1"]),
        Bounds(flag: "--max-connections-per-uid", lower: 1, upper: 8_192,
               refusal: "max-connections-per-uid must be 1 to max-connections"),
        Bounds(flag: "--write-buffer-limit", lower: 4_096, upper: 16_777_216, refusal: "write-buffer-limit must be 4096 to 16777216 bytes",
               with: ["--write-buffer-hard-limit", "1073741824"]),
        Bounds(flag: "--write-buffer-hard-limit", lower: 65_536, upper: 1_073_741_824,
               refusal: "write-buffer-hard-limit must be write-buffer-limit to 1073741824 bytes"),
    ]

    /// One value (not the default) of every setting, as flags and as a file member (nil: flag-only).
    static let samples: [(flags: [String], member: String?)] = [
        (["--socket", "/run/x.sock"], #""socket": "/run/x.sock""#),
        (["--state-dir", "/s"], #""state_dir": "/s""#),
        (["--socket-mode", "0600"], #""socket_mode": "0600""#),
        (["--socket-group", "www-data"], #""socket_group": "www-data""#),
        (["--database", "/d.sqlite"], #""database": "/d.sqlite""#),
        (["--database-password-file", "/pw"], #""database_password_file": "/pw""#),
        (["--master-key-file", "/k"], #""master_key_file": "/k""#),
        (["--policy", "/p.json"], #""policy": "/p.json""#),
        (["--no-revocations"], #""revocations": false"#),
        (["--adopt-database"], nil),
        (["--grant-cookie-insecure"], #""grant_cookie_insecure": true"#),
        (["--import-sqlite", "/old"], nil),
        (["--forward-auth-dialect", "caddy"], #""forward_auth_dialect": "caddy""#),
        (["--log-level", "debug"], #""log_level": "debug""#),
    ] + bounds.map { ([$0.flag, "\($0.upper)"], "\"\($0.flag.dropFirst(2).replacingOccurrences(of: "-", with: "_"))\": \($0.upper)") }

    static func configuration(_ arguments: [String]) throws -> ServerConfiguration {
        guard case .run(let flags) = try DaemonCommand(arguments: arguments) else { throw UsageError("not a run") }
        return try flags.configuration()
    }

    /// The flags alone, without the file and without `validate()`.
    static func flagsOnly(_ arguments: [String]) throws -> ServerConfiguration {
        var configuration = ServerConfiguration()
        for assignment in try DaemonFlags(arguments).assignments { try assignment(&configuration) }
        return configuration
    }

    /// The properties in which `configuration` differs from the defaults.
    static func changed(_ configuration: ServerConfiguration) -> [String] {
        zip(Mirror(reflecting: ServerConfiguration()).children, Mirror(reflecting: configuration).children)
            .filter { "\($0.value)" != "\($1.value)" }.compactMap(\.0.label)
    }

    @Test func everySettingHasAFlagAMemberAHelpAndATest() {
        let settings = ServerConfiguration.settings
        #expect(Set(settings.map(\.flag)).count == settings.count, "a flag declared twice")
        #expect(Set(settings.map(\.flag)) == Set(Self.samples.map { $0.flags[0] }), "a setting without a sample here, or a sample too many")
        let notTheFlag = ["--no-revocations": "revocations", "--adopt-database": nil, "--import-sqlite": nil] as [String: String?]
        for setting in settings {
            #expect(setting.flag.hasPrefix("--") && setting.flag.count > 3)
            #expect(setting.help.count > 10 && setting.help.hasSuffix("."), "\(setting.flag): \(setting.help)")
            let expected = notTheFlag[setting.flag] ?? setting.flag.dropFirst(2).replacingOccurrences(of: "-", with: "_")
            #expect(setting.member == expected, "\(setting.flag) → \(String(describing: setting.member))")
            #expect(setting.isValid(ServerConfiguration()), "\(setting.flag): its default is outside its range")
            #expect((setting.placeholder == nil) == ["--no-revocations", "--adopt-database", "--grant-cookie-insecure"].contains(setting.flag), "\(setting.flag)")
        }
    }

    /// Each setting sets exactly one property, its own, the same from a flag as from the file; every
    /// property has one.
    @Test func everySettingSetsOneOwnPropertyFromTheFlagAndTheFile() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var properties = [String]()
        for (flags, member) in Self.samples {
            let viaFlags = try Self.flagsOnly(flags)
            let changed = Self.changed(viaFlags)
            #expect(changed.count == 1, "\(flags) changed \(changed)")
            properties += changed
            guard let member else { continue }
            var viaFile = ServerConfiguration()
            let path = directory.path + "/c.json"
            _ = FileManager.default.createFile(atPath: path, contents: Data("{\(member)}".utf8))
            try viaFile.apply(file: path)
            #expect(viaFile == viaFlags, "\(flags) and {\(member)}")
        }
        #expect(Set(properties).count == properties.count, "two settings set one property: \(properties)")
        #expect(properties.count == Mirror(reflecting: ServerConfiguration()).children.count, "a property without a setting")
    }

    @Test(arguments: bounds)
    func boundsAreAcceptedAndOneBeyondRefused(_ bounds: Bounds) throws {
        for good in [bounds.lower, bounds.upper] {
            _ = try Self.configuration(bounds.with + ["\(bounds.flag)=\(good)"])
        }
        for bad in [bounds.lower - 1, bounds.upper + 1] {
            let error = #expect(throws: ConfigurationError.self, "\(bad)") { try Self.configuration(bounds.with + ["\(bounds.flag)=\(bad)"]) }
            #expect(error == .invalid("configuration", bounds.refusal))
        }
    }

    @Test func theOtherRangesAndTheirRefusals() throws {
        let refused: [([String], String)] = [
            (["--socket", "/" + String(repeating: "s", count: 107)], "socket path longer than 107 bytes"),
            (["--log-level", "loud"], "log-level must be trace, debug, info, notice, warning, error or critical"),
        ]
        for (arguments, refusal) in refused {
            let error = #expect(throws: ConfigurationError.self) { try Self.configuration(arguments) }
            #expect(error == .invalid("configuration", refusal))
        }
        _ = try Self.configuration(["--socket", "/" + String(repeating: "s", count: 106)])
        for level in ["trace", "debug", "info", "notice", "warning", "error", "critical"] { _ = try Self.configuration(["--log-level", level]) }
        #expect(try Self.configuration(["--rotation-interval", "0"]).rotationInterval == 0)
        var configuration = ServerConfiguration()
        configuration.socketMode = 0o1000
        #expect(throws: ConfigurationError.invalid("configuration", "socket mode must be an octal mode such as 0660")) { try configuration.validate() }
        #expect(throws: ConfigurationError.invalid("socket mode", #""999" is not an octal mode such as 0660"#)) {
            try Self.configuration(["--socket-mode", "999"])
        }
        #expect(throws: ConfigurationError.invalid("forward-auth-dialect", "must be one of nginx, caddy, traefik or envoy")) {
            try Self.configuration(["--forward-auth-dialect", "Nginx"])
        }
    }

    @Test(arguments: [
        (["--no-such"], "Unknown option '--no-such'"),
        (["--no-such=1"], "Unknown option '--no-such'"),
        (["--max-ttl"], "Missing value for '--max-ttl <seconds>'"),
        (["--max-ttl", "--body-limit", "2048"], "Missing value for '--max-ttl <seconds>'"),
        (["--max-ttl", "soon"], "The value 'soon' is invalid for '--max-ttl <seconds>'"),
        (["--body-limit", "1.5"], "The value '1.5' is invalid for '--body-limit <bytes>'"),
        (["--max-ttl", "99999999999999999999"], "The value '99999999999999999999' is invalid for '--max-ttl <seconds>'"),
        (["--no-revocations=yes"], "The option '--no-revocations' does not take any value, but 'yes' was specified"),
        (["--config"], "Missing value for '--config <file>'"),
        (["extra"], "Unexpected argument 'extra'"),
        (["-v"], "Unexpected argument '-v'"),
        (["--revocations"], "Unknown option '--revocations'"),
        (["--forward-auth-headers", "auto"], "--forward-auth-headers was removed: "
            + ServerConfiguration.dialectReplacement("--forward-auth-dialect")),
        (["--forward-auth-client-ip=x-real-ip"], "--forward-auth-client-ip was removed: "
            + ServerConfiguration.dialectReplacement("--forward-auth-dialect")),
    ])
    func usageErrors(_ arguments: [String], _ message: String) {
        #expect(throws: UsageError(message)) { try DaemonCommand(arguments: arguments) }
    }

    @Test func flagsOverrideTheFileWhichOverridesTheDefaults() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path + "/c.json"
        _ = FileManager.default.createFile(atPath: path, contents: Data(#"{"max_ttl": 60, "log_level": "debug", "revocations": false}"#.utf8))
        let configuration = try Self.configuration(["--max-ttl", "120", "--config", path])
        #expect(configuration.maxTTL == 120 && configuration.logLevel == "debug" && !configuration.revocationsEnabled)
        #expect(configuration.bodyLimit == ServerConfiguration().bodyLimit)
        #expect(try Self.configuration(["--max-ttl=5", "--max-ttl", "7"]).maxTTL == 7, "the last flag wins")
        #expect(try Self.configuration(["--adopt-database"]).adoptDatabase)
        _ = FileManager.default.createFile(atPath: path, contents: Data(#"{"adopt_database": true}"#.utf8))
        #expect(throws: ConfigurationError.invalid(path, #"unknown member "adopt_database""#)) {
            try Self.configuration(["--config", path])
        }
        #expect(throws: ConfigurationError.unreadable(directory.path + "/none.json")) {
            try Self.configuration(["--config", directory.path + "/none.json"])
        }
    }

    @Test func helpAndVersionWinOverEverythingElse() throws {
        guard case .help = try DaemonCommand(arguments: ["--max-ttl", "soon", "--help"]) else { throw UsageError("not help") }
        guard case .help = try DaemonCommand(arguments: ["-h"]) else { throw UsageError("not help") }
        guard case .version = try DaemonCommand(arguments: ["--no-such", "--version"]) else { throw UsageError("not version") }
        guard case .run = try DaemonCommand(arguments: []) else { throw UsageError("not run") }
    }

    /// `--help` lists every flag with its placeholder, help, default and accepted values.
    @Test func helpListsEveryFlag() {
        let usage = DaemonCommand.usage.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        for setting in ServerConfiguration.settings {
            let synopsis = [setting.flag, setting.placeholder].compactMap(\.self).joined(separator: " ")
            let notes = [setting.defaultText.map { "default: " + $0 }, setting.accepted].compactMap(\.self).joined(separator: "; ")
            #expect(usage.contains(synopsis + " " + setting.help + (notes.isEmpty ? "" : " (\(notes))")), "\(synopsis)")
        }
        for expected in ["--max-ttl <seconds> Longest link lifetime. (default: 604800; 1 to 31536000 seconds)",
                         "--no-revocations Switch the revocation list off.", "--socket-mode <mode> Mode of the socket file, octal. (default: 0660)",
                         "--event-loops <n> Event loop threads. (default: one per core; 1 to 256)",
                         "--config <file>", "--version", "-h, --help", "USAGE: authorityd"] {
            #expect(usage.contains(expected), "\(expected)")
        }
        #expect(!usage.contains("forward-auth-headers") && !usage.contains("forward-auth-client-ip"))
        #expect(DaemonCommand.usage.split(separator: "\n").allSatisfy { $0.count <= 80 || $0.hasPrefix("OVERVIEW") })
    }

    /// The configuration shipped in Systemd/ names only settings that exist, within their ranges.
    @Test func theShippedConfigurationApplies() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Systemd/authorityd.json").path
        var configuration = ServerConfiguration()
        try configuration.apply(file: path)
        try configuration.validate()
    }
}
