import AuthorityAPI
import AuthorityCore
import AuthorityStore
import Logging
import NIOCore

/// Issues links: validation and signing on the event loop with the active key of the server's
/// snapshot (a password is hashed on the password pool first); the audit entry, the link's state
/// and, when the expiry passes the epoch's recorded mark, the new `retire_after` are one write of
/// the group commit, and the link is answered only once that is durable.
final class Issuer: Sendable {
    let state: CurrentState
    let store: any Store
    let runtime: Runtime
    /// Longest lifetime a link may be issued with, in seconds.
    let maxTTL: Int64
    /// Where an issued link's ref goes, for forward-auth answers.
    let refs: RefBook

    init(state: CurrentState, store: any Store, runtime: Runtime, maxTTL: Int64, refs: RefBook) {
        self.refs = refs
        self.state = state
        self.store = store
        self.runtime = runtime
        self.maxTTL = maxTTL
    }

    /// `POST /v1/links`: `rights` limit where the caller may issue.
    func issue(_ body: IssueLinkRequest, rights: CallerRights, caller peer: PeerCredentials, on eventLoop: any EventLoop)
        -> Reply<IssueLinkResponse>
    {
        let now = runtime.clock()
        let request: IssueRequest
        do {
            request = try issueRequest(body, now: now)
        } catch {
            return .failure(error)
        }
        let linkState: EventLoopFuture<LinkState>
        if let password = body.password {
            // Argon2id on its own pool, before anything is signed.
            linkState = runtime.pools.passwords.runIfActive(eventLoop: eventLoop) {
                guard let hash = PasswordHash.hash(password) else { throw APIError(.internalError, "cannot hash the password") }
                return LinkState(maxUses: body.maxUses, passwordHash: hash)
            }
        } else {
            linkState = eventLoop.makeSucceededFuture(LinkState(maxUses: body.maxUses))
        }
        return .later(linkState.flatMap { [self] state in
            signAndRecord(IssueJob(body: body, request: request, state: state, rights: rights, peer: peer, now: now), on: eventLoop)
        })
    }

    /// Signs with the active key and records the issue. When the epoch was force-retired while
    /// signing (`alreadyRetired`), signs once more with the key that is active then.
    private func signAndRecord(_ job: IssueJob, retried: Bool = false, on eventLoop: any EventLoop)
        -> EventLoopFuture<IssueLinkResponse>
    {
        let (epoch, key) = state.signing
        let issued: IssuedLink
        do {
            issued = try LinkIssuer.issue(job.request, id: .random(), epoch: epoch, key: key, now: job.now)
        } catch {
            return eventLoop.makeFailedFuture(APIError(.invalidRequest, error.message))
        }
        guard job.rights.mayIssue(path: issued.path) else {
            return eventLoop.makeFailedFuture(APIError(.forbidden, "this caller may not issue links for \(issued.path.prefix(200))"))
        }
        if let revocations = state.revocations, revocations.isBlocked(path: issued.path, issuedAt: job.now) {
            return eventLoop.makeFailedFuture(APIError(
                .prefixBlocked,
                "a prefix revocation covers \(issued.path.prefix(200)): a link for it would be revoked from the start; "
                    + "lift the revocation first (DELETE /v1/revocations/{serial})"))
        }
        let body = job.body
        let detail = "resource \(issued.path)\(job.request.prefix ? " (prefix)" : ""), expires \(issued.grant.expiresAt)"
            + (body.maxUses.map { ", \($0) uses" } ?? "") + (body.password == nil ? "" : ", password")
            + (body.cookie == true ? ", grant cookie" : "") + (body.ref.map { ", ref \($0)" } ?? "")
        let grant = issued.grant
        var linkState = job.state
        linkState.record = LinkRecord(
            id: grant.id, epoch: epoch, issuedAt: grant.issuedAt, notBefore: grant.notBefore, expiresAt: grant.expiresAt,
            resource: issued.path, isPrefix: job.request.prefix, host: grant.host, methods: grant.methods.canonicalText,
            ip: grant.network?.description, maxUses: body.maxUses, password: body.password != nil, cookie: body.cookie == true,
            issuerUID: job.peer.uid, ref: body.ref)
        return eventLoop.future { [linkState] in
            store.recordIssue(
                epoch: epoch, expiresAt: grant.expiresAt, linkID: grant.id, detail: detail, state: linkState,
                now: job.now, caller: Caller(uid: job.peer.uid, pid: job.peer.pid), completion: $0)
        }.map { [runtime, refs] in
            runtime.metrics.issued.increment()
            if let ref = body.ref { refs.add(grant.id, ref: ref, expiresAt: grant.expiresAt) }
            var metadata: Logger.Metadata = ["link.id": "\(grant.id)", "link.epoch": "\(epoch)", "caller.uid": "\(job.peer.uid)"]
            if let ref = body.ref { metadata["link.ref"] = "\(ref)" }
            runtime.logger.info("link issued", metadata: metadata)
            return IssueLinkResponse(
                url: issued.url, id: grant.id.description, epoch: epoch, expiresAt: grant.expiresAt,
                notBefore: grant.notBefore, methods: grant.methods.names, pathURL: issued.pathURL, ref: body.ref)
        }.flatMapError { [self] error in
            guard case StoreError.keyRing(.alreadyRetired) = error else { return eventLoop.makeFailedFuture(error) }
            guard !retried else {
                return eventLoop.makeFailedFuture(APIError(.internalError, "the signing key changed twice while issuing; try again"))
            }
            return signAndRecord(job, retried: true, on: eventLoop)
        }
    }
}

/// One issue between validation and its durable record.
private struct IssueJob: Sendable {
    var body: IssueLinkRequest
    var request: IssueRequest
    var state: LinkState
    var rights: CallerRights
    var peer: PeerCredentials
    var now: Int64
}
