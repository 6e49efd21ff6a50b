import ArgumentParser
import AuthorityServer
import Foundation
import Logging

/// `authorityd`: configuration → store → server → run. Every option of the configuration file
/// is also a flag; flags win.
@main
struct Authorityd: AsyncParsableCommand {
    /// Parses, then runs; a usage error is one line on stderr and exit status 2 (`--help` and
    /// `--version` print as usual and exit 0).
    static func main() async {
        do {
            var command = try parseAsRoot(processArguments())
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let exit as ExitCode {
            Foundation.exit(exit.rawValue)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            let line = message(for: error).split(separator: "\n").first.map(String.init) ?? "invalid arguments"
            FileHandle.standardError.write(Data("authorityd: \(line) (see authorityd --help)\n".utf8))
            Foundation.exit(2)
        }
    }

    /// The arguments after the program name. Swift on Linux finds them by walking back from
    /// `environ`, which fails (no arguments at all) when a preloaded library such as libfaketime
    /// has changed the environment before `main`: then they are read from /proc/self/cmdline.
    static func processArguments() -> [String] {
        let arguments = Array(CommandLine.arguments.dropFirst())
        guard arguments.isEmpty, let data = FileManager.default.contents(atPath: "/proc/self/cmdline") else { return arguments }
        return Array(data.split(separator: 0, omittingEmptySubsequences: false).dropFirst().map { String(decoding: $0, as: UTF8.self) }
            .dropLast(data.last == 0 ? 1 : 0))
    }

    static let configuration = CommandConfiguration(
        commandName: "authorityd",
        abstract: "Issues and checks Ed25519-signed temporary links over HTTP on a Unix socket.",
        version: authorityVersion)

    @Option(help: "Unix socket to serve the API on (default /run/authority/authority.sock).") var socket: String?
    @Option(name: .customLong("state-dir"), help: "State directory: database, generated master key (default /var/lib/authority).")
    var stateDir: String?
    @Option(help: "JSON configuration file; flags override it.") var config: String?
    @Option(name: .customLong("socket-mode"), help: "Mode of the socket file, octal (default 0660).") var socketMode: String?
    @Option(name: .customLong("socket-group"), help: "Group of the socket file, name or number.") var socketGroup: String?
    @Option(help: "Database file (default STATE-DIR/authority.sqlite).") var database: String?
    @Option(name: .customLong("master-key-file"), help: "Master key: 32 raw bytes or 64 hex characters, mode 0600.")
    var masterKeyFile: String?
    @Option(help: "Policy file mapping callers to rights (JSON, see docs/api.md).") var policy: String?
    @Option(name: .customLong("max-ttl"), help: "Longest link lifetime in seconds (default 604800).") var maxTTL: Int64?
    @Option(name: .customLong("not-before-leeway"), help: "Seconds a link is accepted before its not-before (default 30).")
    var notBeforeLeeway: Int64?
    @Option(name: .customLong("body-limit"), help: "Largest request body in bytes (default 65536).") var bodyLimit: Int?
    @Flag(name: .customLong("no-revocations"), help: "Switch the revocation list off.") var noRevocations = false
    @Flag(
        name: .customLong("adopt-database"),
        help: "For one start after a restore: accept the database as it is and record it as the state directory's (docs/operations.md).")
    var adoptDatabase = false
    @Option(name: .customLong("rotation-interval"), help: "Rotate the signing key every N seconds (default 0: off).")
    var rotationInterval: Int64?
    @Option(name: .customLong("maintenance-interval"), help: "Seconds between retirement and clean-up rounds (default 60).")
    var maintenanceInterval: Int64?
    @Option(name: .customLong("event-loops"), help: "Event loop threads (default: one per core).") var eventLoops: Int?
    @Option(name: .customLong("blocking-threads"), help: "Threads for SQLite reads and admin writes (default 2).") var blockingThreads: Int?
    @Option(
        name: .customLong("forward-auth-dialect"),
        help: """
            The proxy bare /v1/auth answers: nginx, caddy, traefik or envoy (default none: 403 dialect_required). \
            /v1/auth/nginx, /v1/auth/caddy, /v1/auth/traefik and /v1/auth/envoy/<path> need no setting.
            """)
    var forwardAuthDialect: String?
    /// Removed flags, still recognised so that their use names what replaces them.
    @Option(name: .customLong("forward-auth-headers"), help: .private) var removedForwardAuthHeaders: String?
    @Option(name: .customLong("forward-auth-client-ip"), help: .private) var removedForwardAuthClientIP: String?
    @Option(name: .customLong("forward-auth-max-age"), help: "Longest Cache-Control max-age of an allowed /v1/auth/… answer, seconds (default 60).")
    var forwardAuthMaxAge: Int64?
    @Option(name: .customLong("password-max-failures"), help: "Wrong passwords in a row before a link locks (default 5).")
    var passwordMaxFailures: Int64?
    @Option(name: .customLong("password-lockout"), help: "First lockout in seconds, doubled each time (default 60).")
    var passwordLockout: Int64?
    @Option(name: .customLong("password-threads"), help: "Threads hashing passwords (default 1).") var passwordThreads: Int?
    @Option(name: .customLong("cookie-ttl"), help: "Lifetime of an unlock cookie in seconds (default 3600).") var cookieTTL: Int64?
    @Option(name: .customLong("verify-cache-entries"), help: "Verified signatures remembered, so repeated checks skip Ed25519 (default 65536, 0: off).")
    var verifyCacheEntries: Int?
    @Option(name: .customLong("request-timeout"), help: "Seconds from a request's first byte to its last; slower senders are closed (default 10).")
    var requestTimeout: Int64?
    @Option(name: .customLong("idle-timeout"), help: "Seconds a keep-alive connection may sit idle, or leave answers unread, before it is closed (default 75).")
    var idleTimeout: Int64?
    @Option(name: .customLong("max-connections"), help: "Open connections, all callers together; more are closed at once (default 8192).")
    var maxConnections: Int?
    @Option(name: .customLong("max-connections-per-uid"), help: "Open connections of one caller uid; more are closed at once (default 2048).")
    var maxConnectionsPerUID: Int?
    @Option(name: .customLong("write-buffer-limit"), help: "Unsent answer bytes per connection above which it is not read until half is sent (default 65536).")
    var writeBufferLimit: Int?
    @Option(name: .customLong("write-buffer-hard-limit"), help: "Unsent answer bytes per connection past which it is closed (default 4194304).")
    var writeBufferHardLimit: Int?
    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical (default info).")
    var logLevel: String?

    func validate() throws {
        let removed = [
            ("--forward-auth-headers", removedForwardAuthHeaders), ("--forward-auth-client-ip", removedForwardAuthClientIP),
        ]
        if let flag = removed.first(where: { $0.1 != nil })?.0 {
            throw ValidationError("\(flag) was removed: \(ServerConfiguration.dialectReplacement("--forward-auth-dialect"))")
        }
    }

    func run() async throws {
        do {
            let configuration = try makeConfiguration()
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = Logger.Level(rawValue: configuration.logLevel) ?? .info
                return handler
            }
            try await Application.run(configuration: configuration, logger: Logger(label: "authorityd"))
        } catch {
            FileHandle.standardError.write(Data("authorityd: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }

    func makeConfiguration() throws -> ServerConfiguration {
        var configuration = ServerConfiguration()
        if let config { try configuration.apply(file: config) }
        configuration.socketPath = socket ?? configuration.socketPath
        configuration.stateDirectory = stateDir ?? configuration.stateDirectory
        if let socketMode { configuration.socketMode = try ServerConfiguration.parseMode(socketMode) }
        configuration.socketGroup = socketGroup ?? configuration.socketGroup
        configuration.databasePath = database ?? configuration.databasePath
        configuration.masterKeyFile = masterKeyFile ?? configuration.masterKeyFile
        configuration.policyFile = policy ?? configuration.policyFile
        configuration.maxTTL = maxTTL ?? configuration.maxTTL
        configuration.notBeforeLeeway = notBeforeLeeway ?? configuration.notBeforeLeeway
        configuration.bodyLimit = bodyLimit ?? configuration.bodyLimit
        if noRevocations { configuration.revocationsEnabled = false }
        configuration.adoptDatabase = adoptDatabase
        configuration.rotationInterval = rotationInterval ?? configuration.rotationInterval
        configuration.maintenanceInterval = maintenanceInterval ?? configuration.maintenanceInterval
        configuration.eventLoops = eventLoops ?? configuration.eventLoops
        configuration.blockingThreads = blockingThreads ?? configuration.blockingThreads
        configuration.logLevel = logLevel ?? configuration.logLevel
        if let forwardAuthDialect { configuration.forwardAuthDialect = try ServerConfiguration.parseDialect(forwardAuthDialect) }
        configuration.forwardAuthMaxAge = forwardAuthMaxAge ?? configuration.forwardAuthMaxAge
        configuration.passwordMaxFailures = passwordMaxFailures ?? configuration.passwordMaxFailures
        configuration.passwordLockout = passwordLockout ?? configuration.passwordLockout
        configuration.passwordThreads = passwordThreads ?? configuration.passwordThreads
        configuration.cookieTTL = cookieTTL ?? configuration.cookieTTL
        configuration.verifyCacheEntries = verifyCacheEntries ?? configuration.verifyCacheEntries
        configuration.requestTimeout = requestTimeout ?? configuration.requestTimeout
        configuration.idleTimeout = idleTimeout ?? configuration.idleTimeout
        configuration.maxConnections = maxConnections ?? configuration.maxConnections
        configuration.maxConnectionsPerUID = maxConnectionsPerUID ?? configuration.maxConnectionsPerUID
        configuration.writeBufferLimit = writeBufferLimit ?? configuration.writeBufferLimit
        configuration.writeBufferHardLimit = writeBufferHardLimit ?? configuration.writeBufferHardLimit
        try configuration.validate()
        return configuration
    }
}
