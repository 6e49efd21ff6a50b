import ArgumentParser
import AuthorityCore

/// `authorityctl bundle fetch|verify`: the revocation bundle an edge verifier holds
/// (docs/revocation-bundle.md), fetched from the daemon and checked offline.
struct BundleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bundle",
        abstract: "Fetch the signed revocation bundle, and check a saved one offline as an edge would.",
        subcommands: [Fetch.self, Verify.self]
    )

    /// One line for people: kind, serial, times in UTC, and the size of the lists.
    static func summary(_ object: BundleObject) -> String {
        let statement = object.statement
        let times = "issued \(Format.utc(statement.issuedAt)), not after \(Format.utc(statement.notAfter))"
        switch object.body {
        case .full(let content):
            return "full bundle, serial \(statement.serial), \(times): \(count(content.epochs.count, "epoch")), "
                + "\(count(content.rules.count, "rule")), \(count(content.ids.count, "id"))"
        case .delta(let changes):
            return "delta from serial \(changes.baseSerial) to \(statement.serial), \(times): "
                + "\(count(changes.epochs.count, "epoch")), rules -\(changes.removedRules.count) +\(changes.setRules.count), "
                + "ids -\(changes.removedIDs.count) +\(changes.addedIDs.count)"
        case .freshness:
            return "freshness, serial \(statement.serial), \(times)"
        }
    }

    /// `1 rule`, `3 rules`.
    static func count(_ number: Int, _ noun: String) -> String { "\(number) \(noun)\(number == 1 ? "" : "s")" }
}
