import AuthorityAPI
import AuthorityTesting
import Foundation

/// Several real `authorityd` processes on one PostgreSQL cluster of the test's own (fleet mode,
/// docs/fleet.md): each daemon has its own state directory and socket, all share the database
/// and one master key file.
final class Fleet: @unchecked Sendable {
    let cluster: PostgresCluster
    let daemons: [DaemonProcess]
    private let keyDirectory: TemporaryDirectory

    private init(count: Int, arguments: [String]) throws {
        cluster = try PostgresCluster()
        keyDirectory = try TemporaryDirectory("au-fleetkey")
        let keyFile = keyDirectory.path + "/master.key"
        try Fixtures.writeMasterKey(to: keyFile)
        let url = cluster.url
        daemons = try (0..<count).map { _ in
            try DaemonProcess(arguments: ["--database", url, "--master-key-file", keyFile] + arguments)
        }
    }

    /// Clients of every daemon, one per daemon.
    func clients(timeout: Double = 30) -> [UnixHTTPClient] { daemons.map { $0.client(timeout: timeout) } }

    private func remove() {
        for daemon in daemons { daemon.remove() }
        cluster.remove()
        keyDirectory.remove()
    }

    /// Runs `body` with `count` started daemons (the first alone, so that it creates the schema
    /// while the others wait on nothing); always stops them and removes the cluster. Prints every
    /// daemon's log tail and PostgreSQL's when `body` throws or `AUTHORITY_E2E_VERBOSE` is set.
    static func with<R>(
        count: Int, arguments: [String] = [], _ body: (Fleet) async throws -> R
    ) async throws -> R {
        let fleet = try Fleet(count: count, arguments: arguments)
        defer { fleet.remove() }
        do {
            for daemon in fleet.daemons { try daemon.start(timeout: 60) }
            let result = try await body(fleet)
            if ProcessInfo.processInfo.environment["AUTHORITY_E2E_VERBOSE"] != nil { fleet.printLogs(after: nil) }
            return result
        } catch {
            fleet.printLogs(after: error)
            throw error
        }
    }

    private func printLogs(after error: (any Error)?) {
        var text = error.map { "fleet test failed: \($0)\n" } ?? ""
        for (index, daemon) in daemons.enumerated() { text += "--- daemon \(index) (\(daemon.directory)):\n\(daemon.logTail(3_000))\n" }
        let postgres = (try? String(contentsOfFile: cluster.directory + "/log", encoding: .utf8)) ?? ""
        text += "--- PostgreSQL log:\n\(postgres.suffix(3_000))"
        print(text)
    }
}

/// What a consuming worker saw: `ok` answers per link id, refusals by reason, storage 503s.
struct Tally: Sendable {
    var acknowledged: [String: Int64] = [:]
    var refused: [String: Int] = [:]
    var unavailable = 0
    var broken = 0

    mutating func add(_ other: Tally) {
        acknowledged.merge(other.acknowledged, uniquingKeysWith: +)
        refused.merge(other.refused, uniquingKeysWith: +)
        unavailable += other.unavailable
        broken += other.broken
    }
}

extension UnixHTTPClient {
    /// One consuming check of `link`, counted into `tally`: an `ok`, a refusal, a 503
    /// `storage.unavailable`, or a broken connection (the client reconnects on its next request).
    /// Any other answer is an error.
    func consume(_ link: IssueLinkResponse, into tally: inout Tally) throws {
        let response: HTTPResponse
        do {
            response = try post("/v1/links/check", json: CheckLinkRequest(url: link.url))
        } catch {
            close()
            tally.broken += 1
            return
        }
        switch response.status {
        case 200:
            let answer = try response.decode(CheckLinkResponse.self)
            if answer.valid { tally.acknowledged[link.id, default: 0] += 1 } else { tally.refused[answer.reason, default: 0] += 1 }
        case 503 where response.errorCode == "storage.unavailable":
            tally.unavailable += 1
        default:
            throw UnexpectedResponse(request: "consuming check", response: response)
        }
    }

    /// The uses a use-limited link has left, from a check that does not consume.
    func remainingUses(_ link: IssueLinkResponse) throws -> Int64? {
        try check(CheckLinkRequest(url: link.url, consume: false)).remainingUses
    }
}
