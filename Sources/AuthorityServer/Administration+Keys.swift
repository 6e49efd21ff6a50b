import AuthorityAPI
import AuthorityCore
import AuthorityStore
import NIOCore

extension Administration {
    /// `GET /v1/keys`.
    func keys() -> Reply<JSONWebKeySet> {
        .value(JSONWebKeySet(keys: state.keyRing.sorted.map(Self.jwk)))
    }

    static func jwk(_ record: KeyRecord) -> JSONWebKey {
        JSONWebKey(
            x: record.publicKey.base64URL, kid: String(record.epoch), status: record.status.rawValue,
            createdAt: record.createdAt, retireAfter: record.retireAfter, retiredAt: record.retiredAt)
    }

    /// `POST /v1/keys/rotate`.
    func rotate(caller peer: PeerCredentials, on eventLoop: any EventLoop) -> Reply<RotateResponse> {
        .off(runtime.pools.writes, on: eventLoop) { [self] in
            let previous = state.keyRing.activeEpoch
            let epoch = try store.rotate(now: runtime.clock(), caller: Caller(uid: peer.uid, pid: peer.pid))
            runtime.metrics.rotations.increment()
            return RotateResponse(epoch: epoch, previousEpoch: previous)
        }
    }

    /// `POST /v1/keys/{epoch}/retire`.
    func retire(epoch: UInt64, force: Bool, caller peer: PeerCredentials, on eventLoop: any EventLoop) -> Reply<JSONWebKey> {
        .off(runtime.pools.writes, on: eventLoop) { [self] in
            do {
                try store.retire(epoch: epoch, force: force, now: runtime.clock(), caller: Caller(uid: peer.uid, pid: peer.pid))
            } catch StoreError.keyRing(let error) {
                throw Self.apiError(error)
            }
            guard let record = state.keyRing.records[epoch] else { throw APIError(.keyNotFound, "no key epoch \(epoch)") }
            return Self.jwk(record)
        }
    }

    static func apiError(_ error: KeyRingError) -> APIError {
        switch error {
        case .unknownEpoch(let epoch): APIError(.keyNotFound, "no key epoch \(epoch)")
        case .cannotRetireActive(let epoch): APIError(.keyActive, "epoch \(epoch) is active: rotate first, then retire it")
        case .alreadyRetired(let epoch): APIError(.keyAlreadyRetired, "epoch \(epoch) is already retired")
        case .liveLinks(let epoch, let until):
            APIError(.keyLiveLinks, "links of epoch \(epoch) may be live until \(until) (\(UTCTime.rfc3339(until))); retire with {\"force\": true} to end them now")
        case .noActiveKey, .inconsistent: APIError(.internalError, "the key ring is inconsistent; see the daemon's log")
        }
    }
}
