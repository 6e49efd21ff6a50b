import ArgumentParser
import AuthorityAPI

/// `authorityctl verify`: the revocation list and use counters checked against their MACs.
struct Verify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check every revocation and use counter against its MAC, and the integrity head against them.",
        discussion: """
            GET /v1/integrity (the admin right). Prints the version (serial and head) and the number \
            of rows checked; exit 0 when everything matched, 1 when a problem was found (it is named; \
            see docs/operations.md for what to do). The daemon keeps serving meanwhile.
            """)

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let (report, answer) = try await global.client.get("/v1/integrity", as: IntegrityResponse.self)
        if global.json {
            Output.raw(answer.body)
        } else {
            Output.lines(Format.fields([
                ("integrity", report.ok ? "ok" : "FAILED"),
                ("version", "\(report.serial) (head \(report.head.prefix(16))…)"),
                ("rows checked", String(report.rows)),
            ] + (report.problem.map { [("problem", $0)] } ?? [])))
        }
        if !report.ok { throw ExitCode(ExitStatus.refused.rawValue) }
    }
}
