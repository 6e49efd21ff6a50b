import AuthorityCore
import AuthorityStore
import Foundation
import PostgresNIO

/// Lifecycle events in PostgreSQL (as in SQLite: Sources/AuthorityStore/LinkEvent.swift). A write
/// appends its events to the transaction; `finish` gives them serials from `store_meta.next_event`
/// under store_meta's row lock, so the fleet's serials follow commit order.
extension PostgresStore {
    /// `events`, in order, with the next serials, in one statement.
    static func insert(_ pending: [LinkEvent], _ transaction: PostgresTransaction) async throws {
        // The uses counted before store_meta was locked end their links here, under it (a row
        // lock on link_record taken before store_meta's could deadlock with maintenance), unless
        // another end (a revocation, the expiry, a retirement) was recorded first: then no
        // `used_up`, so that each link's end is told once.
        let usedUp = pending.filter { $0.kind == .usedUp }.map { ByteBuffer(bytes: $0.linkID.bytes) }
        var ended: Set<LinkID> = []
        if !usedUp.isEmpty {
            let rows = try await transaction.rows(
                "UPDATE link_record SET ended = 'used_up' WHERE link_id = ANY(\(usedUp)) AND ended IS NULL RETURNING link_id")
            for row in rows { ended.insert(LinkID(bytes: [UInt8](try row.decode(Data.self)))) }
        }
        let events = pending.filter { $0.kind != .usedUp || ended.contains($0.linkID) }
        guard !events.isEmpty else { return }
        let count = Int64(events.count)
        let rows = try await transaction.rows(
            "UPDATE store_meta SET next_event = next_event + \(count) WHERE only_row = 1 RETURNING next_event - \(count)")
        guard let first = try rows.first?.decode(Int64.self) else { throw StoreError.corruptRow("store_meta is missing") }
        // One statement from arrays, however many events (a broad revocation can end many links):
        // the arrays hold no NULL, so an absent value is -1 (uid, uses left, revocation) or ''
        // (ref), which no event has, and the statement reads those as NULL.
        try await transaction.run(
            """
            INSERT INTO link_event (\(unescaped: LinkEvent.columnList))
            SELECT \(first) + v.n - 1, v.at, v.kind, v.link_id, v.resource, NULLIF(v.uid, -1), NULLIF(v.ref, ''),
                NULLIF(v.uses_left, -1), NULLIF(v.revocation, -1)
            FROM unnest(\(events.map(\.at))::bigint[], \(events.map(\.kind.rawValue))::text[],
                \(events.map { ByteBuffer(bytes: $0.linkID.bytes) })::bytea[], \(events.map(\.resource))::text[],
                \(events.map { $0.issuerUID.map(Int64.init) ?? -1 })::bigint[], \(events.map { $0.ref ?? "" })::text[],
                \(events.map { $0.usesLeft ?? -1 })::bigint[], \(events.map { $0.revocation ?? -1 })::bigint[])
                WITH ORDINALITY AS v(at, kind, link_id, resource, uid, ref, uses_left, revocation, n)
            """)
    }

    /// The records of `ids` (those that have one).
    static func records(_ ids: [LinkID], _ transaction: PostgresTransaction) async throws -> [LinkID: LinkRecord] {
        let keys = ids.map { ByteBuffer(bytes: $0.bytes) }
        let rows = try await transaction.rows(
            "SELECT \(unescaped: LinkRecord.columnList) FROM link_record WHERE link_id = ANY(\(keys))")
        var records: [LinkID: LinkRecord] = [:]
        for row in rows {
            let record = try linkRecord(from: row)
            records[record.id] = record
        }
        return records
    }

    static func linkRecord(from row: PostgresRow) throws -> LinkRecord {
        let cells = row.makeRandomAccess()
        func cell<T: PostgresDecodable>(_ name: String, _ type: T.Type) throws -> T { try cells[name].decode(T.self) }
        let bytes = try cell("link_id", Data.self)
        guard bytes.count == 16, let epoch = UInt64(exactly: try cell("epoch", Int64.self)) else {
            throw StoreError.corruptRow("link_record")
        }
        return LinkRecord(
            id: LinkID(bytes: [UInt8](bytes)), epoch: epoch, issuedAt: try cell("issued_at", Int64.self),
            notBefore: try cell("not_before", Int64?.self), expiresAt: try cell("expires_at", Int64.self),
            resource: try cell("resource", String.self), isPrefix: try cell("is_prefix", Int64.self) == 1,
            host: try cell("host", String?.self), methods: try cell("methods", String.self), ip: try cell("ip", String?.self),
            maxUses: try cell("max_uses", Int64?.self), password: try cell("password", Int64.self) == 1,
            cookie: try cell("cookie", Int64.self) == 1,
            issuerUID: try cell("issuer_uid", Int64?.self).flatMap { UInt32(exactly: $0) }, ref: try cell("ref", String?.self))
    }

    /// `first_used`, `used` and `used_up` for each use a batch counted, in queue order.
    static func appendUseEvents(
        ids: [LinkID], outcomes: [Result<UseOutcome, any Error>], counters: [LinkID: Int64], store: PostgresStore,
        _ transaction: PostgresTransaction
    ) async throws {
        let counted = zip(ids, outcomes).compactMap { id, outcome -> (LinkID, Int64)? in
            guard case .success(.used(let remaining)) = outcome else { return nil }
            return (id, remaining)
        }
        guard !counted.isEmpty else { return }
        let records = try await records(Array(Set(counted.map(\.0))), transaction)
        let at = store.time.value
        for (id, left) in counted {
            guard let record = records[id], let maxUses = counters[id] else { continue }
            if left == maxUses - 1 { transaction.events.append(LinkEvent(.firstUsed, of: record, at: at, usesLeft: left)) }
            transaction.events.append(LinkEvent(.used, of: record, at: at, usesLeft: left))
            if left == 0 { transaction.events.append(LinkEvent(.usedUp, of: record, at: at, usesLeft: 0)) }
        }
    }

    /// One `revoked` event per live link `revocation` ends (not expired, not used up, not revoked before).
    static func appendRevokedEvents(_ revocation: Revocation, serial: Int64, now: Int64, _ transaction: PostgresTransaction) async throws {
        let columns = LinkRecord.columnList
        let rows: [PostgresRow]
        switch revocation {
        case .id(let id):
            rows = try await transaction.rows(
                """
                SELECT \(unescaped: columns) FROM link_record WHERE link_id = \(Data(id.bytes)) AND expires_at > \(now)
                AND ended IS NULL
                """)
        case .prefix(let prefix), .issuedBefore(_, let prefix):
            // Byte order (COLLATE "C", the index's): the records whose resource starts with the prefix.
            rows = try await transaction.rows(
                """
                SELECT \(unescaped: columns) FROM link_record
                WHERE resource COLLATE "C" >= \(prefix) AND resource COLLATE "C" < \(SQLiteStore.after(prefix)) AND expires_at > \(now)
                AND ended IS NULL
                ORDER BY resource COLLATE "C"
                """)
        }
        // The record's end is set here, under store_meta's lock (a use of this batch that used
        // the link up then tells no `used_up`: see `insert`).
        let rule = RevocationIndex([revocation])
        let ended = try rows.map(linkRecord(from:)).filter { $0.isEnded(by: rule) }
        guard !ended.isEmpty else { return }
        let marked = try await transaction.rows(
            """
            UPDATE link_record SET ended = 'revoked' WHERE link_id = ANY(\(ended.map { ByteBuffer(bytes: $0.id.bytes) }))
            AND ended IS NULL RETURNING link_id
            """)
        let told = Set(try marked.map { LinkID(bytes: [UInt8](try $0.decode(Data.self))) })
        for record in ended where told.contains(record.id) {
            transaction.events.append(LinkEvent(.revoked, of: record, at: now, revocation: serial))
        }
    }

    /// The live links of `epoch` its retirement ends: a `retired` event each.
    static func appendRetiredEvents(epoch: UInt64, now: Int64, _ transaction: PostgresTransaction) async throws {
        let rows = try await transaction.rows(
            """
            UPDATE link_record SET ended = 'retired' WHERE epoch = \(Int64(epoch)) AND ended IS NULL AND expires_at > \(now)
            RETURNING \(unescaped: LinkRecord.columnList)
            """)
        for record in SQLiteStore.ordered(try rows.map(linkRecord(from:))) {
            transaction.events.append(LinkEvent(.retired, of: record, at: now))
        }
    }

    /// `expired` and `expiring_soon`, as `SQLiteStore.tellLifecycle`: one write, under the
    /// fleet's commit lock, so that of the daemons whose maintenance runs at once only one tells
    /// each (the others find the rows marked).
    @discardableResult
    public func tellLifecycle(now: Int64) throws -> Int {
        let lead = configuration.expiringSoon
        return try performWrite { transaction in
            let columns = LinkRecord.columnList
            let expired = try await transaction.rows(
                """
                UPDATE link_record SET ended = 'expired' WHERE link_id IN (
                    SELECT link_id FROM link_record WHERE ended IS NULL AND expires_at <= \(now)
                    ORDER BY expires_at LIMIT \(Int64(SQLiteStore.lifecycleBatch)) FOR UPDATE)
                AND ended IS NULL RETURNING \(unescaped: columns)
                """)
            for record in SQLiteStore.ordered(try expired.map(Self.linkRecord(from:))) {
                transaction.events.append(LinkEvent(.expired, of: record, at: now))
            }
            guard lead > 0 else { return expired.count }
            let (soon, overflow) = now.addingReportingOverflow(lead)
            let warned = try await transaction.rows(
                """
                UPDATE link_record SET warned = 1 WHERE link_id IN (
                    SELECT link_id FROM link_record
                    WHERE ended IS NULL AND warned = 0 AND expires_at > \(now) AND expires_at <= \(overflow ? Int64.max : soon)
                    AND expires_at - issued_at > \(lead)
                    ORDER BY expires_at LIMIT \(Int64(SQLiteStore.lifecycleBatch)) FOR UPDATE)
                AND ended IS NULL AND warned = 0 RETURNING \(unescaped: columns)
                """)
            for record in SQLiteStore.ordered(try warned.map(Self.linkRecord(from:))) {
                transaction.events.append(LinkEvent(.expiringSoon, of: record, at: now))
            }
            return expired.count + warned.count
        }
    }

    public func events(after: Int64, limit: Int, issuer: UInt32?) throws -> EventBatch {
        try performRead { [logger] connection in
            // Three reads, in this order: the head before the rows (every serial up to it was
            // committed), the horizon after them (a deletion between the two is then a 410).
            let head = try await connection.query("SELECT next_event - 1 FROM store_meta", logger: logger)
                .collect().first?.decode(Int64.self) ?? 0
            let columns = LinkEvent.columnList
            let rows =
                if let issuer {
                    try await connection.query(
                        """
                        SELECT \(unescaped: columns) FROM link_event WHERE issuer_uid = \(Int64(issuer)) AND serial > \(after)
                        ORDER BY serial LIMIT \(Int64(limit))
                        """, logger: logger
                    ).collect()
                } else {
                    try await connection.query(
                        "SELECT \(unescaped: columns) FROM link_event WHERE serial > \(after) ORDER BY serial LIMIT \(Int64(limit))",
                        logger: logger
                    ).collect()
                }
            let collected = try await connection.query("SELECT events_collected FROM store_meta", logger: logger)
                .collect().first?.decode(Int64.self) ?? 0
            return EventBatch(events: try rows.map(Self.event(from:)), collected: collected, head: head)
        }
    }

    static func event(from row: PostgresRow) throws -> LinkEvent {
        let (serial, at, kindName, linkID, resource, uid, ref, left, revocation) = try row.decode(
            (Int64, Int64, String, Data, String, Int64?, String?, Int64?, Int64?).self)
        guard linkID.count == 16, let kind = LinkEventKind(rawValue: kindName) else { throw StoreError.corruptRow("link_event") }
        return LinkEvent(
            serial: serial, at: at, kind: kind, linkID: LinkID(bytes: [UInt8](linkID)), resource: resource,
            issuerUID: uid.flatMap { UInt32(exactly: $0) }, ref: ref, usesLeft: left, revocation: revocation)
    }

    /// Deletes the events older than `before` (every serial up to the newest such event) and
    /// records the highest serial deleted; inside maintenance's write.
    static func collectEvents(before: Int64, _ transaction: PostgresTransaction) async throws -> Int {
        guard let newest = try await transaction.rows("SELECT max(serial) FROM link_event WHERE at < \(before)").first?
            .decode(Int64?.self)
        else { return 0 }
        let deleted = try await transaction.rows("DELETE FROM link_event WHERE serial <= \(newest) RETURNING serial")
        try await transaction.run(
            "UPDATE store_meta SET events_collected = GREATEST(events_collected, \(newest)) WHERE only_row = 1")
        return deleted.count
    }
}

extension PostgresStore {
    public func linkUsage(_ id: LinkID) throws -> LinkUsage? {
        try performRead { [logger] connection in
            guard let row = try await connection.query(
                "SELECT \(unescaped: LinkUsage.columnList) FROM link_record WHERE link_id = \(Data(id.bytes))",
                logger: logger
            ).collect().first else { return nil }
            let (ended, warned, first, last, seen, refused, refusedAt) = try row.decode(
                (String?, Int64, Int64?, Int64?, Int64, String?, Int64?).self)
            return LinkUsage(
                ended: ended, warned: warned == 1, firstUsedAt: first, lastUsedAt: last, usesSeen: seen, lastRefused: refused,
                lastRefusedAt: refusedAt)
        }
    }

    /// As `SQLiteStore.recordActivity`, in three statements: the records locked in link id order
    /// (the same in every daemon, so two daemons' flushes never wait on each other in a cycle),
    /// one UPDATE from arrays (`unnest`), and the records of the links used for the first time.
    @discardableResult
    public func recordActivity(_ activity: [LinkActivity]) throws -> Int {
        guard !activity.isEmpty else { return 0 }
        return try performWrite { transaction in
            let keys = activity.map { ByteBuffer(bytes: $0.id.bytes) }
            var firstTime: Set<LinkID> = []
            for row in try await transaction.rows(
                "SELECT link_id, first_used_at IS NULL AND max_uses IS NULL FROM link_record WHERE link_id = ANY(\(keys)) ORDER BY link_id FOR UPDATE"
            ) {
                let (bytes, untold) = try row.decode((Data, Bool).self)
                if untold { firstTime.insert(LinkID(bytes: [UInt8](bytes))) }
            }
            // Arrays hold no NULL here: a link with no allowed check has 0 for its times, one with
            // no refusal an empty reason, and the statement reads those as absent.
            try await transaction.run(
                """
                UPDATE link_record AS r SET first_used_at = coalesce(r.first_used_at, CASE WHEN v.allowed > 0 THEN v.first END),
                    last_used_at = CASE WHEN v.allowed > 0 THEN GREATEST(r.last_used_at, v.last) ELSE r.last_used_at END,
                    uses_seen = r.uses_seen + v.allowed,
                    last_refused = coalesce(NULLIF(v.refused, ''), r.last_refused),
                    last_refused_at = CASE WHEN v.refused <> '' THEN v.refused_at ELSE r.last_refused_at END
                FROM unnest(\(keys)::bytea[], \(activity.map { $0.firstAllowed ?? 0 })::bigint[],
                    \(activity.map { $0.lastAllowed ?? 0 })::bigint[], \(activity.map(\.allowed))::bigint[],
                    \(activity.map { $0.refused ?? "" })::text[], \(activity.map { $0.refusedAt ?? 0 })::bigint[])
                    AS v(link_id, first, last, allowed, refused, refused_at)
                WHERE r.link_id = v.link_id
                """)
            let used = activity.filter { $0.allowed > 0 && $0.firstAllowed != nil && firstTime.contains($0.id) }
            guard !used.isEmpty else { return 0 }
            let records = try await Self.records(used.map(\.id), transaction)
            // In the order of `activity` (`ActivityLog.take`: the order of the first allowed checks).
            let told = used.compactMap { link in
                records[link.id].map { LinkEvent(.firstUsed, of: $0, at: link.firstAllowed ?? 0) }
            }
            transaction.events.append(contentsOf: told)
            return told.count
        }
    }
}

extension PostgresStore {
    public func refs(of ids: [LinkID]?, now: Int64, limit: Int) throws -> [(id: LinkID, ref: String?, expiresAt: Int64)] {
        if let ids, ids.isEmpty { return [] }
        return try performRead { [logger] connection in
            let rows: [PostgresRow]
            if let ids {
                let keys = ids.map { ByteBuffer(bytes: $0.bytes) }
                rows = try await connection.query(
                    "SELECT link_id, ref, expires_at FROM link_record WHERE expires_at > \(now) AND link_id = ANY(\(keys))",
                    logger: logger
                ).collect()
            } else {
                rows = try await connection.query(
                    "SELECT link_id, ref, expires_at FROM link_record WHERE ref IS NOT NULL AND expires_at > \(now) ORDER BY expires_at DESC LIMIT \(Int64(limit))",
                    logger: logger
                ).collect()
            }
            return try rows.compactMap { row in
                let (bytes, ref, expiresAt) = try row.decode((Data, String?, Int64).self)
                guard bytes.count == 16 else { return nil }
                return (LinkID(bytes: [UInt8](bytes)), ref, expiresAt)
            }
        }
    }
}
