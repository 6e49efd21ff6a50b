/// The member names a JSON object may carry, and the one way any other is refused: a misspelt
/// `max_use` must not silently issue an unlimited link. Request bodies get theirs from their field
/// table (`WireFields.known`); any other strict JSON reader (a configuration file) can build one
/// from its names.
public struct KnownMembers: Sendable {
    public let names: Set<String>

    public init(_ names: some Sequence<String>) { self.names = Set(names) }

    /// The names among `members` that are not known, sorted; empty when all are.
    public func unknown(in members: some Sequence<String>) -> [String] {
        members.filter { !names.contains($0) }.sorted()
    }

    /// The refusal of `unknown` (as `unknown(in:)` gives them). At most a few names, each cut
    /// short: a body of a million members gets a short answer.
    public func refusal(_ unknown: [String]) -> String {
        var list = unknown.prefix(3).map { "\"\($0.prefix(64))\"" }.joined(separator: ", ")
        if unknown.count > 3 { list += " and \(unknown.count - 3) more" }
        return "unknown field \(list); known: \(names.sorted().joined(separator: ", "))"
    }
}
