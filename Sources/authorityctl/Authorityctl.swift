import ArgumentParser

#if canImport(Glibc)
    import Glibc
#endif

/// `authorityctl`: the operator's command line for `authorityd`. It talks to the daemon over its
/// Unix socket with the wire types of `AuthorityAPI` and knows nothing else of the project.
@main
struct Authorityctl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "authorityctl",
        abstract: "Operate authorityd: issue, check, explain and revoke links; rotate and retire keys; fetch and verify the revocation bundle.",
        discussion: """
            The daemon's socket is --socket, else $AUTHORITY_SOCKET, else \(GlobalOptions.defaultSocket). \
            Output is for people by default (times in UTC); --json prints the API's JSON unchanged.

            Exit codes: 0 success (link valid), 1 link refused, 2 usage error, 3 daemon unreachable, \
            4 forbidden, 5 other API error.
            """,
        subcommands: [
            Keys.self, Issue.self, Links.self, Events.self, Check.self, Explain.self, Revoke.self, Revocations.self, Status.self, Verify.self,
            BundleCommand.self, Completions.self,
        ]
    )

    /// Parsed here too, so that `authorityctl --socket PATH keys list` works as well as
    /// `authorityctl keys list --socket PATH`.
    @OptionGroup var global: GlobalOptions

    /// ArgumentParser's own `main` exits 64 on a usage error; the documented code is 2, and a
    /// failure of the command itself carries its own code.
    static func main() async {
        var command: any ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            exitForParsing(error)
        }
        do {
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let code as ExitCode {
            terminate(code.rawValue)
        } catch {
            // A help request or a ValidationError thrown while running is handled as when parsing.
            guard let failure = runFailure(for: error) else { exitForParsing(error) }
            failure.report()
            terminate(failure.status.rawValue)
        }
        terminate(ExitStatus.success.rawValue)
    }

    /// What an error thrown by a running command reports: its own `Failure`, or any other error as
    /// an API error; nil for a help request or a `ValidationError`, which are handled as when parsing.
    static func runFailure(for error: any Error) -> Failure? {
        if let failure = error as? Failure { return failure }
        let code = exitCode(for: error)
        if code == .success || code == .validationFailure { return nil }
        return Failure(message: "\(error)", status: .apiError)
    }

    /// Help and version requests: their text for stdout, exit 0. Every other parsing or validation
    /// error is a usage error: its message for stderr, exit 2.
    static func parsingOutcome(for error: any Error) -> (message: String, status: ExitStatus) {
        (fullMessage(for: error), exitCode(for: error) == .success ? .success : .usage)
    }

    private static func exitForParsing(_ error: any Error) -> Never {
        let (message, status) = parsingOutcome(for: error)
        if !message.isEmpty { status == .success ? Output.line(message) : Output.error(message) }
        terminate(status.rawValue)
    }
}

/// The documented exit statuses.
enum ExitStatus: Int32 {
    case success = 0
    case refused = 1
    case usage = 2
    case unreachable = 3
    case forbidden = 4
    case apiError = 5
}
