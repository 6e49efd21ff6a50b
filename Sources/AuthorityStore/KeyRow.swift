import AuthorityCore
import Foundation
import GRDB

/// One `signing_key` row: the public record and the sealed seed.
struct KeyRow {
    var record: KeyRecord
    var nonce: [UInt8]
    var sealedSeed: [UInt8]

    static func fetchAll(_ db: Database) throws -> [KeyRow] {
        try Row.fetchAll(db, sql: "SELECT * FROM signing_key ORDER BY epoch").map { row in
            let epoch: Int64 = row["epoch"]
            guard let epochNumber = UInt64(exactly: epoch), let publicKey = PublicKey(bytes: [UInt8](row["public_key"] as Data)),
                let status = KeyStatus(rawValue: row["status"] as String)
            else { throw StoreError.corruptRow("signing_key epoch \(epoch)") }
            return KeyRow(
                record: KeyRecord(
                    epoch: epochNumber, publicKey: publicKey, status: status, createdAt: row["created_at"],
                    retireAfter: row["retire_after"], retiredAt: row["retired_at"]),
                nonce: [UInt8](row["nonce"] as Data), sealedSeed: [UInt8](row["sealed_seed"] as Data))
        }
    }

    static func insert(
        _ db: Database, epoch: UInt64, publicKey: PublicKey, sealed: (nonce: [UInt8], sealed: [UInt8]), now: Int64
    ) throws {
        try db.execute(
            sql: """
                INSERT INTO signing_key (epoch, public_key, nonce, sealed_seed, status, created_at)
                VALUES (?, ?, ?, ?, 'active', ?)
                """,
            arguments: [Int64(epoch), Data(publicKey.bytes), Data(sealed.nonce), Data(sealed.sealed), now])
    }

    /// Opens the sealed seed and checks it against the stored public key.
    func open(with masterKey: MasterKey) throws(StoreError) -> SigningKey {
        guard let key = masterKey.openSigningKey(nonce: nonce, sealed: sealedSeed) else {
            throw .sealedKeyDoesNotOpen(epoch: record.epoch)
        }
        guard key.publicKey == record.publicKey else { throw .keyMismatch(epoch: record.epoch) }
        return key
    }
}
