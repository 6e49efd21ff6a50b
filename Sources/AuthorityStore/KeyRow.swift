import AuthorityCore
import Foundation
import GRDB

/// One `signing_key` row: the public record and the sealed seed.
package struct KeyRow {
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

    /// The bytes an epoch row's MAC covers: every column but the MAC.
    static func seal(_ row: Row) -> [UInt8] {
        seal(
            epoch: row["epoch"], publicKey: (row["public_key"] as Data?).map { [UInt8]($0) },
            nonce: (row["nonce"] as Data?).map { [UInt8]($0) }, sealedSeed: (row["sealed_seed"] as Data?).map { [UInt8]($0) },
            status: row["status"], createdAt: row["created_at"], retireAfter: row["retire_after"], retiredAt: row["retired_at"])
    }

    /// The same bytes from the column values (another engine's row).
    package static func seal(
        epoch: Int64, publicKey: [UInt8]?, nonce: [UInt8]?, sealedSeed: [UInt8]?, status: String?, createdAt: Int64?,
        retireAfter: Int64?, retiredAt: Int64?
    ) -> [UInt8] {
        var bytes = SealedBytes("signing_key")
        bytes.add(epoch)
        bytes.add(publicKey)
        bytes.add(nonce)
        bytes.add(sealedSeed)
        bytes.add(status)
        bytes.add(createdAt)
        bytes.add(retireAfter)
        bytes.add(retiredAt)
        return bytes.bytes
    }

    /// Seals epoch `epoch` again after a change to its row: returns (old MAC, new MAC).
    static func reseal(_ db: Database, epoch: UInt64, key: IntegrityKey) throws -> (old: [UInt8]?, new: [UInt8]) {
        guard let row = try Row.fetchOne(
            db.cachedStatement(sql: "SELECT * FROM signing_key WHERE epoch = ?"), arguments: [Int64(epoch)])
        else { throw StoreError.corruptRow("signing_key epoch \(epoch) is missing") }
        let mac = key.mac(seal(row))
        try db.cachedStatement(sql: "UPDATE signing_key SET mac = ? WHERE epoch = ?").execute(arguments: [Data(mac), Int64(epoch)])
        return ((row["mac"] as Data?).map { [UInt8]($0) }, mac)
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
