import AuthorityAPI
import AuthorityCore
import AuthorityStore
import Foundation
import NIOCore

extension Authority {
    /// `POST /v1/revocations`: validated here (on the event loop), then one write of the group
    /// commit; the future succeeds once it is durable, and it is effective from then on.
    public func revoke(_ body: RevokeRequest, peer: PeerCredentials, on eventLoop: any EventLoop)
        -> EventLoopFuture<RevocationEntry>
    {
        let now = clock()
        let revocation: Revocation
        do {
            revocation = try self.revocation(body)
        } catch {
            return eventLoop.makeFailedFuture(error)
        }
        let caller = Caller(uid: peer.uid, pid: peer.pid)
        return eventLoop.future {
            store.revoke(revocation, reason: body.reason, now: now, caller: caller, completion: $0)
        }.map { [self] record in
            metrics.revocations.increment()
            let entry = Self.entry(record)
            logger.info(
                "revoked",
                metadata: [
                    "revocation.id": "\(entry.serial)", "link.id": "\(entry.id ?? "-")", "prefix": "\(entry.prefix ?? "-")",
                    "caller.uid": "\(peer.uid)",
                ])
            return entry
        }
    }

    /// The latest `issued_before` accepted: 9999-12-31T23:59:59Z. Later times would only be
    /// numbers to overflow; an `issued_before` in the future already ends every link under it.
    static let latestIssuedBefore: Int64 = 253_402_300_799

    /// What `body` revokes; a 422 for anything else. (How long it is kept, the store decides
    /// from what was signed.)
    private func revocation(_ body: RevokeRequest) throws(APIError) -> Revocation {
        guard configuration.revocationsEnabled else {
            throw APIError(.revocationsDisabled, "the revocation list is switched off (--no-revocations); rotate and retire keys instead")
        }
        if let reason = body.reason, reason.utf8.count > 500 {
            throw APIError(.invalidRequest, "reason must be at most 500 bytes")
        }
        switch (body.id, body.prefix, body.issuedBefore) {
        case (let id?, nil, nil):
            guard let linkID = LinkID(id) else { throw APIError(.invalidRequest, "id must be a link id (22 base64url characters)") }
            return .id(linkID)
        case (nil, let prefix?, nil):
            // A standing block: it ends links issued under the prefix later too, until lifted.
            return .prefix(try canonical(prefix))
        case (nil, let prefix, let time?):
            guard (0...Self.latestIssuedBefore).contains(time) else {
                throw APIError(.invalidRequest, "issued_before must be a Unix time from 0 to \(Self.latestIssuedBefore)")
            }
            return .issuedBefore(time, prefix: try canonical(prefix ?? "/"))
        default:
            throw APIError(.invalidRequest, "give id, or prefix, or issued_before (with an optional prefix)")
        }
    }

    /// `DELETE /v1/revocations/{serial}` (admin): lifts one revocation, audited. The only way a
    /// standing prefix block ends.
    public func liftRevocation(serial: Int64, peer: PeerCredentials) throws -> RevocationEntry {
        guard configuration.revocationsEnabled else {
            throw APIError(.revocationsDisabled, "the revocation list is switched off (--no-revocations)")
        }
        guard let record = try store.liftRevocation(
            serial: serial, reason: nil, now: clock(), caller: Caller(uid: peer.uid, pid: peer.pid))
        else { throw APIError(.revocationNotFound, "no revocation with serial \(serial)") }
        metrics.revocationsLifted.increment()
        return Self.entry(record)
    }

    private func canonical(_ prefix: String) throws(APIError) -> String {
        do {
            return try canonicalPath(prefix)
        } catch {
            throw APIError(.invalidRequest, "prefix: \(error)")
        }
    }

    static func entry(_ record: RevocationRecord) -> RevocationEntry {
        switch record.revocation {
        case .id(let id):
            RevocationEntry(serial: record.id, kind: "id", id: id.description, reason: record.reason,
                            createdAt: record.createdAt, createdByUID: record.actorUID)
        case .prefix(let prefix):
            RevocationEntry(serial: record.id, kind: "prefix", prefix: prefix, reason: record.reason,
                            createdAt: record.createdAt, createdByUID: record.actorUID)
        case .issuedBefore(let time, let prefix):
            RevocationEntry(serial: record.id, kind: "issued_before", prefix: prefix, issuedBefore: time,
                            reason: record.reason, createdAt: record.createdAt, createdByUID: record.actorUID)
        }
    }

    /// `GET /v1/revocations`: a page, oldest first.
    public func revocations(after: Int64, limit: Int) throws -> RevocationPage {
        guard configuration.revocationsEnabled else {
            throw APIError(.revocationsDisabled, "the revocation list is switched off (--no-revocations)")
        }
        let records = try store.listRevocations(after: after, limit: limit)
        return RevocationPage(
            revocations: records.map(Self.entry), nextAfter: records.count == limit ? records.last?.id : nil)
    }

    /// `GET /v1/keys`.
    public func keys() -> JSONWebKeySet {
        JSONWebKeySet(keys: store.keyRing.sorted.map(Self.jwk))
    }

    static func jwk(_ record: KeyRecord) -> JSONWebKey {
        JSONWebKey(
            x: record.publicKey.base64URL, kid: String(record.epoch), status: record.status.rawValue,
            createdAt: record.createdAt, retireAfter: record.retireAfter, retiredAt: record.retiredAt)
    }

    /// `POST /v1/keys/rotate`.
    public func rotate(peer: PeerCredentials) throws -> RotateResponse {
        let previous = store.keyRing.activeEpoch
        let epoch = try store.rotate(now: clock(), caller: Caller(uid: peer.uid, pid: peer.pid))
        metrics.rotations.increment()
        metrics.activeEpoch.set(Int64(epoch))
        return RotateResponse(epoch: epoch, previousEpoch: previous)
    }

    /// `POST /v1/keys/{epoch}/retire`.
    public func retire(epoch: UInt64, force: Bool, peer: PeerCredentials) throws -> JSONWebKey {
        do {
            try store.retire(epoch: epoch, force: force, now: clock(), caller: Caller(uid: peer.uid, pid: peer.pid))
        } catch StoreError.keyRing(let error) {
            throw Self.apiError(error)
        }
        guard let record = store.keyRing.records[epoch] else { throw APIError(.keyNotFound, "no key epoch \(epoch)") }
        return Self.jwk(record)
    }

    static func apiError(_ error: KeyRingError) -> APIError {
        switch error {
        case .unknownEpoch(let epoch): APIError(.keyNotFound, "no key epoch \(epoch)")
        case .cannotRetireActive(let epoch): APIError(.keyActive, "epoch \(epoch) is active: rotate first, then retire it")
        case .alreadyRetired(let epoch): APIError(.keyAlreadyRetired, "epoch \(epoch) is already retired")
        case .liveLinks(let epoch, let until):
            APIError(.keyLiveLinks, "links of epoch \(epoch) may be live until \(until) (\(iso8601(until))); retire with {\"force\": true} to end them now")
        case .noActiveKey, .inconsistent: APIError(.internalError, "the key ring is inconsistent; see the daemon's log")
        }
    }

    /// `GET /v1/integrity` (admin): the whole revocation list and every use counter checked
    /// against their MACs, in a read snapshot; a problem is also logged at critical.
    public func integrity() throws -> IntegrityResponse {
        let report = try store.verifyIntegrity()
        if let problem = report.problem {
            logger.critical("integrity check failed", metadata: ["problem": "\(problem)", "db.path": "\(store.databasePath)"])
        }
        return IntegrityResponse(
            ok: report.problem == nil, serial: report.serial, head: report.head, rows: report.rows, problem: report.problem)
    }

    /// `GET /v1/audit`: newest first.
    public func audit(limit: Int) throws -> AuditPage {
        AuditPage(entries: try store.auditLog(limit: limit).map {
            AuditEntryBody(id: $0.id, at: $0.at, actorUID: $0.actorUID, actorPID: $0.actorPID, action: $0.action,
                           linkID: $0.linkID, epoch: $0.epoch, detail: $0.detail)
        })
    }
}

/// `2026-11-29T05:00:00Z` for log lines and messages.
func iso8601(_ time: Int64) -> String {
    ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(time)))
}
