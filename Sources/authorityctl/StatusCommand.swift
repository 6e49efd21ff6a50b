import ArgumentParser
import AuthorityAPI
import Foundation

/// `authorityctl status`: health, epochs, revocations.
struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the daemon's health, its epochs with their states and retire times, and the revocation count.",
        discussion: """
            GET /v1/health (no right needed) and GET /v1/keys (the check right; without it the epochs \
            are left out with a note on stderr). With --json: {"health": …, "keys": …} holding the \
            two answers unchanged (keys null when not allowed).
            """)

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let client = global.client
        let (health, healthAnswer) = try await client.get("/v1/health", as: HealthResponse.self)
        let (keys, keysRefusal) = try await Self.keysIfAllowed(client)
        if global.json {
            let keysJSON = keys.map { String(decoding: $0.1.body, as: UTF8.self) } ?? "null"
            let healthJSON = String(decoding: healthAnswer.body, as: UTF8.self)
            Output.line("{\"health\":\(healthJSON.trimmed),\"keys\":\(keysJSON.trimmed)}")
            return
        }
        var fields: [(String, String)] = [
            ("daemon", "\(health.status), version \(health.version), up \(Format.span(health.uptimeSeconds))"),
            ("socket", global.socketPath),
            ("active epoch", String(health.activeEpoch)),
            ("revocations", health.revocations.map { "\($0) live" } ?? "switched off"),
        ]
        if keys == nil { fields.append(("epochs", "not shown (forbidden)")) }
        Output.lines(Format.fields(fields))
        if let (set, _) = keys {
            Output.line("epochs:")
            Output.lines(Keys.table(set.keys, indent: "  "))
        }
        if let keysRefusal { Output.error("authorityctl: epochs not shown: \(keysRefusal.message)") }
    }

    /// `GET /v1/keys`, or the refusal when the caller lacks the right (any other failure is thrown).
    private static func keysIfAllowed(
        _ client: DaemonClient
    ) async throws -> ((JSONWebKeySet, DaemonAnswer)?, Failure?) {
        do {
            return (try await client.get("/v1/keys", as: JSONWebKeySet.self), nil)
        } catch {
            guard error.status == .forbidden else { throw error }
            return (nil, error)
        }
    }
}

/// `authorityctl completions bash|zsh|fish`.
struct Completions: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a shell completion script.",
        discussion: """
            bash: authorityctl completions bash > /etc/bash_completion.d/authorityctl
            zsh:  authorityctl completions zsh > "${fpath[1]}/_authorityctl"
            fish: authorityctl completions fish > ~/.config/fish/completions/authorityctl.fish
            """)

    enum Shell: String, ExpressibleByArgument, CaseIterable {
        case bash, zsh, fish
    }

    @Argument(help: "The shell: bash, zsh or fish.")
    var shell: Shell

    func run() throws {
        // The raw values are exactly ArgumentParser's shell names.
        guard let completionShell = CompletionShell(rawValue: shell.rawValue) else { throw ExitCode(2) }
        Output.raw(Data(Authorityctl.completionScript(for: completionShell).utf8))
    }
}

extension String {
    fileprivate var trimmed: String { trimmingCharacters(in: .whitespacesAndNewlines) }
}
