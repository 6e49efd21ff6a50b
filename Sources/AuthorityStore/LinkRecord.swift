import AuthorityCore
import Foundation
import GRDB

/// What the daemon keeps of an issued link (table `link_record`): its grant summary, its issuer
/// and the issuer's reference. Written in the transaction, so a link that was answered has
/// its record; kept until its link has been expired for `StoreConfiguration.eventRetention`.
/// Never a signature, a link or a password.
public struct LinkRecord: Sendable, Equatable {
    public var id: LinkID
    public var epoch: UInt64
    public var issuedAt: Int64
    public var notBefore: Int64?
    public var expiresAt: Int64
    /// The canonical path, or the prefix of a prefix link.
    public var resource: String
    public var isPrefix: Bool
    public var host: String?
    /// Canonical method names, as signed (`GET,HEAD`).
    public var methods: String
    public var ip: String?
    public var maxUses: Int64?
    public var password: Bool
    public var cookie: Bool
    public var issuerUID: UInt32?
    /// The issuer's own reference (1 to 128 visible ASCII characters).
    public var ref: String?

    public init(
        id: LinkID, epoch: UInt64, issuedAt: Int64, notBefore: Int64? = nil, expiresAt: Int64, resource: String,
        isPrefix: Bool = false, host: String? = nil, methods: String = "GET,HEAD", ip: String? = nil,
        maxUses: Int64? = nil, password: Bool = false, cookie: Bool = false, issuerUID: UInt32? = nil, ref: String? = nil
    ) {
        self.id = id
        self.epoch = epoch
        self.issuedAt = issuedAt
        self.notBefore = notBefore
        self.expiresAt = expiresAt
        self.resource = resource
        self.isPrefix = isPrefix
        self.host = host
        self.methods = methods
        self.ip = ip
        self.maxUses = maxUses
        self.password = password
        self.cookie = cookie
        self.issuerUID = issuerUID
        self.ref = ref
    }

    /// The longest `ref`, in bytes.
    public static let refLimit = 128

    /// Whether `ref` is 1 to `refLimit` visible ASCII characters (no space, no control, nothing
    /// that only looks like ASCII): safe in a header, a log line and a file name's company.
    public static func isValidRef(_ ref: String) -> Bool {
        let bytes = ref.utf8
        return (1...refLimit).contains(bytes.count) && bytes.allSatisfy { (0x21...0x7E).contains($0) }
    }

    /// Whether `revocation` ends this link for every request it grants: the link's id, or a rule
    /// that covers its whole resource (a prefix link's prefix) and its issue time. A rule deeper
    /// than a prefix link's prefix refuses some of its requests only, and does not end it.
    public func isEnded(by revocation: Revocation) -> Bool { isEnded(by: RevocationIndex([revocation])) }

    /// Whether a rule of `index` ends this link (as `isEnded(by:)`): one index for many records.
    public func isEnded(by index: RevocationIndex) -> Bool { index.isRevoked(id: id, path: resource, issuedAt: issuedAt) }

    /// The columns of `link_record`, in the order `values` gives them.
    /// `columns` as a select or insert list.
    package static let columnList = columns.joined(separator: ", ")

    package static let columns = [
        "link_id", "epoch", "issued_at", "not_before", "expires_at", "resource", "is_prefix", "host", "methods", "ip",
        "max_uses", "password", "cookie", "issuer_uid", "ref",
    ]
}

extension SQLiteStore {
    static func insertRecord(_ db: Database, _ record: LinkRecord) throws {
        try db.cachedStatement(sql: "INSERT INTO link_record (\(LinkRecord.columnList)) VALUES (\(marks(LinkRecord.columns.count)))")
            .execute(arguments: [
                Data(record.id.bytes), Int64(record.epoch), record.issuedAt, record.notBefore, record.expiresAt,
                record.resource, record.isPrefix ? 1 : 0, record.host, record.methods, record.ip, record.maxUses,
                record.password ? 1 : 0, record.cookie ? 1 : 0, record.issuerUID.map { Int64($0) }, record.ref,
            ])
    }

    /// The record of link `id`; nil when it was never issued here or has been collected.
    public func linkRecord(_ id: LinkID) throws -> LinkRecord? {
        try database.read { db in try Self.record(id, db) }
    }

    /// The record in `row`, which starts with `LinkRecord.columns` in their order (read by
    /// position: a lookup by name compares every column's name, lowercased, each time).
    static func linkRecord(from row: Row) throws -> LinkRecord {
        let bytes: Data = row[0]
        guard bytes.count == 16, let epoch = UInt64(exactly: row[1] as Int64) else {
            throw StoreError.corruptRow("link_record")
        }
        return LinkRecord(
            id: LinkID(bytes: [UInt8](bytes)), epoch: epoch, issuedAt: row[2], notBefore: row[3], expiresAt: row[4],
            resource: row[5], isPrefix: row[6] as Int64 == 1, host: row[7], methods: row[8], ip: row[9], maxUses: row[10],
            password: row[11] as Int64 == 1, cookie: row[12] as Int64 == 1,
            issuerUID: (row[13] as Int64?).flatMap { UInt32(exactly: $0) }, ref: row[14])
    }

    /// The revocations that end `record`'s link (`LinkRecord.isEnded(by:)`), oldest first.
    public func revocations(ending record: LinkRecord) throws -> [RevocationRecord] {
        try database.read { db in
            // Candidates: the id, and every rule whose prefix is a byte prefix of the resource.
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM revocation
                    WHERE link_id = ? OR (prefix IS NOT NULL AND substr(?, 1, length(CAST(prefix AS BLOB))) = CAST(prefix AS BLOB))
                    ORDER BY id
                    """,
                arguments: [Data(record.id.bytes), Data(record.resource.utf8)]
            ).map(Self.record(from:)).filter { record.isEnded(by: $0.revocation) }
        }
    }
}

/// The part of a link's record that changes after its issue: how its life ended (once told) and
/// what the checks saw (`recordActivity`).
public struct LinkUsage: Sendable, Equatable {
    public var ended: String?
    public var warned: Bool
    public var firstUsedAt: Int64?
    public var lastUsedAt: Int64?
    /// Allowed checks, as flushed (a use-limited link's consuming checks are also its counter's).
    public var usesSeen: Int64
    public var lastRefused: String?
    public var lastRefusedAt: Int64?

    public init(
        ended: String? = nil, warned: Bool = false, firstUsedAt: Int64? = nil, lastUsedAt: Int64? = nil, usesSeen: Int64 = 0,
        lastRefused: String? = nil, lastRefusedAt: Int64? = nil
    ) {
        self.ended = ended
        self.warned = warned
        self.firstUsedAt = firstUsedAt
        self.lastUsedAt = lastUsedAt
        self.usesSeen = usesSeen
        self.lastRefused = lastRefused
        self.lastRefusedAt = lastRefusedAt
    }

    package static let columns = ["ended", "warned", "first_used_at", "last_used_at", "uses_seen", "last_refused", "last_refused_at"]
    package static let columnList = columns.joined(separator: ", ")
}

extension SQLiteStore {
    public func linkUsage(_ id: LinkID) throws -> LinkUsage? {
        try database.read { db in
            try Row.fetchOne(
                db, sql: "SELECT \(LinkUsage.columnList) FROM link_record_with_activity WHERE link_id = ?",
                arguments: [Data(id.bytes)]
            ).map { row in
                LinkUsage(
                    ended: row["ended"], warned: row["warned"] as Int64 == 1, firstUsedAt: row["first_used_at"],
                    lastUsedAt: row["last_used_at"], usesSeen: row["uses_seen"], lastRefused: row["last_refused"],
                    lastRefusedAt: row["last_refused_at"])
            }
        }
    }

    /// The writer's temporary table of a flush's links (one chunk at a time), made when the store
    /// opens (`openDatabase`).
    static let activityFlushTable = """
        CREATE TEMP TABLE activity_flush (position INTEGER PRIMARY KEY, record INTEGER NOT NULL,
            first INTEGER, last INTEGER, allowed INTEGER NOT NULL, refused TEXT, refused_at INTEGER)
        """

    /// Writes what the checks saw to the links' activity (table `link_activity`, a narrow row
    /// per used link), in one write, `rowsPerStatement` links at a time, in three statements that
    /// return no rows: the links' records found once, by link id, into the writer's temporary
    /// table (`activityFlushTable`, in memory); the `first_used` events, INSERT … SELECT, of the
    /// plain links with no first use before this flush; then the activity, an upsert. A link
    /// with no record (never issued here, or collected) is skipped. The events go in the order
    /// of `activity` (`ActivityLog.take`: the order of the first allowed checks).
    @discardableResult
    public func recordActivity(_ activity: [LinkActivity]) throws -> Int {
        guard !activity.isEmpty else { return 0 }
        return try groupCommit.perform { db in
            var told = 0
            for chunk in activity.chunks(of: Self.rowsPerStatement) {
                var seen = StatementArguments()
                for (position, link) in chunk.enumerated() {
                    seen += [position, Data(link.id.bytes), link.firstAllowed, link.lastAllowed, link.allowed, link.refused, link.refusedAt]
                }
                try db.cachedStatement(sql: "DELETE FROM temp.activity_flush").execute()
                try Self.statement(
                    db, rows: chunk.count,
                    sql: """
                        INSERT INTO temp.activity_flush (position, record, first, last, allowed, refused, refused_at)
                        SELECT v.column1, r.record, v.column3, v.column4, v.column5, v.column6, v.column7
                        FROM (VALUES \(Self.placeholders(rows: chunk.count, columns: 7))) AS v JOIN link_record AS r ON r.link_id = v.column2
                        """
                ).execute(arguments: seen)
                // A use-limited link's first use is told with the use itself (consumeUse).
                try db.cachedStatement(
                    sql: """
                        INSERT INTO link_event (at, kind, link_id, resource, issuer_uid, ref)
                        SELECT s.first, 'first_used', r.link_id, r.resource, r.issuer_uid, r.ref
                        FROM temp.activity_flush AS s JOIN link_record AS r ON r.record = s.record
                        WHERE s.first IS NOT NULL AND r.max_uses IS NULL
                            AND NOT EXISTS (SELECT 1 FROM link_activity AS a WHERE a.record = s.record AND a.first_used_at IS NOT NULL)
                        ORDER BY s.position
                        """
                ).execute()
                told += db.changesCount
                // `WHERE true`: an upsert after a SELECT must have one (SQLite's parser).
                try db.cachedStatement(
                    sql: """
                        INSERT INTO link_activity (record, first_used_at, last_used_at, uses_seen, last_refused, last_refused_at)
                        SELECT record, first, last, allowed, refused, refused_at FROM temp.activity_flush WHERE true
                        ON CONFLICT (record) DO UPDATE SET first_used_at = coalesce(first_used_at, excluded.first_used_at),
                            last_used_at = max(coalesce(last_used_at, excluded.last_used_at), coalesce(excluded.last_used_at, last_used_at)),
                            uses_seen = uses_seen + excluded.uses_seen,
                            last_refused = coalesce(excluded.last_refused, last_refused),
                            last_refused_at = coalesce(excluded.last_refused_at, last_refused_at)
                        """
                ).execute()
            }
            return told
        }
    }
}

extension SQLiteStore {
    public func refs(of ids: [LinkID]?, now: Int64, limit: Int) throws -> [(id: LinkID, ref: String?, expiresAt: Int64)] {
        try database.read { db in
            let rows: [Row]
            if let ids {
                guard !ids.isEmpty else { return [] }
                rows = try Row.fetchAll(
                    db, sql: "SELECT link_id, ref, expires_at FROM link_record WHERE expires_at > ? AND link_id IN (\(Self.marks(ids.count)))",
                    arguments: StatementArguments([now] + ids.map { Data($0.bytes) as (any DatabaseValueConvertible) }))
            } else {
                rows = try Row.fetchAll(
                    db, sql: "SELECT link_id, ref, expires_at FROM link_record WHERE ref IS NOT NULL AND expires_at > ? ORDER BY expires_at DESC LIMIT ?",
                    arguments: [now, limit])
            }
            return rows.compactMap { row in
                let bytes: Data = row[0]
                guard bytes.count == 16 else { return nil }
                return (LinkID(bytes: [UInt8](bytes)), row[1], row[2])
            }
        }
    }
}
