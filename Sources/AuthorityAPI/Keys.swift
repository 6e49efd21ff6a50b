/// One public key as a JWK (RFC 8037) with the key ring's state beside it.
public struct JSONWebKey: Codable, Sendable, Equatable {
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

    enum CodingKeys: String, CodingKey {
        case kty, crv, x, kid, use, alg, status
        case createdAt = "created_at", retireAfter = "retire_after", retiredAt = "retired_at"
    }

    /// Absent values are written as `null`, so every answer has the same members.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(kty, forKey: .kty)
        try container.encode(crv, forKey: .crv)
        try container.encode(x, forKey: .x)
        try container.encode(kid, forKey: .kid)
        try container.encode(use, forKey: .use)
        try container.encode(alg, forKey: .alg)
        try container.encode(status, forKey: .status)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(retireAfter, forKey: .retireAfter)
        try container.encode(retiredAt, forKey: .retiredAt)
    }

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
public struct RotateResponse: Codable, Sendable, Equatable {
    public var epoch: UInt64
    public var previousEpoch: UInt64?

    enum CodingKeys: String, CodingKey {
        case epoch
        case previousEpoch = "previous_epoch"
    }

    /// Absent values are written as `null`, so every answer has the same members.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(epoch, forKey: .epoch)
        try container.encode(previousEpoch, forKey: .previousEpoch)
    }

    public init(epoch: UInt64, previousEpoch: UInt64?) {
        self.epoch = epoch
        self.previousEpoch = previousEpoch
    }
}

/// `POST /v1/keys/{epoch}/retire` body (optional: an empty body means no force).
public struct RetireRequest: APIRequestBody, Equatable {
    public var force: Bool?

    enum CodingKeys: String, CodingKey, CaseIterable { case force }
    public static let fieldNames = Set(CodingKeys.allCases.map(\.rawValue))

    public init(force: Bool? = nil) { self.force = force }
}

/// `GET /v1/health`.
public struct HealthResponse: Codable, Sendable, Equatable {
    public var status: String
    public var version: String
    public var activeEpoch: UInt64
    /// Number of revocations held, or null when the revocation list is switched off.
    public var revocations: Int?
    public var uptimeSeconds: Int64

    enum CodingKeys: String, CodingKey {
        case status, version, revocations
        case activeEpoch = "active_epoch", uptimeSeconds = "uptime_seconds"
    }

    /// Absent values are written as `null`, so every answer has the same members.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(status, forKey: .status)
        try container.encode(version, forKey: .version)
        try container.encode(activeEpoch, forKey: .activeEpoch)
        try container.encode(revocations, forKey: .revocations)
        try container.encode(uptimeSeconds, forKey: .uptimeSeconds)
    }

    public init(status: String, version: String, activeEpoch: UInt64, revocations: Int?, uptimeSeconds: Int64) {
        self.status = status
        self.version = version
        self.activeEpoch = activeEpoch
        self.revocations = revocations
        self.uptimeSeconds = uptimeSeconds
    }
}

/// `GET /v1/integrity`: every revocation and use counter checked against its MAC, and the head
/// against them (docs/operations.md).
public struct IntegrityResponse: Codable, Sendable, Equatable {
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

    enum CodingKeys: String, CodingKey { case ok, serial, head, rows, problem }

    /// `problem` is written as `null` when absent, so every answer has the same members.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(ok, forKey: .ok)
        try container.encode(serial, forKey: .serial)
        try container.encode(head, forKey: .head)
        try container.encode(rows, forKey: .rows)
        try container.encode(problem, forKey: .problem)
    }
}
