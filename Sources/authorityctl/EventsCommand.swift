import ArgumentParser
import AuthorityAPI
import Foundation
import Synchronization

/// `authorityctl events [--after SERIAL] [--follow]`: the lifecycle events of the caller's links.
struct Events: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the lifecycle events of your links (GET /v1/events); --follow streams them as they happen.",
        discussion: """
            One event per line: serial, time, kind, link id, resource, ref, and uses left or the \
            revocation. With --json, each event's JSON on a line of its own. Without --follow it \
            prints what is kept after --after (default: from the oldest kept) and exits; with \
            --follow it goes on, reconnecting with the last serial it printed whenever the stream \
            ends (the daemon restarts), until interrupted. Exit 5 with events.expired when \
            --after is behind the retention, and with events.ahead when it is past the newest event \
            (the daemon's database was restored or replaced).
            """)

    @OptionGroup var global: GlobalOptions

    @Option(help: ArgumentHelp("Start after this event serial (default: the oldest kept).", valueName: "serial"))
    var after: Int64?

    @Flag(help: "Keep streaming new events (Server-Sent Events), reconnecting by itself.")
    var follow = false

    func validate() throws {
        if let after, after < 0 { throw ValidationError("--after must be an event serial, 0 or more") }
    }

    func run() async throws {
        let json = global.json
        if !follow { return try await page(json: json) }
        let last = Mutex<Int64?>(after)
        var quietSince: Date?
        while true {
            do {
                // The first connection starts at --after; every later one resumes after what was printed.
                let resume = last.withLock { $0 }
                try await EventStreamConnection(socketPath: global.socketPath).follow(lastEventID: resume) { frame in
                    guard let body = try? JSONDecoder().decode(LinkEventBody.self, from: Data(frame.data.utf8)) else {
                        if frame.event == "error" { Output.error("authorityctl: \(Self.message(frame.data))") }
                        return
                    }
                    Self.print(body, raw: frame.data, json: json)
                    last.withLock { $0 = body.serial }
                }
                quietSince = nil
            } catch let refused as EventStreamConnection.StreamRefused where refused.answer.status < 500 {
                // Behind the retention or ahead of the store (410), no right (403), a bad start (422):
                // reconnecting changes nothing.
                throw Failure.api(refused.answer, "GET /v1/events")
            } catch {
                // The daemon is restarting, or gone: say so once, and keep trying.
                if quietSince == nil {
                    quietSince = Date()
                    Output.error("authorityctl: the event stream is down (\(global.client.transportFailure(error).message)); reconnecting")
                }
            }
            try await Task.sleep(for: .seconds(1))
        }
    }

    /// Every kept event after `--after`, page by page.
    private func page(json: Bool) async throws {
        let client = global.client
        var after = self.after
        while true {
            let query = (after.map { "after=\($0)&" } ?? "") + "limit=1000"
            let (page, _) = try await client.get("/v1/events?" + query, as: EventPage.self)
            for event in page.events { Self.print(event, raw: nil, json: json) }
            guard !page.events.isEmpty else { return }
            after = page.nextAfter
        }
    }

    static func print(_ event: LinkEventBody, raw: String?, json: Bool) {
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]  // as the daemon writes it
            let line = raw ?? (try? encoder.encode(event)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
            Output.line(line)
        } else {
            var fields = [String(event.serial), Format.utc(event.at), event.kind, event.linkID, event.resource, "ref=\(event.ref ?? "-")"]
            if let left = event.usesLeft { fields.append("uses_left=\(left)") }
            if let revocation = event.revocation { fields.append("revocation=#\(revocation)") }
            Output.line(fields.joined(separator: "  "))
        }
        fflush(nil)  // a follower's reader sees each event as it comes
    }

    private static func message(_ data: String) -> String {
        (try? JSONDecoder().decode(APIErrorBody.self, from: Data(data.utf8))).map { "\($0.error.code): \($0.error.message)" } ?? data
    }
}
