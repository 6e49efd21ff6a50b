import AuthorityAPI
import AuthorityCore
import AuthorityStore
import NIOCore
import Synchronization

/// The revocation bundle's endpoints (docs/revocation-bundle.md §8): the full bundle, deltas from
/// the journal, and the freshness object, each signed for the answer by the active key. The
/// content is encoded once per serial (the cache) on the read pool; what differs from answer to
/// answer is the statement, re-signed each time with the time of the answer.
final class BundlePublisher: Sendable {
    /// What a request asks for.
    struct Request: Sendable {
        enum Kind: Sendable {
            case bundle(since: Int64?)
            case freshness
        }

        var kind: Kind
        var json: Bool
        /// `If-None-Match`'s serials (`*`: any); nil without the header.
        var ifNoneMatch: Set<String>?
    }

    /// One answer: bytes in the form asked for, or `notModified`.
    struct Answer: Sendable {
        var bytes: [UInt8]
        var json: Bool
        var serial: Int64
        var notModified = false
    }

    /// The content of one serial, encoded.
    private struct Encoded: Sendable {
        var serial: Int64
        var content: BundleContent
        var bytes: [UInt8]
        var digest: [UInt8]
    }

    let state: CurrentState
    let runtime: Runtime
    /// `not_after` = `issued_at` + this (the `bundle-max-age` setting).
    let maxAge: Int64
    private let cache = Mutex<Encoded?>(nil)

    init(state: CurrentState, runtime: Runtime, maxAge: Int64) {
        self.state = state
        self.runtime = runtime
        self.maxAge = maxAge
    }

    func answer(_ request: Request, on eventLoop: any EventLoop) -> Reply<Answer> {
        .off(runtime.pools.reads, on: eventLoop) { [self] in make(request) }
    }

    /// The answer, from the state of one moment (`CurrentState.forBundle`).
    func make(_ request: Request) -> Answer {
        let since: Int64?
        if case .bundle(let base) = request.kind { since = base } else { since = nil }
        let (snapshot, serial, changes) = state.forBundle(since: since)
        if case .bundle(nil) = request.kind, let tags = request.ifNoneMatch, tags.contains("*") || tags.contains(String(serial)) {
            return Answer(bytes: [], json: request.json, serial: serial, notModified: true)
        }
        let encoded = encoded(snapshot, serial: serial)
        let now = runtime.clock()
        let statement = BundleStatement(
            epoch: snapshot.signing.epoch, serial: serial, issuedAt: now, notAfter: now.addingReportingOverflow(maxAge).partialValue,
            digest: encoded.digest)
        let body: BundleObject.Body
        var encodedBody: [UInt8]?
        switch request.kind {
        case .freshness:
            body = .freshness
        case .bundle(let base?) where changes != nil:
            let changes = changes!
            body = .delta(
                BundleChanges(
                    baseSerial: base, epochs: encoded.content.epochs, removedRules: changes.removedRules,
                    setRules: changes.setRules, removedIDs: changes.removedIDs, addedIDs: changes.addedIDs))
        case .bundle:
            body = .full(encoded.content)
            encodedBody = encoded.bytes
        }
        let object = BundleObject.signed(statement, body: body, key: snapshot.signing.key)
        let bytes = request.json ? Array(object.json().utf8) : object.binary(encodedBody: encodedBody)
        return Answer(bytes: bytes, json: request.json, serial: serial)
    }

    /// The content of `serial`, from the cache or encoded now (then cached: the latest serial only).
    private func encoded(_ snapshot: StoreSnapshot, serial: Int64) -> Encoded {
        if let cached = cache.withLock({ $0 }), cached.serial == serial { return cached }
        let content = BundleContent(keyRing: snapshot.keyRing, revocations: snapshot.revocations)
        let bytes = content.encoded()
        let encoded = Encoded(serial: serial, content: content, bytes: bytes, digest: RevocationBundle.sha256(bytes))
        cache.withLock { cached in
            if (cached?.serial ?? .min) < serial { cached = encoded }
        }
        return encoded
    }
}
