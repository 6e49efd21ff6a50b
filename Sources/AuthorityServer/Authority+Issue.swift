import AuthorityAPI
import AuthorityCore
import AuthorityStore
import Foundation
import NIOCore

extension Authority {
    /// `POST /v1/links`. Validation and signing run on the event loop (a password is hashed on
    /// the password pool first); the audit entry, the link's state and, when the expiry passes
    /// the epoch's recorded mark, the new `retire_after` are one write of the group commit, and
    /// the future succeeds only once it is durable.
    public func issue(_ body: IssueLinkRequest, grant: Grant, peer: PeerCredentials, on eventLoop: any EventLoop)
        -> EventLoopFuture<IssueLinkResponse>
    {
        let now = clock()
        let request: IssueRequest
        do {
            request = try issueRequest(body, now: now)
        } catch {
            return eventLoop.makeFailedFuture(error)
        }
        let state: EventLoopFuture<LinkState>
        if let password = body.password {
            // Argon2id on its own pool, before anything is signed.
            state = passwordPool.runIfActive(eventLoop: eventLoop) {
                guard let hash = PasswordHash.hash(password) else { throw APIError(.internalError, "cannot hash the password") }
                return LinkState(maxUses: body.maxUses, passwordHash: hash)
            }
        } else {
            state = eventLoop.makeSucceededFuture(LinkState(maxUses: body.maxUses))
        }
        return state.flatMap { [self] state in
            signAndRecord(IssueJob(body: body, request: request, state: state, grant: grant, peer: peer, now: now), on: eventLoop)
        }
    }

    /// Signs with the active key and records the issue. When the epoch was force-retired while
    /// signing (`alreadyRetired`), signs once more with the key that is active then.
    private func signAndRecord(_ job: IssueJob, retried: Bool = false, on eventLoop: any EventLoop)
        -> EventLoopFuture<IssueLinkResponse>
    {
        let (epoch, key) = store.signingKey
        let issued: IssuedLink
        do {
            issued = try LinkIssuer.issue(job.request, id: .random(), epoch: epoch, key: key, now: job.now)
        } catch {
            return eventLoop.makeFailedFuture(APIError(.invalidRequest, describe(error)))
        }
        guard job.grant.mayIssue(path: issued.path) else {
            return eventLoop.makeFailedFuture(APIError(.forbidden, "this caller may not issue links for \(issued.path.prefix(200))"))
        }
        if let revocations = store.revocations, revocations.isBlocked(path: issued.path, issuedAt: job.now) {
            return eventLoop.makeFailedFuture(APIError(
                .prefixBlocked,
                "a prefix revocation covers \(issued.path.prefix(200)): a link for it would be revoked from the start; "
                    + "lift the revocation first (DELETE /v1/revocations/{serial})"))
        }
        let body = job.body
        let detail = "resource \(issued.path)\(job.request.prefix ? " (prefix)" : ""), expires \(issued.grant.expiresAt)"
            + (body.maxUses.map { ", \($0) uses" } ?? "") + (body.password == nil ? "" : ", password")
        return eventLoop.future {
            store.recordIssue(
                epoch: epoch, expiresAt: issued.grant.expiresAt, linkID: issued.grant.id, detail: detail, state: job.state,
                now: job.now, caller: Caller(uid: job.peer.uid, pid: job.peer.pid), completion: $0)
        }.map { [self] in
            metrics.issued.increment()
            logger.info(
                "link issued",
                metadata: ["link.id": "\(issued.grant.id)", "link.epoch": "\(epoch)", "caller.uid": "\(job.peer.uid)"])
            return IssueLinkResponse(
                url: issued.url, id: issued.grant.id.description, epoch: epoch, expiresAt: issued.grant.expiresAt,
                notBefore: issued.grant.notBefore, methods: issued.grant.methods.names)
        }.flatMapError { [self] error in
            guard case StoreError.keyRing(.alreadyRetired) = error else { return eventLoop.makeFailedFuture(error) }
            guard !retried else {
                return eventLoop.makeFailedFuture(APIError(.internalError, "the signing key changed twice while issuing; try again"))
            }
            return signAndRecord(job, retried: true, on: eventLoop)
        }
    }

    /// Turns the wire request into the core's, refusing anything out of range with a message
    /// that names the field.
    func issueRequest(_ body: IssueLinkRequest, now: Int64) throws(APIError) -> IssueRequest {
        func invalid(_ message: String) -> APIError { APIError(.invalidRequest, message) }
        var flags: LinkFlags = []
        if let maxUses = body.maxUses {
            guard (1...1_000_000_000).contains(maxUses) else { throw invalid("max_uses must be 1 to 1000000000") }
            flags.insert(.useLimited)
        }
        if let password = body.password {
            guard !password.isEmpty, password.utf8.count <= PasswordHash.maximumLength else {
                throw invalid("password must be 1 to \(PasswordHash.maximumLength) bytes")
            }
            flags.insert(.passwordProtected)
        }
        var methods: HTTPMethods = []
        for name in body.methods ?? ["GET", "HEAD"] {
            guard let method = HTTPMethods(method: name) else {
                throw invalid("methods: \"\(name.prefix(16))\" is not one of GET, HEAD, PUT, POST, DELETE")
            }
            methods.insert(method)
        }
        guard !methods.isEmpty else { throw invalid("methods must not be empty") }
        let maxTTL = configuration.maxTTL
        let expiresAt: Int64
        switch (body.ttl, body.expiresAt) {
        case (let ttl?, nil):
            guard (1...maxTTL).contains(ttl) else { throw invalid("ttl must be between 1 and \(maxTTL) seconds") }
            expiresAt = now + ttl
        case (nil, let time?):
            guard time > now, time - now <= maxTTL else {
                throw invalid("expires_at must be in the future and at most \(maxTTL) seconds from now")
            }
            expiresAt = time
        default:
            throw invalid("give exactly one of ttl and expires_at")
        }
        if let notBefore = body.notBefore, notBefore < 0 || notBefore >= expiresAt {
            throw invalid("not_before must be before the expiry")
        }
        var network: IPNetwork?
        if let ip = body.ip {
            guard let parsed = IPNetwork(lenient: ip) else {
                throw invalid("ip must be an address or a network in CIDR notation with its host bits zero")
            }
            network = parsed
        }
        return IssueRequest(
            resource: body.resource, expiresAt: expiresAt, methods: methods, prefix: body.prefix ?? false,
            notBefore: body.notBefore, bindHost: body.bindHost ?? false, network: network, flags: flags)
    }
}

/// One issue between validation and its durable record.
private struct IssueJob: Sendable {
    var body: IssueLinkRequest
    var request: IssueRequest
    var state: LinkState
    var grant: Grant
    var peer: PeerCredentials
    var now: Int64
}

/// A message for an issue error that names what to fix.
func describe(_ error: IssueError) -> String {
    switch error {
    case .invalidResource(let why): "resource: \(why)"
    case .prefixWithQuery: "a prefix link's resource must not have a query"
    case .noMethods: "methods must not be empty"
    case .invalidLifetime(let why): why
    case .hostBindingNeedsHost: "bind_host needs an absolute http(s) resource URL"
    case .invalidHost(let host): "the resource's host \"\(host.prefix(64))\" cannot be bound (lowercase DNS name or IP address)"
    }
}
