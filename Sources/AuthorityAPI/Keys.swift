/// One public key as a JWK (RFC 8037) with the key ring's state beside it.
public struct JSONWebKey: WireObject, Equatable {
    public static let wireFields = WireFields<Self>(
        .init("kty", \.kty),
        .init("crv", \.crv),
        .init("x", \.x),
        .init("kid", \.kid),
        .init("use", \.use),
        .init("alg", \.alg),
        .init("status", \.status),
        .init("created_at", \.createdAt),
        .init("retire_after", \.retireAfter),
        .init("retired_at", \.retiredAt)
    )
    public static var wireTemplate: Self { Self(x: "", kid: "", status: "", createdAt: 0, retireAfter: nil, retiredAt: nil) }

    public var kty = "OKP"
    public var crv = "Ed25519"
    /// The 32-byte public key, base64url without padding.
    public var x: String
    /// The epoch, as a string.
    public var kid: String
    public var use = "sig"
    public var alg = "EdDSA"
    /// `active`, `verify_only` or `retired`. A verifier must refuse links of retired keys.
    public var status: String
    public var createdAt: Int64
    /// At least the latest expiry issued under this key; null before any link was issued.
    public var retireAfter: Int64?
    public var retiredAt: Int64?

    public init(x: String, kid: String, status: String, createdAt: Int64, retireAfter: Int64?, retiredAt: Int64?) {
        self.x = x
        self.kid = kid
        self.status = status
        self.createdAt = createdAt
        self.retireAfter = retireAfter
        self.retiredAt = retiredAt
    }
}

/// `GET /v1/keys`: every epoch, oldest first.
public struct JSONWebKeySet: Codable, Sendable, Equatable {
    public var keys: [JSONWebKey]
    public init(keys: [JSONWebKey]) { self.keys = keys }
}

/// `201` answer to `POST /v1/keys/rotate`.
public struct RotateResponse: WireObject, Equatable {
    public static let wireFields = WireFields<Self>(
        .init("epoch", \.epoch),
        .init("previous_epoch", \.previousEpoch)
    )
    public static var wireTemplate: Self { Self(epoch: 0, previousEpoch: nil) }

    public var epoch: UInt64
    public var previousEpoch: UInt64?

    public init(epoch: UInt64, previousEpoch: UInt64?) {
        self.epoch = epoch
        self.previousEpoch = previousEpoch
    }
}

/// `POST /v1/keys/{epoch}/retire` body (optional: an empty body means no force).
public struct RetireRequest: APIRequestBody, Equatable {
    public static let wireFields = WireFields<Self>(absent: .omitted,
        .init("force", \.force)
    )
    public static var wireTemplate: Self { Self() }

    public var force: Bool?

    public init(force: Bool? = nil) { self.force = force }
}

/// `GET /v1/health`.
public struct HealthResponse: WireObject, Equatable {
    public static let wireFields = WireFields<Self>(
        .init("status", \.status),
        .init("version", \.version),
        .init("active_epoch", \.activeEpoch),
        .init("revocations", \.revocations),
        .init("uptime_seconds", \.uptimeSeconds),
        .init("storage", \.storage),
        .init("storage_problem", \.storageProblem),
        .init("sync_age_ms", \.syncAgeMilliseconds)
    )
    public static var wireTemplate: Self { Self(status: "", version: "", activeEpoch: 0, revocations: nil, uptimeSeconds: 0) }

    public var status: String
    public var version: String
    public var activeEpoch: UInt64
    /// Number of revocations held, or null when the revocation list is switched off.
    public var revocations: Int?
    public var uptimeSeconds: Int64
    /// The engine: `sqlite`, or `postgresql` in fleet mode.
    public var storage: String
    /// Why the database cannot be reached (then `status` is `degraded`); null while it can.
    public var storageProblem: String?
    /// Fleet mode: milliseconds since the daemon last confirmed it holds PostgreSQL's state.
    public var syncAgeMilliseconds: Int64?

    public init(
        status: String, version: String, activeEpoch: UInt64, revocations: Int?, uptimeSeconds: Int64,
        storage: String = "sqlite", storageProblem: String? = nil, syncAgeMilliseconds: Int64? = nil
    ) {
        self.storage = storage
        self.storageProblem = storageProblem
        self.syncAgeMilliseconds = syncAgeMilliseconds
        self.status = status
        self.version = version
        self.activeEpoch = activeEpoch
        self.revocations = revocations
        self.uptimeSeconds = uptimeSeconds
    }
}

/// `GET /v1/integrity`: every revocation and use counter checked against its MAC, and the head
/// against them (docs/operations.md).
public struct IntegrityResponse: WireObject, Equatable {
    public static let wireFields = WireFields<Self>(
        .init("ok", \.ok),
        .init("serial", \.serial),
        .init("head", \.head),
        .init("rows", \.rows),
        .init("problem", \.problem)
    )
    public static var wireTemplate: Self { Self(ok: false, serial: 0, head: "", rows: 0, problem: nil) }

    /// True when every sealed row and the head matched.
    public var ok: Bool
    /// The revocation list's version: changes to revocations and use counters so far.
    public var serial: Int64
    /// Hex of the head's MAC at that version.
    public var head: String
    /// Sealed rows checked.
    public var rows: Int
    /// The first problem found, or null.
    public var problem: String?

    public init(ok: Bool, serial: Int64, head: String, rows: Int, problem: String?) {
        self.ok = ok
        self.serial = serial
        self.head = head
        self.rows = rows
        self.problem = problem
    }
}
