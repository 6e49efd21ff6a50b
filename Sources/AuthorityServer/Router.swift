import AuthorityAPI
import NIOCore
import NIOHTTP1

/// The table of routes: one `switch`, checks answered on the event loop, issues and revocations
/// through the group commit, other writes and reads sent to the thread pool. Every answer is JSON
/// with a status, including every refusal.
public struct Router: Sendable {
    let authority: Authority
    var metrics: AuthorityMetrics { authority.metrics }

    public init(authority: Authority) { self.authority = authority }

    /// The methods each path accepts, for 405 answers.
    static let allowed: [String: [HTTPMethod]] = [
        "/v1/health": [.GET], "/v1/links": [.POST], "/v1/links/check": [.POST], "/v1/links/explain": [.POST], "/v1/revocations": [.GET, .POST],
        "/v1/keys": [.GET], "/v1/keys/rotate": [.POST], "/v1/audit": [.GET], "/v1/integrity": [.GET], "/metrics": [.GET],
    ]

    public func respond(to request: APIRequest, peer: PeerCredentials, eventLoop: any EventLoop) -> RouteResult {
        let grant = authority.grant(for: peer)
        if request.path == "/v1/auth" || request.path.hasPrefix("/v1/auth/") {
            return authority.forwardAuth(request, grant: grant, on: eventLoop)
        }
        switch (request.method, request.path) {
        case (.GET, "/v1/health"):
            return .now(.json(authority.health()))
        case (.POST, "/v1/links/check"):
            guard grant.allows(.check) else { return forbidden(.check) }
            switch request.decode(CheckLinkRequest.self).flatMap({ authority.check($0, on: eventLoop) }) {
            case .failure(let error): return .now(error.response)
            case .success(.now(let answer)): return .now(.json(answer))
            case .success(.later(let future)):
                return .later(future.map { .json($0) }.recover { [authority] in authority.errorResponse($0) })
            }
        case (.POST, "/v1/links/explain"):
            guard grant.allows(.check) else { return forbidden(.check) }
            // Explain reads the use counter from SQLite: off the event loop.
            return deferred(request.decode(ExplainLinkRequest.self), on: eventLoop) { try authority.explain($0).get() }
        case (.POST, "/v1/links"):
            guard grant.allows(.issue) else { return forbidden(.issue) }
            return committed(request.decode(IssueLinkRequest.self)) { body in
                authority.issue(body, grant: grant, peer: peer, on: eventLoop)
            }
        case (.POST, "/v1/revocations"):
            guard grant.allows(.revoke) else { return forbidden(.revoke) }
            return committed(request.decode(RevokeRequest.self)) { body in authority.revoke(body, peer: peer, on: eventLoop) }
        case (.GET, "/v1/revocations"):
            guard grant.allows(.revoke) else { return forbidden(.revoke) }
            let page = request.queryInteger("after", default: 0, range: 0...Int64.max).flatMap { after in
                request.queryInteger("limit", default: 100, range: 1...1000).map { (after, Int($0)) }
            }
            return deferred(page, on: eventLoop) { try authority.revocations(after: $0.0, limit: $0.1) }
        case (.GET, "/v1/keys"):
            guard grant.allows(.check) else { return forbidden(.check) }
            return .now(.json(authority.keys()))
        case (.POST, "/v1/keys/rotate"):
            guard grant.allows(.admin) else { return forbidden(.admin) }
            return deferred(.success(()), on: eventLoop, status: .created, writes: true) { try authority.rotate(peer: peer) }
        case (.GET, "/v1/audit"):
            guard grant.allows(.admin) else { return forbidden(.admin) }
            let limit = request.queryInteger("limit", default: 100, range: 1...1000)
            return deferred(limit, on: eventLoop) { try authority.audit(limit: Int($0)) }
        case (.GET, "/v1/integrity"):
            guard grant.allows(.admin) else { return forbidden(.admin) }
            return deferred(.success(()), on: eventLoop) { try authority.integrity() }
        case (.GET, "/metrics"):
            guard grant.allows(.check) else { return forbidden(.check) }
            let text = metrics.text(verifyCache: authority.verifier.cache)
            return .now(.text(text, contentType: "text/plain; version=0.0.4"))
        case (let method, let path):
            if let serial = Self.revocationSerial(path) {
                guard method == .DELETE else { return methodNotAllowed([.DELETE]) }
                guard grant.allows(.admin) else { return forbidden(.admin) }
                return deferred(serial, on: eventLoop, writes: true) { try authority.liftRevocation(serial: $0, peer: peer) }
            }
            if let epoch = Self.retireEpoch(path) {
                guard method == .POST else { return methodNotAllowed([.POST]) }
                guard grant.allows(.admin) else { return forbidden(.admin) }
                let body = request.decode(RetireRequest.self, emptyAs: RetireRequest())
                return deferred(body, on: eventLoop, writes: true) { body in
                    try authority.retire(epoch: epoch, force: body.force ?? false, peer: peer)
                }
            }
            if let methods = Self.allowed[path] { return methodNotAllowed(methods) }
            return .now(.error(.notFound, "no route \(path.prefix(100))"))
        }
    }

    /// `/v1/keys/{epoch}/retire` → epoch (1 to 2^63 - 1: epochs are stored as SQLite integers).
    static func retireEpoch(_ path: String) -> UInt64? {
        guard let number = Self.number(in: path, under: "/v1/keys/", then: "/retire") else { return nil }
        return UInt64(number)
    }

    /// `/v1/revocations/{serial}` → a 422 for a serial out of range, else the serial.
    static func revocationSerial(_ path: String) -> Result<Int64, APIError>? {
        let prefix = "/v1/revocations/"
        // One segment after the prefix; anything deeper is no route at all.
        guard path.utf8.starts(with: prefix.utf8), path.utf8.count > prefix.utf8.count,
            !path.utf8.dropFirst(prefix.utf8.count).contains(UInt8(ascii: "/"))
        else { return nil }
        guard let serial = Self.number(in: path, under: prefix, then: "") else {
            return .failure(APIError(.invalidRequest, "the revocation serial must be an integer from 1 to \(Int64.max)"))
        }
        return .success(serial)
    }

    /// The decimal number between `prefix` and `suffix` that fills `path`, from 1 to `Int64.max`;
    /// nil for anything else (compared as bytes).
    private static func number(in path: String, under prefix: String, then suffix: String) -> Int64? {
        let bytes = path.utf8
        guard bytes.starts(with: prefix.utf8), bytes.reversed().starts(with: suffix.utf8.reversed()) else { return nil }
        let digits = bytes.dropFirst(prefix.utf8.count).dropLast(suffix.utf8.count)
        guard (1...19).contains(digits.count), digits.allSatisfy({ (48...57).contains($0) }),
            let value = Int64(String(decoding: digits, as: UTF8.self)), value >= 1
        else { return nil }
        return value
    }

    /// Work off the event loop: a read on the read pool, or (`writes`) an admin write that waits
    /// for its commit, on the write pool.
    private func deferred<Input: Sendable, Output: Encodable & SendableMetatype>(
        _ input: Result<Input, APIError>, on eventLoop: any EventLoop, status: HTTPResponseStatus = .ok, writes: Bool = false,
        _ work: @escaping @Sendable (Input) throws -> Output
    ) -> RouteResult {
        switch input {
        case .failure(let error): .now(error.response)
        case .success(let input):
            .later(authority.blocking(on: eventLoop, writes: writes) { .json(try work(input), status: status) })
        }
    }

    /// A write through the group commit: answered 201 once durable; no thread waits for it.
    private func committed<Input, Output: Encodable & Sendable>(
        _ input: Result<Input, APIError>, _ work: (Input) -> EventLoopFuture<Output>
    ) -> RouteResult {
        switch input {
        case .failure(let error): .now(error.response)
        case .success(let input): .later(authority.answer(work(input), status: .created))
        }
    }

    private func forbidden(_ right: Right) -> RouteResult {
        .now(.error(.forbidden, "this caller lacks the \(right.rawValue) right (see the policy file)"))
    }

    private func methodNotAllowed(_ methods: [HTTPMethod]) -> RouteResult {
        var response = APIResponse.error(.methodNotAllowed, "allowed: \(methods.map(\.rawValue).joined(separator: ", "))")
        response.headers.add(name: "Allow", value: methods.map(\.rawValue).joined(separator: ", "))
        return .now(response)
    }
}
