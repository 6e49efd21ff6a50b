/// The origins a link lists (`au_o`, docs/link-format.md §13): pages on them may read what the
/// link grants, and their CORS preflights pass. Canonical text: origins joined by `,`, each
/// `http://` or `https://` and a canonical host (`au_h` rules, optional port), in ascending byte
/// order without repeats, at most `limit` of them.
public struct CORSOrigins: Hashable, Sendable {
    public let origins: [String]
    public static let limit = 8

    public var canonicalText: String { origins.joined(separator: ",") }

    /// Parses the canonical text; nil for anything else.
    public init?(canonical text: some StringProtocol) {
        let list = String(text).split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard (1...Self.limit).contains(list.count), list.allSatisfy(Self.isCanonicalOrigin),
            zip(list, list.dropFirst()).allSatisfy({ Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) })
        else { return nil }
        origins = list
    }

    /// An issuer's list, made canonical (scheme and host lowercased in ASCII, sorted, repeats
    /// dropped); nil when one of them is not an origin or there are more than `limit`.
    public init?(lenient list: [String]) {
        let folded = list.map { Canonical.asciiFolded($0) }
        let unique = Set(folded).sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        self.init(canonical: unique.joined(separator: ","))
    }

    /// Whether a request's `Origin` header names one of them (bytes, ASCII case folded).
    public func contains(origin: String) -> Bool {
        guard let folded = Canonical.asciiLowercased(origin) else { return false }
        return origins.contains { $0.utf8.elementsEqual(folded.utf8) }
    }

    static func isCanonicalOrigin(_ text: String) -> Bool {
        for scheme in ["https://", "http://"] where text.utf8.starts(with: scheme.utf8) {
            return Canonical.isCanonicalHost(Substring(text.utf8.dropFirst(scheme.utf8.count)))
        }
        return false
    }
}
