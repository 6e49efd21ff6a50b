import AuthorityAPI
import AuthorityCore
import AuthorityStore
import NIOCore

extension Issuer {
    /// `GET /v1/links/{id}`: the record of a link this caller issued (any link, with the admin
    /// right) and where it stands, read on the reads pool. A link of another issuer is answered as
    /// one not on record, so a caller learns nothing of links it did not issue.
    func linkState(_ id: LinkID, rights: CallerRights, caller peer: PeerCredentials, on eventLoop: any EventLoop)
        -> Reply<LinkStateResponse>
    {
        let now = runtime.clock()
        let keyRing = state.keyRing
        let admin = rights.rights.contains(.admin)
        return .off(runtime.pools.reads, on: eventLoop) { [store] in
            guard let record = try store.linkRecord(id), admin || record.issuerUID == peer.uid else {
                throw APIError(
                    .linkNotFound,
                    "no link \(id) issued by this caller is on record (records are kept until their link has been expired for a while)")
            }
            let revokedBy = try store.revocations(ending: record).map(\.id)
            let usage = try store.linkUsage(id) ?? LinkUsage()
            var uses: Int64? = record.maxUses == nil ? usage.usesSeen : nil, usesLeft: Int64?
            if let maxUses = record.maxUses, let left = try store.remainingUses(id) {
                (uses, usesLeft) = (maxUses - left, left)
            }
            var lockedUntil: Int64?
            if record.password, let password = try store.passwordRecord(id), password.lockedUntil > now {
                lockedUntil = password.lockedUntil
            }
            let retired = keyRing.records[record.epoch].map { $0.status == .retired } ?? true
            let status =
                if !revokedBy.isEmpty { "revoked" }
                else if retired { "retired" }
                else if now >= record.expiresAt { "expired" }
                else if usesLeft == 0 { "used_up" }
                else if lockedUntil != nil { "password_locked" }
                else if let notBefore = record.notBefore, now < notBefore { "not_yet_valid" }
                else { "active" }
            return LinkStateResponse(
                id: id.description, status: status, ref: record.ref, resource: record.resource, prefix: record.isPrefix,
                host: record.host, methods: record.methods.split(separator: ",").map(String.init), ip: record.ip,
                epoch: record.epoch, issuedAt: record.issuedAt, notBefore: record.notBefore, expiresAt: record.expiresAt,
                issuerUID: record.issuerUID, password: record.password, cookie: record.cookie, maxUses: record.maxUses,
                uses: uses, usesLeft: usesLeft, lockedUntil: lockedUntil, firstUsedAt: usage.firstUsedAt,
                lastUsedAt: usage.lastUsedAt, lastRefused: usage.lastRefused, lastRefusedAt: usage.lastRefusedAt,
                revokedBy: revokedBy)
        }
    }

    /// `GET /v1/events?after=&limit=`: the events of this caller's links (every link's with the
    /// admin right) after serial `after` (nil: from the oldest kept), oldest first; 410 when the
    /// reader cannot go on from `after` (`EventBatch.refusal`).
    func events(after: Int64?, limit: Int, rights: CallerRights, caller peer: PeerCredentials, on eventLoop: any EventLoop)
        -> Reply<EventPage>
    {
        let issuer = rights.rights.contains(.admin) ? nil : peer.uid
        return .off(runtime.pools.reads, on: eventLoop) { [store] in
            let batch = try store.events(after: after ?? 0, limit: limit, issuer: issuer)
            if let refusal = batch.refusal(after: after) { throw refusal }
            return EventPage(events: batch.events.map(LinkEventBody.init), nextAfter: batch.next(after: after ?? 0, limit: limit))
        }
    }
}

extension EventBatch {
    /// Why a reader cannot go on from `after` in this batch, told instead of skipping events:
    /// `events.expired`, it is below what retention deleted (it missed events);
    /// `events.ahead`, it is past the newest serial the store has given (the database was
    /// restored or replaced: the serials after it are not the ones the reader saw, so it starts
    /// again from the oldest kept). Nil: it can.
    func refusal(after: Int64?) -> APIError? {
        guard let after else { return nil }
        if after < collected {
            return APIError(
                .eventsExpired,
                "the events up to serial \(collected) are past the retention (--event-retention) and deleted; "
                    + "resume with after=\(collected) and reconcile what was missed from GET /v1/links/{id}")
        }
        if after > head {
            return APIError(
                .eventsAhead,
                "serial \(after) is past the newest event of this store (\(head)): its database was restored or replaced, and "
                    + "its serials from there on may tell other events; reconcile from GET /v1/links/{id}, then resume with "
                    + "after=\(collected) (every event kept, some seen before)")
        }
        return nil
    }
}

extension LinkEventBody {
    init(_ event: LinkEvent) {
        self.init(
            serial: event.serial, at: event.at, kind: event.kind.rawValue, linkID: event.linkID.description,
            resource: event.resource, issuerUID: event.issuerUID, ref: event.ref, usesLeft: event.usesLeft,
            revocation: event.revocation)
    }
}
