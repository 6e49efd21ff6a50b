import AuthorityAPI
import AuthorityCore
import AuthorityStore
import Logging
import NIOCore

extension Administration {
    /// `POST /v1/revocations`: validated here (on the event loop), then one write of the group
    /// commit; the future succeeds once it is durable, and it is effective from then on.
    func revoke(_ body: RevokeRequest, caller peer: PeerCredentials, on eventLoop: any EventLoop) -> Reply<RevocationEntry> {
        let now = runtime.clock()
        let revocation: Revocation
        do {
            revocation = try self.revocation(body)
        } catch {
            return .failure(error)
        }
        let caller = Caller(uid: peer.uid, pid: peer.pid)
        return .later(eventLoop.future {
            store.revoke(revocation, reason: body.reason, now: now, caller: caller, completion: $0)
        }.map { [runtime, refs] record in
            runtime.metrics.revocations.increment()
            let entry = Self.entry(record)
            var metadata: Logger.Metadata = [
                "revocation.id": "\(entry.serial)", "link.id": "\(entry.id ?? "-")", "prefix": "\(entry.prefix ?? "-")",
                "caller.uid": "\(peer.uid)",
            ]
            if case .id(let id) = revocation, let ref = refs.ref(for: id) { metadata["link.ref"] = "\(ref)" }
            runtime.logger.info("revoked", metadata: metadata)
            return entry
        })
    }

    /// The latest `issued_before` accepted: 9999-12-31T23:59:59Z. Later times would only be
    /// numbers to overflow; an `issued_before` in the future already ends every link under it.
    static let latestIssuedBefore: Int64 = 253_402_300_799

    /// What `body` revokes; a 422 for anything else. (How long it is kept, the store decides
    /// from what was signed.)
    private func revocation(_ body: RevokeRequest) throws(APIError) -> Revocation {
        guard revocationsEnabled else {
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
    func liftRevocation(serial: Int64, caller peer: PeerCredentials, on eventLoop: any EventLoop) -> Reply<RevocationEntry> {
        guard revocationsEnabled else { return .failure(Self.revocationsOff) }
        return .off(runtime.pools.writes, on: eventLoop) { [self] in
            guard let record = try store.liftRevocation(
                serial: serial, reason: nil, now: runtime.clock(), caller: Caller(uid: peer.uid, pid: peer.pid))
            else { throw APIError(.revocationNotFound, "no revocation with serial \(serial)") }
            runtime.metrics.revocationsLifted.increment()
            return Self.entry(record)
        }
    }

    static let revocationsOff = APIError(.revocationsDisabled, "the revocation list is switched off (--no-revocations)")

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
    func revocations(after: Int64, limit: Int, on eventLoop: any EventLoop) -> Reply<RevocationPage> {
        guard revocationsEnabled else { return .failure(Self.revocationsOff) }
        return .off(runtime.pools.reads, on: eventLoop) { [store] in
            let records = try store.listRevocations(after: after, limit: limit)
            return RevocationPage(
                revocations: records.map(Self.entry), nextAfter: records.count == limit ? records.last?.id : nil)
        }
    }
}
