import AuthorityCore
import AuthorityStore
import Foundation
import Logging
import PostgresNIO

/// One `signing_key` row, with the bytes its MAC covers.
struct KeyRowValues {
    var record: KeyRecord
    var nonce: [UInt8]
    var sealedSeed: [UInt8]
    var mac: [UInt8]
    var sealed: [UInt8]

    static let columns = "epoch, public_key, nonce, sealed_seed, status, created_at, retire_after, retired_at, mac"

    init(_ row: PostgresRow) throws {
        let (epoch, publicKey, nonce, seed, status, createdAt, retireAfter, retiredAt, mac) = try row.decode(
            (Int64, Data, Data, Data, String, Int64, Int64?, Int64?, Data?).self)
        guard let number = UInt64(exactly: epoch), let key = PublicKey(bytes: [UInt8](publicKey)),
            let state = KeyStatus(rawValue: status)
        else { throw StoreError.corruptRow("signing_key epoch \(epoch)") }
        record = KeyRecord(
            epoch: number, publicKey: key, status: state, createdAt: createdAt, retireAfter: retireAfter, retiredAt: retiredAt)
        self.nonce = [UInt8](nonce)
        sealedSeed = [UInt8](seed)
        self.mac = mac.map { [UInt8]($0) } ?? []
        sealed = KeyRow.seal(
            epoch: epoch, publicKey: [UInt8](publicKey), nonce: [UInt8](nonce), sealedSeed: [UInt8](seed), status: status,
            createdAt: createdAt, retireAfter: retireAfter, retiredAt: retiredAt)
    }

    static func fetchAll(_ connection: PostgresConnection, logger: Logger, forUpdate: Bool = false) async throws -> [KeyRowValues] {
        let sql = "SELECT \(columns) FROM signing_key ORDER BY epoch" + (forUpdate ? " FOR UPDATE" : "")
        return try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger).collect().map(KeyRowValues.init)
    }
}

/// One `revocation` row, with the bytes its MAC covers.
struct RevocationRowValues {
    var record: RevocationRecord
    var mac: [UInt8]
    var sealed: [UInt8]

    static let columns = "id, link_id, prefix, issued_before, reason, created_at, live_until, actor_uid, mac"

    init(_ row: PostgresRow) throws {
        let (id, linkID, prefix, issuedBefore, reason, createdAt, liveUntil, actorUID, mac) = try row.decode(
            (Int64, Data?, String?, Int64?, String?, Int64, Int64?, Int64?, Data?).self)
        let revocation: Revocation
        if let linkID {
            guard linkID.count == 16 else { throw StoreError.corruptRow("revocation \(id)") }
            revocation = .id(LinkID(bytes: [UInt8](linkID)))
        } else if let prefix {
            revocation = issuedBefore.map { .issuedBefore($0, prefix: prefix) } ?? .prefix(prefix)
        } else {
            throw StoreError.corruptRow("revocation \(id)")
        }
        record = RevocationRecord(
            id: id, revocation: revocation, reason: reason, createdAt: createdAt, liveUntil: liveUntil,
            actorUID: actorUID.flatMap { UInt32(exactly: $0) })
        self.mac = mac.map { [UInt8]($0) } ?? []
        sealed = SQLiteStore.revocationSeal(
            id: id, linkID: linkID, prefix: prefix, issuedBefore: issuedBefore, reason: reason, createdAt: createdAt,
            liveUntil: liveUntil, actorUID: actorUID)
    }
}

/// One `link_use` row's MAC bytes.
func useSeal(linkID: Data, maxUses: Int64, used: Int64, expiresAt: Int64) -> [UInt8] {
    SQLiteStore.useSeal(linkID: linkID, maxUses: maxUses, used: used, expiresAt: expiresAt)
}
