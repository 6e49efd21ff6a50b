import AuthorityCore
import Foundation
import GRDB

extension SQLiteStore {
    /// Makes a fresh key the active epoch; the previous one turns `verify_only`. One write of
    /// the group commit: a crash at any point leaves exactly one active epoch. The WAL is then
    /// checkpointed, so the new key is in the database file itself. Returns the new epoch.
    @discardableResult
    public func rotate(now: Int64, caller: Caller) throws -> UInt64 {
        let key = SigningKey.generate()
        let sealed = key.withSeed { masterKey.seal($0) }
        let (epoch, previous, _, _) = try groupCommit.perform(
            { [self] db -> (UInt64, UInt64?, KeyRing, Int64) in
                var ring = keyRing
                let previous = ring.activeEpoch
                // Epochs are SQLite integers: a ring already at 2^63 - 1 (a damaged row) cannot grow.
                guard ring.newestEpoch < UInt64(Int64.max) else {
                    throw StoreError.keyRing(.inconsistent("epoch \(ring.newestEpoch) is the last one an epoch can be"))
                }
                let epoch = ring.rotate(to: key.publicKey, now: now)
                if let previous {
                    try db.execute(
                        sql: "UPDATE signing_key SET status = 'verify_only' WHERE epoch = ?", arguments: [Int64(previous)])
                    try ledger.resealKey(db, epoch: previous)
                }
                try KeyRow.insert(db, epoch: epoch, publicKey: key.publicKey, sealed: sealed, now: now)
                try ledger.resealKey(db, epoch: epoch)
                try AuditEntry.record(
                    db, at: now, caller: caller, action: "keys.rotate", epoch: epoch,
                    detail: previous.map { "previous epoch \($0)" })
                return (epoch, previous, ring, ledger.serial)
            },
            afterCommit: { [self] epoch, _, ring, serial in
                update(.keys(ring, signing: (epoch, key)), serial: serial)
            })
        logger.notice(
            "key rotated",
            metadata: ["key.epoch": "\(epoch)", "key.previous": "\(previous.map(String.init) ?? "none")", "caller.uid": "\(caller.uid.map(String.init) ?? "-")"])
        checkpoint()
        return epoch
    }

    /// Retires a `verify_only` epoch: its links then answer `retired_key`. Without `force`, refuses
    /// while links under it may still be live (`retire_after` in the future).
    public func retire(epoch: UInt64, force: Bool, now: Int64, caller: Caller) throws {
        try groupCommit.perform(
            { [self] db -> (KeyRing, Int64) in
                var ring = keyRing
                do throws(KeyRingError) {
                    try ring.retire(epoch: epoch, force: force, now: now)
                } catch {
                    throw StoreError.keyRing(error)
                }
                try db.execute(
                    sql: "UPDATE signing_key SET status = 'retired', retired_at = ? WHERE epoch = ?",
                    arguments: [now, Int64(epoch)])
                try ledger.resealKey(db, epoch: epoch)
                try AuditEntry.record(
                    db, at: now, caller: caller, action: force ? "keys.retire.forced" : "keys.retire", epoch: epoch)
                try Self.appendRetiredEvents(epoch: epoch, now: now, db)
                return (ring, ledger.serial)
            },
            afterCommit: { [self] ring, serial in update(.keys(ring, signing: signingKey), serial: serial) })
        logger.notice("key retired", metadata: ["key.epoch": "\(epoch)", "forced": "\(force)"])
    }

    /// Retires every `verify_only` epoch whose `retire_after` has passed. Returns their epochs.
    @discardableResult
    public func retireDue(now: Int64) throws -> [UInt64] {
        let due = keyRing.dueForRetirement(now: now)
        for epoch in due { try retire(epoch: epoch, force: false, now: now, caller: .daemon) }
        return due
    }

    /// Records, durably, that a link expiring at `expiresAt` is about to be issued under `epoch`,
    /// so the epoch is never retired under a live link, with the link's state and audit entry, as
    /// one write of the group commit. The epoch's `retire_after` mark moves up in steps of
    /// `retireAfterStep`. `completion` runs (on the writer thread) once it is durable, or with
    /// `StoreError.keyRing(.alreadyRetired)` when the epoch was retired meanwhile: sign again
    /// with the active key. Hand the link out only after a success.
    public func recordIssue(
        epoch: UInt64, expiresAt: Int64, linkID: LinkID, detail: String?, state linkState: LinkState = LinkState(),
        now: Int64, caller: Caller, completion: @escaping @Sendable (Result<Void, any Error>) -> Void
    ) {
        advanceRetireMark(epoch: epoch, expiresAt: expiresAt, completion: completion) { [ledger] db in
            try Self.insertLinkState(db, linkState, linkID: linkID, expiresAt: expiresAt, ledger: ledger)
            try AuditEntry.record(
                db, at: now, caller: caller, action: "link.issue", linkID: linkID.description, epoch: epoch,
                detail: detail)
        }
    }

    /// `recordIssue`, waiting until it is durable.
    public func recordIssue(
        epoch: UInt64, expiresAt: Int64, linkID: LinkID, detail: String?, state linkState: LinkState = LinkState(),
        now: Int64, caller: Caller
    ) throws {
        try GroupCommit.wait {
            recordIssue(
                epoch: epoch, expiresAt: expiresAt, linkID: linkID, detail: detail, state: linkState, now: now,
                caller: caller, completion: $0)
        }
    }

    /// Records that a link expiring at `expiresAt` is about to be issued under `epoch`, without
    /// an audit entry (see `recordIssue`); waits until it is durable. Writes nothing while the
    /// expiry is under the mark.
    public func noteIssued(epoch: UInt64, expiresAt: Int64) throws {
        try GroupCommit.wait { noteSigned(epoch: epoch, expiresAt: expiresAt, completion: $0) }
    }

    /// Records, durably, that something valid until `expiresAt` (a link, an unlock cookie) was
    /// signed under `epoch`, so the epoch is not retired under it: one write of the group commit,
    /// or none when the epoch's mark already covers it. `completion` runs once it is durable.
    public func noteSigned(
        epoch: UInt64, expiresAt: Int64, completion: @escaping @Sendable (Result<Void, any Error>) -> Void
    ) {
        if let mark = keyRing.records[epoch]?.retireAfter, mark >= expiresAt { return completion(.success(())) }
        advanceRetireMark(epoch: epoch, expiresAt: expiresAt, completion: completion) { _ in }
    }

    /// One write of the group commit that raises `epoch`'s durable `retire_after` mark to cover
    /// `expiresAt` (rounded up to the next `retireAfterStep`) when it does not yet, and runs
    /// `alsoWrite`. A retired epoch is refused. The key ring is read on the writer thread, where
    /// no rotation or retirement can interleave; the in-memory mark is raised after the commit,
    /// never lowered, so two issues in one batch leave it at the larger of their marks.
    private func advanceRetireMark(
        epoch: UInt64, expiresAt: Int64, completion: @escaping @Sendable (Result<Void, any Error>) -> Void,
        alsoWrite: @escaping @Sendable (Database) throws -> Void
    ) {
        let step = max(configuration.retireAfterStep, 1)
        groupCommit.submit(
            { [self] db -> (mark: Int64?, serial: Int64) in
                var ring = keyRing
                let covered = (ring.records[epoch]?.retireAfter ?? 0) >= expiresAt
                let mark: Int64? = covered ? nil : (expiresAt / step + 1) * step
                if let mark {
                    do throws(KeyRingError) {
                        try ring.noteIssued(epoch: epoch, expiresAt: mark)
                    } catch {
                        throw StoreError.keyRing(error)
                    }
                    try db.execute(
                        sql: "UPDATE signing_key SET retire_after = max(coalesce(retire_after, 0), ?) WHERE epoch = ?",
                        arguments: [mark, Int64(epoch)])
                    try ledger.resealKey(db, epoch: epoch)
                } else if ring.records[epoch]?.status == .retired {
                    throw StoreError.keyRing(.alreadyRetired(epoch))
                }
                try alsoWrite(db)
                return (mark, ledger.serial)
            },
            afterCommit: { [self] written in
                guard let mark = written.mark else { return }
                // Cannot throw: the epoch was checked in this same hold of the database writer.
                var ring = keyRing
                try? ring.noteIssued(epoch: epoch, expiresAt: mark)
                update(.keys(ring, signing: signingKey), serial: written.serial)
            },
            completion: { completion($0.map { _ in }) })
    }
}
