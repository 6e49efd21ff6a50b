import Foundation
import GRDB

/// Group commit for the store's acknowledged writes (revocations, issues, uses). One writer
/// thread takes everything queued (at most `maximumBatch` writes) and runs it in ONE immediate
/// transaction, each write in its own savepoint, so one fsync makes the whole batch durable:
///
/// - a write that throws (a constraint, a retired epoch) rolls back its savepoint only and gets
///   its own error; the others of the batch still commit;
/// - only after the commit succeeded, each write's after-commit action runs, in queue order and
///   still holding the database writer (so in-memory views such as the key ring and the
///   revocation index change in commit order, before any other write), then its completion;
/// - if the transaction fails (it cannot begin, or the commit fails), every write of the batch
///   gets the error and no after-commit action runs.
///
/// The writer thread starts on the first write and ends after a second without any. Batches are
/// serialised with every other write of the store (they hold the database writer), so a work may
/// read the store's in-memory state and trust it. Never wait for a write (`perform`, the store's
/// synchronous methods) from a work, an after-commit action or a completion: they run on the
/// writer thread, which would wait for itself.
///
/// One primitive does all the waiting: an `NSCondition` (the writer's queue, `close()`, and
/// `wait`'s answer), on the one `Thread` the writer needs.
///
/// `@unchecked Sendable`: `queue`, `running`, `closed`, `counts` and `observers` are only touched
/// with `condition` held; the rest is immutable.
public final class GroupCommit: @unchecked Sendable {
    /// What the writer has done since the store opened.
    public struct Statistics: Sendable, Equatable {
        /// Transactions committed (one fsync each).
        public var commits = 0
        /// Writes those transactions made durable.
        public var writes = 0
        /// Writes that failed alone (their savepoint rolled back) in a committed transaction.
        public var failedWrites = 0
        /// Transactions that failed as a whole.
        public var failedBatches = 0
    }

    /// One queued write, its result type erased: `run` works inside the batch's transaction and
    /// returns what to do after the commit; `fail` tells the caller it was not made.
    private struct Job: Sendable {
        let run: @Sendable (Database) throws -> Done
        let fail: @Sendable (any Error) -> Void
    }

    /// A write that worked, waiting for the commit.
    private struct Done {
        let afterCommit: () -> Void
        let complete: () -> Void
    }

    private enum Outcome {
        case worked(Done)
        case failed(Job, any Error)
    }

    /// Largest number of writes in one transaction.
    public let maximumBatch: Int
    private let database: DatabaseWriter
    /// The integrity head; nil only in GroupCommit's own tests.
    private let ledger: Ledger?
    private let condition = NSCondition()
    private var queue: [Job] = []
    private var running = false
    private var closed = false
    private var counts = Statistics()
    private var observers: [@Sendable (_ committedWrites: Int) -> Void] = []

    init(database: DatabaseWriter, ledger: Ledger? = nil, maximumBatch: Int = 4_096) {
        self.database = database
        self.ledger = ledger
        self.maximumBatch = maximumBatch
    }

    public var statistics: Statistics { condition.withLock { counts } }

    /// Writes waiting for the writer thread.
    var queued: Int { condition.withLock { queue.count } }

    /// Whether `close()` has been called.
    var isClosed: Bool { condition.withLock { closed } }

    /// Whether a writer thread is running (it ends after a second without writes).
    var isWriting: Bool { condition.withLock { running } }

    /// Calls `observer` on the writer thread after each commit, before the completions, with the
    /// number of writes it made durable (metrics, waking event streams; keep it cheap). Every
    /// observer registered is called, in the order registered.
    public func observe(_ observer: @escaping @Sendable (_ committedWrites: Int) -> Void) {
        condition.withLock { observers.append(observer) }
    }

    /// Queues `work`. After the batch commits, `afterCommit` gets the work's result, then
    /// `completion` does; if the work throws or the batch fails, only `completion` runs, with the
    /// error. Both run on the writer thread: keep them short and never wait for a write there.
    public func submit<T: Sendable>(
        _ work: @escaping @Sendable (Database) throws -> T,
        afterCommit: @escaping @Sendable (T) -> Void = { _ in },
        completion: @escaping @Sendable (Result<T, any Error>) -> Void
    ) {
        let job = Job(
            run: { db in
                let value = try work(db)
                return Done(afterCommit: { afterCommit(value) }, complete: { completion(.success(value)) })
            },
            fail: { completion(.failure($0)) })
        condition.lock()
        guard !closed else {
            condition.unlock()
            completion(.failure(StoreError.closed))
            return
        }
        queue.append(job)
        if !running {
            running = true
            let thread = Thread { [self] in writeLoop() }
            thread.name = "authority-commit"
            thread.start()
        }
        condition.signal()
        condition.unlock()
    }

    /// `submit`, waiting until the write is durable (or failed). Not from the writer thread.
    public func perform<T: Sendable>(
        _ work: @escaping @Sendable (Database) throws -> T, afterCommit: @escaping @Sendable (T) -> Void = { _ in }
    ) throws -> T {
        try Self.wait { submit(work, afterCommit: afterCommit, completion: $0) }
    }

    /// Starts an operation that reports through a completion and waits for it.
    static func wait<T: Sendable>(_ start: (@escaping @Sendable (Result<T, any Error>) -> Void) -> Void) throws -> T {
        let answer = Answer<T>()
        start { answer.deliver($0) }
        return try answer.wait().get()
    }

    /// Refuses new writes (`StoreError.closed`) and waits until every queued write is committed
    /// or failed and the writer thread has ended. Not from the writer thread.
    public func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        while running { condition.wait() }
        condition.unlock()
    }

    private func writeLoop() {
        while let batch = nextBatch() { write(batch) }
    }

    /// The next batch, waiting for one; nil when the thread should end (closed and drained, or
    /// idle for a second).
    private func nextBatch() -> [Job]? {
        condition.lock()
        defer { condition.unlock() }
        let idleUntil = Date().addingTimeInterval(1)
        while queue.isEmpty, !closed, condition.wait(until: idleUntil) {}
        guard !queue.isEmpty else {
            running = false
            condition.broadcast()
            return nil
        }
        if queue.count <= maximumBatch {
            defer { queue = [] }
            return queue
        }
        defer { queue.removeFirst(maximumBatch) }
        return Array(queue.prefix(maximumBatch))
    }

    /// One transaction for `batch`, then the after-commit actions, then the completions. After
    /// the commit, the ledger checks that the database file is still the one opened and writes
    /// the head file; if it cannot, the in-memory views still follow the database, but every
    /// write of the batch fails with that error instead of being acknowledged.
    private func write(_ batch: [Job]) {
        var outcomes: [Outcome] = []
        outcomes.reserveCapacity(batch.count)
        var unacknowledged: StoreError?
        do {
            try database.writeWithoutTransaction { db in
                try db.inTransaction(.immediate) {
                    for job in batch { outcomes.append(try run(job, in: db)) }
                    try ledger?.willCommit(db)
                    return .commit
                }
                do throws(StoreError) { try ledger?.didCommit() } catch { unacknowledged = error }
                for case .worked(let done) in outcomes { done.afterCommit() }
            }
        } catch {
            ledger?.didFail()
            // Nothing of the batch is durable. A write that failed alone keeps its own error; the
            // one that aborted the transaction (not in `outcomes`) gets its error, which is this one.
            condition.withLock { counts.failedBatches += 1 }
            for (index, job) in batch.enumerated() {
                if index < outcomes.count, case .failed(_, let own) = outcomes[index] { job.fail(own) } else { job.fail(error) }
            }
            return
        }
        let worked = outcomes.reduce(0) { if case .worked = $1 { $0 + 1 } else { $0 } }
        let observers = condition.withLock {
            counts.commits += 1
            counts.writes += worked
            counts.failedWrites += outcomes.count - worked
            return self.observers
        }
        for observer in observers { observer(worked) }
        if let unacknowledged {
            for job in batch { job.fail(unacknowledged) }
            return
        }
        for outcome in outcomes {
            switch outcome {
            case .worked(let done): done.complete()
            case .failed(let job, let error): job.fail(error)
            }
        }
    }

    /// Runs `job` in a savepoint. An error rolls the savepoint back (and the ledger's changes of
    /// the job) and fails the job alone, unless SQLite aborted the whole transaction: then it is
    /// rethrown and the batch fails.
    private func run(_ job: Job, in db: Database) throws -> Outcome {
        let head = ledger?.pending
        // Prepared once per connection: a batch runs these twice per write.
        try db.cachedStatement(sql: "SAVEPOINT authority_write").execute()
        do {
            let done = try job.run(db)
            try db.cachedStatement(sql: "RELEASE SAVEPOINT authority_write").execute()
            return .worked(done)
        } catch {
            guard db.isInsideTransaction else { throw error }
            if let head { ledger?.pending = head }
            try db.cachedStatement(sql: "ROLLBACK TO SAVEPOINT authority_write").execute()
            try db.cachedStatement(sql: "RELEASE SAVEPOINT authority_write").execute()
            return .failed(job, error)
        }
    }
}

/// Where `GroupCommit.wait` receives its answer.
///
/// `@unchecked Sendable`: `result` is only touched with `condition` held.
private final class Answer<T: Sendable>: @unchecked Sendable {
    private let condition = NSCondition()
    private var result: Result<T, any Error>?

    func deliver(_ result: Result<T, any Error>) {
        condition.withLock {
            self.result = result
            condition.signal()
        }
    }

    /// Blocks until `deliver` has been called, then returns what it delivered.
    func wait() -> Result<T, any Error> {
        condition.withLock {
            while true {
                if let result { return result }
                condition.wait()
            }
        }
    }
}
