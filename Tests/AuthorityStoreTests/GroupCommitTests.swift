import AuthorityCore
import AuthorityTesting
import Foundation
import GRDB
import Synchronization
import Testing

@testable import AuthorityStore

/// Holds the group commit's writer inside a batch of its own until `release()`, so that the
/// writes submitted meanwhile form the next batch, together.
final class Gate: Sendable {
    private let started = DispatchSemaphore(value: 0)
    private let opened = DispatchSemaphore(value: 0)

    init(_ commit: GroupCommit) {
        commit.submit({ [started, opened] _ in
            started.signal()
            opened.wait()
        }, completion: { _ in })
        started.wait()
    }

    /// Lets the held batch commit once `count` writes wait behind it.
    func release(after count: Int, on commit: GroupCommit) throws {
        let deadline = Date().addingTimeInterval(10)
        while commit.queued < count, Date() < deadline { usleep(1_000) }
        try #require(commit.queued == count)
        opened.signal()
    }
}

/// Results delivered on other threads, by submission index.
final class Collected<T: Sendable>: Sendable {
    private let results = Mutex<[Int: Result<T, any Error>]>([:])
    private let group = DispatchGroup()

    /// A completion that records its result as number `index`.
    func completion(_ index: Int) -> @Sendable (Result<T, any Error>) -> Void {
        group.enter()
        return { [self] result in
            results.withLock { $0[index] = result }
            group.leave()
        }
    }

    /// Waits for every completion handed out, then returns the results in index order.
    func wait() -> [Result<T, any Error>] {
        group.wait()
        return results.withLock { $0.sorted { $0.key < $1.key }.map(\.value) }
    }
}

/// An event log appended to from the writer thread.
final class Events: Sendable {
    let list = Mutex<[String]>([])
    func append(_ event: String) { list.withLock { $0.append(event) } }
}

/// The `retire_after` mark an expiry raises an epoch to (default step: an hour).
func mark(_ expiresAt: Int64) -> Int64 { (expiresAt / 3600 + 1) * 3600 }

func isConstraintError<T>(_ result: Result<T, any Error>) -> Bool {
    guard case .failure(let error as DatabaseError) = result else { return false }
    return error.resultCode == .SQLITE_CONSTRAINT
}

@Suite struct GroupCommitTests {
    @Test func concurrentWritesShareOneTransactionAndEachGetsItsOwnResult() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try open(dir)
            let commit = store.groupCommit
            let before = commit.statistics
            let gate = Gate(commit)
            let ids = (0..<64).map { _ in LinkID.random() }
            let collected = Collected<RevocationRecord>()
            for (index, id) in ids.enumerated() {
                let completion = collected.completion(index)
                Thread.detachNewThread {  // the synchronous API, one thread per caller
                    completion(Result {
                        try store.revoke(.id(id), reason: "r\(index)", now: t0 + Int64(index), caller: Caller(uid: UInt32(index)))
                    })
                }
            }
            try gate.release(after: ids.count, on: commit)
            let records = try collected.wait().map { try $0.get() }
            #expect(records.map(\.revocation) == ids.map { .id($0) })
            #expect(records.map(\.reason) == ids.indices.map { "r\($0)" })
            #expect(records.map(\.actorUID) == ids.indices.map { UInt32($0) })
            #expect(Set(records.map(\.id)).count == ids.count)
            let after = commit.statistics
            #expect(after.commits - before.commits == 2, "the gate's transaction and one for all 64")
            #expect(after.writes - before.writes == ids.count + 1)
            #expect(store.revocations?.count == ids.count)
            #expect(try open(dir).listRevocations(limit: 1000).count == ids.count)
        }
    }

    /// The second issue of the same use-limited link breaks the link_use primary key: its
    /// savepoint rolls back (with the higher retire mark it wrote first), the rest commits.
    @Test func aFailingWriteFailsAloneAndTheOthersAreDurable() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try open(dir)
            let before = store.groupCommit.statistics
            let gate = Gate(store.groupCommit)
            let link = LinkID.random()
            let issues = Collected<Void>()
            let revocations = Collected<RevocationRecord>()
            store.recordIssue(
                epoch: 1, expiresAt: t0 + 600, linkID: link, detail: "first", state: LinkState(maxUses: 3), now: t0,
                caller: .daemon, completion: issues.completion(0))
            store.revoke(.prefix("/a/"), reason: nil, now: t0, caller: .daemon, completion: revocations.completion(0))
            store.recordIssue(
                epoch: 1, expiresAt: t0 + 3 * 86_400, linkID: link, detail: "again", state: LinkState(maxUses: 5), now: t0,
                caller: .daemon, completion: issues.completion(1))
            store.revoke(.prefix("/b/"), reason: nil, now: t0, caller: .daemon, completion: revocations.completion(1))
            try gate.release(after: 4, on: store.groupCommit)

            let issued = issues.wait()
            #expect((try? issued[0].get()) != nil)
            #expect(isConstraintError(issued[1]), "\(issued[1])")
            #expect(try revocations.wait().map { try $0.get().revocation } == [.prefix("/a/"), .prefix("/b/")])
            let after = store.groupCommit.statistics
            #expect(after.commits - before.commits == 2 && after.writes - before.writes == 4)
            #expect(after.failedWrites - before.failedWrites == 1 && after.failedBatches == before.failedBatches)
            #expect(store.keyRing.records[1]?.retireAfter == mark(t0 + 600), "the failed write's mark was not applied")
            #expect(store.revocations?.count == 2)

            let reopened = try open(dir)
            #expect(reopened.keyRing.records[1]?.retireAfter == mark(t0 + 600))
            #expect(try reopened.listRevocations().count == 2)
            #expect(try reopened.remainingUses(link) == 3)
            #expect(try reopened.auditLog().filter { $0.action == "link.issue" }.map(\.detail) == ["first"])
        }
    }

    /// A deferred foreign key is checked at COMMIT: the commit itself fails, so every write of
    /// the batch fails, no after-commit action runs, and the next batch commits as usual.
    @Test func aFailedCommitFailsEveryWriteOfTheBatch() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try open(dir)
            try store.database.write { db in
                try db.execute(sql: """
                    CREATE TABLE test_parent (id INTEGER PRIMARY KEY);
                    CREATE TABLE test_child (parent INTEGER REFERENCES test_parent (id) DEFERRABLE INITIALLY DEFERRED);
                    """)
            }
            let gate = Gate(store.groupCommit)
            let revocations = Collected<RevocationRecord>()
            let issues = Collected<Void>()
            let orphans = Collected<Int>()
            let events = Events()
            store.revoke(.id(.random()), reason: nil, now: t0, caller: .daemon, completion: revocations.completion(0))
            store.recordIssue(
                epoch: 1, expiresAt: t0 + 600, linkID: .random(), detail: nil, state: LinkState(maxUses: 1), now: t0,
                caller: .daemon, completion: issues.completion(0))
            store.groupCommit.submit(
                { db in
                    try db.execute(sql: "INSERT INTO test_child (parent) VALUES (42)")  // fine until COMMIT
                    return 42
                }, afterCommit: { _ in events.append("after-commit") }, completion: orphans.completion(0))
            store.revoke(.prefix("/c/"), reason: nil, now: t0, caller: .daemon, completion: revocations.completion(1))
            try gate.release(after: 4, on: store.groupCommit)

            #expect(revocations.wait().allSatisfy(isConstraintError))
            #expect(issues.wait().allSatisfy(isConstraintError))
            #expect(orphans.wait().allSatisfy(isConstraintError))
            #expect(events.list.withLock { $0 }.isEmpty)
            #expect(store.groupCommit.statistics.failedBatches == 1)
            #expect(store.revocations?.count == 0)
            #expect(store.keyRing.records[1]?.retireAfter == nil)

            let later = try store.revoke(.prefix("/d/"), reason: nil, now: t0, caller: .daemon)
            #expect(store.revocations?.count == 1)
            let reopened = try open(dir)
            #expect(try reopened.listRevocations().map(\.id) == [later.id])
            #expect(reopened.keyRing.records[1]?.retireAfter == nil)
            #expect(try reopened.auditLog().map(\.action) == ["revoke", "keys.init"])
        }
    }

    @Test func afterCommitActionsRunOnceCommittedInOrderBeforeTheCompletions() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try open(dir)
            var readOnly = Configuration()
            readOnly.readonly = true
            let reader = try DatabaseQueue(path: dir + "/authority.sqlite", configuration: readOnly)
            let gate = Gate(store.groupCommit)
            let events = Events()
            let collected = Collected<Int64>()
            for index in Int64(0)..<5 {
                let finish = collected.completion(Int(index))
                store.groupCommit.submit(
                    { db in
                        try db.execute(sql: "INSERT INTO audit_log (at, action) VALUES (?, 'test')", arguments: [index])
                        return index
                    },
                    afterCommit: { index in
                        // Another connection already sees the row: the transaction has committed.
                        let seen = try? reader.read { db in
                            try Int.fetchOne(db, sql: "SELECT count(*) FROM audit_log WHERE action = 'test' AND at = ?", arguments: [index])
                        }
                        events.append("after \(index) seen \(seen ?? -1)")
                    },
                    completion: { result in
                        events.append("done \((try? result.get()) ?? -1)")
                        finish(result)
                    })
            }
            try gate.release(after: 5, on: store.groupCommit)
            _ = collected.wait()
            #expect(events.list.withLock { $0 } == (0..<5).map { "after \($0) seen 1" } + (0..<5).map { "done \($0)" })
        }
    }

    @Test func issuesInOneBatchLeaveTheHighestRetireMark() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try open(dir)
            let gate = Gate(store.groupCommit)
            let issues = Collected<Void>()
            for (index, expiresAt) in [t0 + 10_000, t0 + 100, t0 + 5_000].enumerated() {
                store.recordIssue(
                    epoch: 1, expiresAt: expiresAt, linkID: .random(), detail: nil, now: t0, caller: .daemon,
                    completion: issues.completion(index))
            }
            try gate.release(after: 3, on: store.groupCommit)
            #expect(issues.wait().allSatisfy { (try? $0.get()) != nil })
            #expect(store.keyRing.records[1]?.retireAfter == mark(t0 + 10_000))
            #expect(try open(dir).keyRing.records[1]?.retireAfter == mark(t0 + 10_000))
        }
    }

    @Test func anIssueUnderAForceRetiredEpochIsRefused() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try open(dir)
            try store.recordIssue(epoch: 1, expiresAt: t0 + 100, linkID: .random(), detail: nil, now: t0, caller: .daemon)
            try store.rotate(now: t0 + 1, caller: .daemon)
            try store.retire(epoch: 1, force: true, now: t0 + 2, caller: .daemon)
            for expiresAt in [t0 + 50, t0 + 100_000] {  // under the mark, and past it
                #expect(throws: StoreError.keyRing(.alreadyRetired(1))) {
                    try store.recordIssue(epoch: 1, expiresAt: expiresAt, linkID: .random(), detail: nil, now: t0 + 3, caller: .daemon)
                }
            }
            try store.recordIssue(epoch: 2, expiresAt: t0 + 100, linkID: .random(), detail: nil, now: t0 + 3, caller: .daemon)
            #expect(try store.auditLog().filter { $0.action == "link.issue" }.map(\.epoch) == [2, 1])
        }
    }

    @Test func closeCommitsWhatIsQueuedThenRefusesWrites() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try open(dir)
            let commit = store.groupCommit
            let gate = Gate(commit)
            let collected = Collected<RevocationRecord>()
            for index in 0..<10 {
                store.revoke(.id(.random()), reason: nil, now: t0, caller: .daemon, completion: collected.completion(index))
            }
            let closed = DispatchSemaphore(value: 0)
            Thread.detachNewThread {
                commit.close()
                closed.signal()
            }
            let deadline = Date().addingTimeInterval(10)
            while !commit.isClosed, Date() < deadline { usleep(1_000) }
            #expect(throws: StoreError.closed) { try store.revoke(.id(.random()), reason: nil, now: t0, caller: .daemon) }
            try gate.release(after: 10, on: commit)
            closed.wait()
            #expect(try collected.wait().map { try $0.get() }.count == 10)
            #expect(try open(dir).listRevocations().count == 10)
        }
    }

    /// More writes queued than `maximumBatch` commit in several transactions, in queue order.
    @Test func aLongQueueCommitsInBatchesOfAtMostTheMaximum() throws {
        let database = try DatabaseQueue()
        try database.write { db in try db.execute(sql: "CREATE TABLE t (i INTEGER)") }
        let commit = GroupCommit(database: database, maximumBatch: 3)
        defer { commit.close() }
        let gate = Gate(commit)
        let events = Events()
        let collected = Collected<Int>()
        for index in 0..<7 {
            commit.submit(
                { db in
                    try db.execute(sql: "INSERT INTO t (i) VALUES (?)", arguments: [index])
                    return index
                }, afterCommit: { events.append("after \($0)") }, completion: collected.completion(index))
        }
        try gate.release(after: 7, on: commit)
        #expect(try collected.wait().map { try $0.get() } == Array(0..<7))
        #expect(events.list.withLock { $0 } == (0..<7).map { "after \($0)" })
        #expect(commit.statistics == GroupCommit.Statistics(commits: 4, writes: 8), "the gate's, then 3 + 3 + 1")
        #expect(try database.read { db in try Int.fetchAll(db, sql: "SELECT i FROM t ORDER BY rowid") } == Array(0..<7))
    }

    /// The writer thread ends after a second without writes; the next write starts another.
    @Test func theWriterThreadEndsWhenIdleAndTheNextWriteStartsAnother() throws {
        let commit = GroupCommit(database: try DatabaseQueue())
        #expect(!commit.isWriting)
        #expect(try commit.perform { _ in 1 } == 1)
        let deadline = Date().addingTimeInterval(10)
        while commit.isWriting, Date() < deadline { usleep(10_000) }
        #expect(!commit.isWriting)
        #expect(try commit.perform { _ in 2 } == 2)
        commit.close()
        #expect(!commit.isWriting)
        #expect(throws: StoreError.closed) { try commit.perform { _ in 3 } }
        #expect(commit.statistics == GroupCommit.Statistics(commits: 2, writes: 2))
    }
}
