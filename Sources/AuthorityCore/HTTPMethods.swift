/// The methods a link may allow, in their one canonical order.
public struct HTTPMethods: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let get = HTTPMethods(rawValue: 1 << 0)
    public static let head = HTTPMethods(rawValue: 1 << 1)
    public static let put = HTTPMethods(rawValue: 1 << 2)
    public static let post = HTTPMethods(rawValue: 1 << 3)
    public static let delete = HTTPMethods(rawValue: 1 << 4)

    /// "View" or "download": GET and HEAD, the default of an issued link.
    public static let view: HTTPMethods = [.get, .head]
    /// "Upload": PUT and POST.
    public static let upload: HTTPMethods = [.put, .post]

    static let ordered: [(HTTPMethods, String)] = [
        (.get, "GET"), (.head, "HEAD"), (.put, "PUT"), (.post, "POST"), (.delete, "DELETE"),
    ]

    /// One method by its exact upper-case name; nil for any other method.
    public init?(method: some StringProtocol) {
        // Bytes, not `String ==` (Unicode canonical equivalence).
        guard let match = Self.ordered.first(where: { $0.1.utf8.elementsEqual(method.utf8) }) else { return nil }
        self = match.0
    }

    /// Parses the canonical `au_m` text: names in the canonical order, each once, comma-separated.
    public init?(canonical text: some StringProtocol) {
        var result: HTTPMethods = []
        var nextIndex = 0
        for name in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let position = Self.ordered[nextIndex...].firstIndex(where: { $0.1.utf8.elementsEqual(name.utf8) })
            else { return nil }
            result.insert(Self.ordered[position].0)
            nextIndex = position + 1
        }
        guard !result.isEmpty else { return nil }
        self = result
    }

    /// The canonical text, `GET,HEAD` for example.
    public var canonicalText: String {
        Self.ordered.filter { contains($0.0) }.map(\.1).joined(separator: ",")
    }

    public var names: [String] { Self.ordered.filter { contains($0.0) }.map(\.1) }
}

/// Flags a link carries: whether the daemon keeps a use count or a password for it, and whether
/// it may mint a grant cookie.
public struct LinkFlags: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let useLimited = LinkFlags(rawValue: 1 << 0)
    public static let passwordProtected = LinkFlags(rawValue: 1 << 1)
    /// The daemon may answer a passing request with a grant cookie (docs/link-format.md §12).
    public static let grantCookie = LinkFlags(rawValue: 1 << 2)

    /// Whether checks need the daemon's state (steps 9–10): a use count or a password.
    public var needsState: Bool { contains(.useLimited) || contains(.passwordProtected) }

    /// Each flag's letter, in canonical order.
    private static let letters: [(LinkFlags, UInt8)] = [
        (.useLimited, UInt8(ascii: "u")), (.passwordProtected, UInt8(ascii: "p")), (.grantCookie, UInt8(ascii: "c")),
    ]

    /// Parses a non-empty subset of `u`, `p`, `c` in that order (`u`, `up`, `uc`, `upc`, …); the
    /// empty string is not a canonical value (the parameter is omitted).
    public init?(canonical text: some StringProtocol) {
        var flags: LinkFlags = []
        var next = 0
        for byte in text.utf8 {
            guard let index = Self.letters[next...].firstIndex(where: { $0.1 == byte }) else { return nil }
            flags.insert(Self.letters[index].0)
            next = index + 1
        }
        guard !flags.isEmpty else { return nil }
        self = flags
    }

    /// `u`, `p`, `c` in that order, or the empty string when no flag is set.
    public var canonicalText: String {
        String(decoding: Self.letters.filter { contains($0.0) }.map(\.1), as: UTF8.self)
    }
}

