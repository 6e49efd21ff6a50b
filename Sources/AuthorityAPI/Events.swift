/// One lifecycle event of an issued link (docs/events.md). Never a signature, a link or a password.
public struct LinkEventBody: WireObject, Equatable {
    public static let wireFields = WireFields<Self>(
        .init("serial", \.serial),
        .init("at", \.at),
        .init("kind", \.kind),
        .init("link_id", \.linkID),
        .init("resource", \.resource),
        .init("issuer_uid", \.issuerUID),
        .init("ref", \.ref),
        .init("uses_left", \.usesLeft),
        .init("revocation", \.revocation)
    )
    public static var wireTemplate: Self { Self(serial: 0, at: 0, kind: "", linkID: "", resource: "") }

    /// Commit order; resume after it (`after=`, `Last-Event-ID`).
    public var serial: Int64
    public var at: Int64
    /// `issued`, `first_used`, `used`, `used_up`, `password_locked`, `revoked`, `expired`,
    /// `expiring_soon`, `retired`.
    public var kind: String
    public var linkID: String
    /// The link's canonical path, or its prefix.
    public var resource: String
    public var issuerUID: UInt32?
    public var ref: String?
    /// `used`, `used_up`, `first_used`: the uses left after the use.
    public var usesLeft: Int64?
    /// `revoked`: the revocation's serial.
    public var revocation: Int64?

    public init(
        serial: Int64, at: Int64, kind: String, linkID: String, resource: String, issuerUID: UInt32? = nil,
        ref: String? = nil, usesLeft: Int64? = nil, revocation: Int64? = nil
    ) {
        self.serial = serial
        self.at = at
        self.kind = kind
        self.linkID = linkID
        self.resource = resource
        self.issuerUID = issuerUID
        self.ref = ref
        self.usesLeft = usesLeft
        self.revocation = revocation
    }
}

/// `GET /v1/events?after=SERIAL&limit=N`: the events after `after`, oldest first.
public struct EventPage: WireObject, Equatable {
    public static let wireFields = WireFields<Self>(
        .init("events", nested: \.events),
        .init("next_after", \.nextAfter)
    )
    public static var wireTemplate: Self { Self(events: [], nextAfter: 0) }

    public var events: [LinkEventBody]
    /// Pass as `after` for the next page: the last event's serial for a full page, else the newest
    /// serial committed when the page was read (a reader of its own links moves on past others').
    public var nextAfter: Int64

    public init(events: [LinkEventBody], nextAfter: Int64) {
        self.events = events
        self.nextAfter = nextAfter
    }
}
