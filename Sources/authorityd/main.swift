import AuthorityServer
import Foundation
import Logging

/// `authorityd`: arguments → configuration → store → server → run. Its settings (flags, file
/// members, defaults, ranges, help) are `ServerConfiguration.settings`.
@main
enum Authorityd {
    /// A usage error is one line on stderr and exit status 2; a configuration or start failure
    /// one line and exit status 1. `--help` and `--version` print and exit 0.
    static func main() async {
        do {
            switch try DaemonCommand(arguments: DaemonCommand.processArguments()) {
            case .help: print(DaemonCommand.usage, terminator: "")
            case .version: print(authorityVersion)
            case .run(let flags): try await run(flags.configuration())
            }
        } catch let error as UsageError {
            fail("\(error) (see authorityd --help)", status: 2)
        } catch {
            fail("\(error)", status: 1)
        }
    }

    static func run(_ configuration: ServerConfiguration) async throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = Logger.Level(rawValue: configuration.logLevel) ?? .info
            return handler
        }
        let logger = Logger(label: "authorityd")
        if configuration.importSQLite != nil {
            let report = try await Application.importSQLite(configuration: configuration, logger: logger)
            let rows = report.rows.map { "\($0.count) \($0.table)" }.joined(separator: ", ")
            print("authorityd: imported \(rows) into \(report.location); version \(report.serial), head \(report.head)")
            return
        }
        try await Application.run(configuration: configuration, logger: logger)
    }

    static func fail(_ line: String, status: Int32) -> Never {
        FileHandle.standardError.write(Data("authorityd: \(line)\n".utf8))
        exit(status)
    }
}
