import AuthorityCore
import Foundation
import GRDB

/// What happened to an issued link (docs/events.md).
public enum LinkEventKind: String, Sendable, CaseIterable {
    case issued
    /// The first consuming use of a use-limited link.
    case firstUsed = "first_used"
    /// Each consuming use of a use-limited link (`usesLeft` after it).
    case used
    /// The use that left none.
    case usedUp = "used_up"
    /// Wrong passwords locked the link.
    case passwordLocked = "password_locked"
    /// A revocation ended the link (`revocation` is its serial): its id, or a rule covering all it grants.
    case revoked
    case expired
    case expiringSoon = "expiring_soon"
    /// Its epoch was retired.
    case retired
}

/// One lifecycle event (table `link_event`), with what its link's record says of the link. Never
/// a signature, a link or a password.
public struct LinkEvent: Sendable, Equatable {
    /// Commit order: a later event has a larger serial; serials are never reused.
    public var serial: Int64
    public var at: Int64
    public var kind: LinkEventKind
    public var linkID: LinkID
    public var resource: String
    public var issuerUID: UInt32?
    public var ref: String?
    public var usesLeft: Int64?
    public var revocation: Int64?

    public init(
        serial: Int64, at: Int64, kind: LinkEventKind, linkID: LinkID, resource: String, issuerUID: UInt32? = nil,
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

    /// An event of `record`'s link, before it has its serial.
    public init(_ kind: LinkEventKind, of record: LinkRecord, at: Int64, usesLeft: Int64? = nil, revocation: Int64? = nil) {
        self.init(
            serial: 0, at: at, kind: kind, linkID: record.id, resource: record.resource, issuerUID: record.issuerUID,
            ref: record.ref, usesLeft: usesLeft, revocation: revocation)
    }

    package static let columns = ["serial", "at", "kind", "link_id", "resource", "issuer_uid", "ref", "uses_left", "revocation"]
    package static let columnList = columns.joined(separator: ", ")
}

/// What `Store.events` read.
public struct EventBatch: Sendable, Equatable {
    public var events: [LinkEvent]
    /// The highest serial retention has deleted: a reader whose `after` is below it missed events.
    public var collected: Int64
    /// The highest serial committed when the read began: a reader that filters by issuer and got
    /// less than a full page has seen everything up to it (and moves on to it, so that its
    /// position does not fall behind the retention while other issuers' events are collected).
    public var head: Int64
    public init(events: [LinkEvent], collected: Int64, head: Int64 = 0) {
        self.events = events
        self.collected = collected
        self.head = head
    }

    /// Where a reader of this batch, asked from `after` for `limit` events, goes on from.
    public func next(after: Int64, limit: Int) -> Int64 {
        if events.count >= limit, let last = events.last { return last.serial }
        return max(events.last?.serial ?? after, after, head, collected)
    }
}

extension SQLiteStore {
    /// Appends `event` (its serial is the table's next) inside a write.
    static func append(_ event: LinkEvent, _ db: Database) throws {
        try db.cachedStatement(sql: "INSERT INTO link_event (\(insertedColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
            .execute(arguments: values(of: event))
    }

    /// Appends `events` in order, inside a write: a statement per `rowsPerStatement` events.
    static func append(contentsOf events: [LinkEvent], _ db: Database) throws {
        for chunk in events.chunks(of: rowsPerStatement) {
            guard chunk.count > 1 else {
                try append(chunk[chunk.startIndex], db)
                continue
            }
            var arguments = StatementArguments()
            for event in chunk { arguments += values(of: event) }
            try statement(db, rows: chunk.count, sql: "INSERT INTO link_event (\(insertedColumns)) VALUES \(placeholders(rows: chunk.count, columns: 8))")
                .execute(arguments: arguments)
        }
    }

    /// The most rows one statement writes (its arguments stay far below SQLite's 32,766).
    package static let rowsPerStatement = 500

    /// The statement `sql` for `rows` rows: cached when it has the full `rowsPerStatement` (the
    /// size a busy flush repeats), else prepared for this once.
    static func statement(_ db: Database, rows: Int, sql: String) throws -> Statement {
        rows == rowsPerStatement ? try db.cachedStatement(sql: sql) : try db.makeStatement(sql: sql)
    }

    /// `rows` groups of `columns` question marks: a VALUES list.
    static func placeholders(rows: Int, columns: Int) -> String {
        Array(repeating: "(" + marks(columns) + ")", count: rows).joined(separator: ", ")
    }

    /// `count` question marks, comma-separated: a row's values, or an IN list.
    static func marks(_ count: Int) -> String { Array(repeating: "?", count: count).joined(separator: ", ") }

    private static let insertedColumns = "at, kind, link_id, resource, issuer_uid, ref, uses_left, revocation"

    private static func values(of event: LinkEvent) -> StatementArguments {
        [
            event.at, event.kind.rawValue, Data(event.linkID.bytes), event.resource, event.issuerUID.map { Int64($0) },
            event.ref, event.usesLeft, event.revocation,
        ]
    }

    /// The record of `id` inside a write (nil for a link issued without one).
    static func record(_ id: LinkID, _ db: Database) throws -> LinkRecord? {
        try Row.fetchOne(
            db.cachedStatement(sql: "SELECT \(LinkRecord.columnList) FROM link_record WHERE link_id = ?"),
            arguments: [Data(id.bytes)]
        ).map(linkRecord(from:))
    }

    /// One `revoked` event per live link `revocation` ends (not expired, not used up, not
    /// revoked before), inside its write.
    static func appendRevokedEvents(_ revocation: Revocation, serial: Int64, now: Int64, _ db: Database) throws {
        let candidates: [LinkRecord]
        let select = "SELECT \(LinkRecord.columnList) FROM link_record"
        // Live: not expired, and its end (used up, revoked, retired) not told yet.
        let notYet = "ended IS NULL AND expires_at > ?"
        switch revocation {
        case .id(let id):
            candidates = try Row.fetchAll(db, sql: "\(select) WHERE link_id = ? AND \(notYet)", arguments: [Data(id.bytes), now])
                .map(linkRecord(from:))
        case .prefix(let prefix), .issuedBefore(_, let prefix):
            // The records whose resource starts with the prefix's bytes, by the index on resource
            // (BINARY collation: byte order); `isEnded` keeps those the rule covers whole.
            candidates = try Row.fetchAll(
                db, sql: "\(select) WHERE resource >= ? AND resource < ? AND \(notYet) ORDER BY resource",
                arguments: [prefix, Self.after(prefix), now]
            ).map(linkRecord(from:))
        }
        // Read in this write with no end recorded, so each is marked here: in statements of
        // `rowsPerStatement` links, then their events (a broad rule can end many links).
        let rule = RevocationIndex([revocation])
        let ended = candidates.filter { $0.isEnded(by: rule) }
        for chunk in ended.chunks(of: rowsPerStatement) {
            try db.execute(
                sql: "UPDATE link_record SET ended = 'revoked' WHERE link_id IN (\(marks(chunk.count))) AND ended IS NULL",
                arguments: StatementArguments(chunk.map { Data($0.id.bytes) }))
        }
        try append(contentsOf: ended.map { LinkEvent(.revoked, of: $0, at: now, revocation: serial) }, db)
    }

    /// Records how the link's life ended, when no end was recorded yet; whether it was (then its
    /// ending event is to be written with it).
    static func markEnded(_ id: LinkID, _ kind: LinkEventKind, _ db: Database) throws -> Bool {
        try db.cachedStatement(sql: "UPDATE link_record SET ended = ? WHERE link_id = ? AND ended IS NULL")
            .execute(arguments: [kind.rawValue, Data(id.bytes)])
        return db.changesCount == 1
    }

    /// The live links of `epoch` its retirement ends: a `retired` event each, inside its write.
    static func appendRetiredEvents(epoch: UInt64, now: Int64, _ db: Database) throws {
        let rows = try Row.fetchAll(
            db,
            sql: """
                UPDATE link_record SET ended = 'retired' WHERE epoch = ? AND ended IS NULL AND expires_at > ?
                RETURNING \(LinkRecord.columnList)
                """,
            arguments: [Int64(epoch), now])
        try append(contentsOf: try ordered(rows.map(linkRecord(from:))).map { LinkEvent(.retired, of: $0, at: now) }, db)
    }

    /// Maintenance's events, one write: `expired` for each link whose expiry passed with its end
    /// untold, `expiring_soon` for each live link within `lead` seconds of its expiry (a link
    /// that lives longer than `lead`; 0: none). Returns how many.
    @discardableResult
    public func tellLifecycle(now: Int64) throws -> Int {
        let lead = configuration.expiringSoon
        let columns = LinkRecord.columnList
        return try groupCommit.perform { db in
            // At most `lifecycleBatch` a round, the earliest first: a mass expiry is told over
            // several rounds instead of holding the writer for one long transaction.
            let expired = try Row.fetchAll(
                db,
                sql: """
                    UPDATE link_record SET ended = 'expired' WHERE link_id IN (
                        SELECT link_id FROM link_record WHERE ended IS NULL AND expires_at <= ? ORDER BY expires_at LIMIT ?)
                    RETURNING \(columns)
                    """,
                arguments: [now, Self.lifecycleBatch])
            try Self.append(contentsOf: try Self.ordered(expired.map(Self.linkRecord(from:))).map { LinkEvent(.expired, of: $0, at: now) }, db)
            guard lead > 0 else { return expired.count }
            let (soon, overflow) = now.addingReportingOverflow(lead)
            let warned = try Row.fetchAll(
                db,
                sql: """
                    UPDATE link_record SET warned = 1 WHERE link_id IN (
                        SELECT link_id FROM link_record
                        WHERE ended IS NULL AND warned = 0 AND expires_at > ? AND expires_at <= ? AND expires_at - issued_at > ?
                        ORDER BY expires_at LIMIT ?)
                    RETURNING \(columns)
                    """,
                arguments: [now, overflow ? Int64.max : soon, lead, Self.lifecycleBatch])
            try Self.append(
                contentsOf: try Self.ordered(warned.map(Self.linkRecord(from:))).map { LinkEvent(.expiringSoon, of: $0, at: now) }, db)
            return expired.count + warned.count
        }
    }

    /// The most `expired` (and `expiring_soon`) events one maintenance round writes.
    package static let lifecycleBatch = 20_000

    /// Records in a stable order (expiry, then resource, then id) for their events.
    package static func ordered(_ records: [LinkRecord]) -> [LinkRecord] {
        records.sorted { ($0.expiresAt, $0.resource, $0.id) < ($1.expiresAt, $1.resource, $1.id) }
    }

    /// The smallest string above every string that starts with `prefix` (its bytes, the last one
    /// raised; a canonical path is ASCII, so no byte is 0xFF).
    package static func after(_ prefix: String) -> String {
        var bytes = Array(prefix.utf8)
        while let last = bytes.last, last == 0xFF { bytes.removeLast() }
        guard !bytes.isEmpty else { return "\u{10FFFF}" }
        bytes[bytes.count - 1] += 1
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Events with serials above `after`, oldest first, at most `limit`; only those of links
    /// `issuer` issued, when given.
    public func events(after: Int64, limit: Int, issuer: UInt32?) throws -> EventBatch {
        try database.read { db in
            let collected = try Int64.fetchOne(db, sql: "SELECT events_collected FROM store_meta") ?? 0
            let head = try Int64.fetchOne(db, sql: "SELECT max(serial) FROM link_event") ?? collected
            let columns = LinkEvent.columnList
            let rows =
                if let issuer {
                    try Row.fetchAll(
                        db, sql: "SELECT \(columns) FROM link_event WHERE issuer_uid = ? AND serial > ? ORDER BY serial LIMIT ?",
                        arguments: [Int64(issuer), after, limit])
                } else {
                    try Row.fetchAll(
                        db, sql: "SELECT \(columns) FROM link_event WHERE serial > ? ORDER BY serial LIMIT ?", arguments: [after, limit])
                }
            return EventBatch(events: try rows.map(Self.event(from:)), collected: collected, head: head)
        }
    }

    /// The event in `row`, which holds `LinkEvent.columns` in their order (read by position).
    static func event(from row: Row) throws -> LinkEvent {
        let bytes: Data = row[3]
        guard bytes.count == 16, let kind = LinkEventKind(rawValue: row[2]) else { throw StoreError.corruptRow("link_event") }
        return LinkEvent(
            serial: row[0], at: row[1], kind: kind, linkID: LinkID(bytes: [UInt8](bytes)), resource: row[4],
            issuerUID: (row[5] as Int64?).flatMap { UInt32(exactly: $0) }, ref: row[6], usesLeft: row[7], revocation: row[8])
    }

    /// Deletes the events older than `before` (by serial: every serial up to the newest such
    /// event) and records the highest serial deleted. Inside maintenance's write.
    static func collectEvents(before: Int64, _ db: Database) throws -> Int {
        guard let newest = try Int64.fetchOne(db, sql: "SELECT max(serial) FROM link_event WHERE at < ?", arguments: [before]) else {
            return 0
        }
        try db.execute(sql: "DELETE FROM link_event WHERE serial <= ?", arguments: [newest])
        let deleted = db.changesCount
        try db.execute(sql: "UPDATE store_meta SET events_collected = max(events_collected, ?)", arguments: [newest])
        return deleted
    }
}
