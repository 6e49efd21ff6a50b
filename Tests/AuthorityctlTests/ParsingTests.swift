import ArgumentParser
import Testing

@testable import authorityctl

/// Command lines refused before any connection (exit 2, the message on stderr), and the ones that
/// parse into what the commands send. Tests/EndToEndTests/AuthorityctlExitCodeTests runs a few of
/// them through the real binary, for the exit status a shell sees.
@Suite struct ParsingTests {
    /// Parses `arguments`, expecting a usage error whose first line contains `words`.
    func expectUsageError(_ arguments: [String], _ words: String, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            let command = try Authorityctl.parseAsRoot(arguments)
            Issue.record("\(arguments) parsed as \(command)", sourceLocation: sourceLocation)
        } catch {
            let (message, status) = Authorityctl.parsingOutcome(for: error)
            #expect(status == .usage, "\(arguments): \(message)", sourceLocation: sourceLocation)
            let first = message.split(separator: "\n").first.map(String.init) ?? ""
            #expect(first.hasPrefix("Error: ") && first.contains(words), "\(arguments): \(message)", sourceLocation: sourceLocation)
        }
    }

    @Test(arguments: [
        (["revoke", "--id", "AAECAwQFBgcICQoLDA0ODw", "--prefix", "/p/"], "--id cannot be combined"),
        (["revoke", "--id", "AAECAwQFBgcICQoLDA0ODw", "--issued-before", "1790000000"], "--id cannot be combined"),
        (["revoke"], "give one of --id, --prefix or --issued-before"),
        (["revoke", "--reason", "why"], "give one of --id, --prefix or --issued-before"),
        (["revoke", "--issued-before", "yesterday"], "--issued-before"),
        (["issue", "/x", "--ttl", "5x"], "--ttl"),
        (["issue", "/x", "--ttl", "0"], "--ttl"),
        (["issue", "/x", "--ttl", "1m", "--expires-at", "1790000000"], "give --ttl or --expires-at, not both"),
        (["issue", "/x", "--expires-at", "tomorrow"], "--expires-at"),
        (["issue", "/x", "--expires-at", "2026-02-30T10:00:00Z"], "--expires-at"),
        (["issue", "/x", "--method", "PATCH"], "--method PATCH: not one of GET, HEAD, PUT, POST, DELETE"),
        (["issue", "/x", "--max-uses", "0"], "--max-uses must be at least 1"),
        (["issue", "/x", "--max-uses", "many"], "--max-uses"),
        (["issue"], "<resource>"),
        (["check"], "<url>"),
        (["keys", "retire", "one"], "<epoch>"),
        (["keys", "retire", "0"], "epochs start at 1"),
        (["keys", "retire", "-1"], "Missing expected argument '<epoch>'"),  // -1 reads as an option
        (["revocations", "list", "--limit", "0"], "--limit must be 1 to 1000"),
        (["revocations", "list", "--limit", "1001"], "--limit must be 1 to 1000"),
        (["revocations", "list", "--after", "-1"], "Missing value for '--after <serial>'"),
        (["revocations", "list", "--after=-1"], "--after must not be negative"),
        (["revocations", "lift", "0"], "the serial must be a positive integer"),
        (["completions"], "<shell>"),
        (["completions", "tcsh"], "tcsh"),
        (["frobnicate"], "frobnicate"),
        (["status", "--bogus"], "--bogus"),
        (["bundle", "fetch"], "--output"),
        (["bundle", "fetch", "-o", "b", "--since", "-1"], "Missing value for '--since <serial>'"),
        (["bundle", "fetch", "-o", "b", "--since=-1"], "--since must not be negative"),
        (["bundle", "fetch", "-o", "b", "--since", "twelve"], "--since"),
        (["bundle", "fetch", "-o", "b", "--since", "3", "--freshness"], "--since cannot be combined with --freshness"),
        (["bundle", "fetch", "-o", ""], "a file name must not be empty"),
        (["bundle", "fetch", "-o", "b", "--keys", "-"], "--keys needs a file"),
        (["bundle", "verify", "b"], "--keys"),
        (["bundle", "verify", "--keys", "k"], "<bundle>"),
        (["bundle", "verify", "--keys", "k", "b", "--now", "tomorrow"], "--now"),
        (["bundle", "verify", "--keys", "k", "b", "--method", "PUT"], "--method, --ip and --host describe the request of a link"),
        (["bundle", "verify", "--keys", "k", "b", "--client-ip", "192.0.2.1"], "give its URL"),
        (["bundle", "verify", "--keys", "k", "b", "/u", "extra"], "extra"),
        (["--socket", "", "status"], "the socket path must be 1 to 107 bytes long"),
        (["--socket", "/" + String(repeating: "s", count: 107), "status"], "the socket path must be 1 to 107 bytes long"),
    ] as [([String], String)])
    func usageErrorsAreRefusedBeforeAnyConnection(_ arguments: [String], _ words: String) {
        expectUsageError(arguments, words)
    }

    /// `--help` and `help COMMAND` parse into ArgumentParser's help command, whose run throws a
    /// help request: main prints it on stdout and exits 0.
    @Test(arguments: [["--help"], ["issue", "--help"], ["help", "revoke"], ["bundle"], ["bundle", "verify", "--help"]])
    func helpIsNotAnError(_ arguments: [String]) throws {
        var command = try Authorityctl.parseAsRoot(arguments)
        let error = try #require(throws: (any Error).self) { try command.run() }
        #expect(Authorityctl.runFailure(for: error) == nil)
        let (message, status) = Authorityctl.parsingOutcome(for: error)
        #expect(status == .success && message.contains("USAGE: authorityctl"), "\(arguments): \(message)")
    }

    @Test func issueOptionsParse() throws {
        let issue = try #require(
            try Authorityctl.parseAsRoot([
                "issue", "https://h.example/a", "--ttl", "1h", "--method", "put", "--method", "GET", "--prefix",
                "--max-uses", "3", "--not-before", "2026-12-01T10:00:00Z",
            ]) as? authorityctl.Issue)
        #expect(issue.resource == "https://h.example/a")
        #expect(issue.ttl?.seconds == 3_600 && issue.expiresAt == nil)
        #expect(issue.methods == ["put", "GET"] && issue.prefix && issue.maxUses == 3)
        #expect(issue.notBefore?.unixSeconds == 1_796_119_200)
    }

    /// One link id in 64 starts with `-`: it is still the value of `--id`.
    @Test func anIdStartingWithADashIsTheValue() throws {
        let revoke = try #require(try Authorityctl.parseAsRoot(["revoke", "--id", "-ECAwQFBgcICQoLDA0ODw"]) as? Revoke)
        #expect(revoke.id == "-ECAwQFBgcICQoLDA0ODw")
    }

    @Test func theSocketIsTakenBeforeOrAfterTheCommand() throws {
        let before = try #require(try Authorityctl.parseAsRoot(["--socket", "/tmp/a.sock", "keys", "list"]) as? Keys.List)
        #expect(before.global.socketPath == "/tmp/a.sock")
        let after = try #require(try Authorityctl.parseAsRoot(["status", "--socket", "/tmp/b.sock", "--json"]) as? Status)
        #expect(after.global.socketPath == "/tmp/b.sock" && after.global.json)
    }
}
