import AuthorityAPI
import AuthorityCore
import AuthorityStore
import NIOCore
import Synchronization

/// The revocation bundle's endpoints (docs/revocation-bundle.md §8): the full bundle, deltas from
/// the journal, and the freshness object, each signed for the answer by the active key. A full
/// bundle's content is encoded once per serial (the cache) on the read pool, and every answer
/// shares those bytes (`APIResponse.sharedBody`): what differs from answer to answer is the
/// statement, re-signed each time with the time of the answer.
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

    /// One answer: `head` then `shared` (the cached content of a full bundle), or `notModified`.
    struct Answer: Sendable {
        var head: [UInt8]
        var shared: ByteBuffer?
        var json: Bool
        var serial: Int64
        var notModified = false

        var bytes: [UInt8] { head + (shared.map { Array($0.readableBytesView) } ?? []) }
    }

    /// The content of one serial, encoded (its JSON members only once asked for).
    private struct Encoded: Sendable {
        var serial: Int64
        var content: BundleContent
        var binary: ByteBuffer
        var digest: [UInt8]
        var json: ByteBuffer?
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
            return Answer(head: [], json: request.json, serial: serial, notModified: true)
        }
        // Only a full bundle's JSON twin needs the content's JSON members; a delta or a freshness
        // object in JSON needs the digest alone.
        var fullJSON = false
        if case .bundle = request.kind, changes == nil { fullJSON = request.json }
        let encoded = encoded(snapshot, serial: serial, json: fullJSON)
        let now = runtime.clock()
        let statement = BundleStatement(
            epoch: snapshot.signing.epoch, serial: serial, issuedAt: now, notAfter: now.addingReportingOverflow(maxAge).partialValue,
            digest: encoded.digest)
        let body: BundleObject.Body
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
            // The content is the cached one: the answer is the signed head and the shared bytes.
            let full = BundleObject.signed(statement, body: .full(encoded.content), key: snapshot.signing.key)
            return request.json
                ? Answer(head: Array(full.jsonHead().utf8), shared: encoded.json, json: true, serial: serial)
                : Answer(head: full.binaryHeader(), shared: encoded.binary, json: false, serial: serial)
        }
        let object = BundleObject.signed(statement, body: body, key: snapshot.signing.key)
        return Answer(head: request.json ? Array(object.json().utf8) : object.binary(), json: request.json, serial: serial)
    }

    /// The content of `serial`, from the cache or encoded now (then cached: the latest serial
    /// only), with its JSON members when `json`.
    private func encoded(_ snapshot: StoreSnapshot, serial: Int64, json: Bool) -> Encoded {
        if var cached = cache.withLock({ $0 }), cached.serial == serial {
            if !json || cached.json != nil { return cached }
            cached.json = ByteBuffer(string: cached.content.jsonMembers)
            cache.withLock { if $0?.serial == serial { $0?.json = cached.json } }
            return cached
        }
        let content = BundleContent(keyRing: snapshot.keyRing, revocations: snapshot.revocations)
        let bytes = content.encoded()
        let encoded = Encoded(
            serial: serial, content: content, binary: ByteBuffer(bytes: bytes), digest: RevocationBundle.sha256(bytes),
            json: json ? ByteBuffer(string: content.jsonMembers) : nil)
        cache.withLock { cached in
            if (cached?.serial ?? .min) < serial { cached = encoded }
        }
        return encoded
    }
}
