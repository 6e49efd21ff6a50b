import AuthorityCore
import AuthorityStore
import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import Synchronization

/// The engine's one queue: writes (batched into one transaction, each in its own savepoint) and
/// reads, run in order on a single connection by a loop isolated to a NIO event loop of its own,
/// so callers may block for an answer on any thread but that one (never on the Swift concurrency
/// pool's threads being needed). A broken connection is replaced on the next job, after a back-off
/// during which jobs fail at once as `unavailable` (fail closed, never a hang).
actor PostgresEngine {
    /// A queued job: `write` works inside the batch's transaction and returns what to run after the
    /// commit; `read` gets the connection alone.
    enum Job: Sendable {
        case write(@Sendable (PostgresTransaction) async throws -> @Sendable () -> Void, fail: @Sendable (any Error) -> Void)
        case read(@Sendable (PostgresConnection) async throws -> Void, fail: @Sendable (any Error) -> Void)
        /// One use of a use-limited link: all of a batch's uses are counted in two statements.
        case use(LinkID, completion: @Sendable (Result<UseOutcome, any Error>) -> Void)

        var fail: @Sendable (any Error) -> Void {
            switch self {
            case .write(_, let fail), .read(_, let fail): fail
            case .use(_, let completion): { completion(.failure($0)) }
            }
        }
    }

    struct Queue {
        var jobs: [Job] = []
        var waiter: CheckedContinuation<Bool, Never>?
        var closed = false
        var running = true
    }

    nonisolated let loop: any EventLoop
    nonisolated let location: PostgresLocation
    nonisolated let logger: Logger
    nonisolated let queue = Mutex(Queue())
    nonisolated let maximumBatch = 1_024
    /// The longest one job (a read, or one batch's transaction and catch-up) may take.
    nonisolated let jobDeadline: TimeAmount
    /// Runs the engine's nonisolated async work on `loop`.
    nonisolated let executor: EventLoopTaskExecutor
    private var connection: PostgresConnection?
    private var nextConnectAttempt = ContinuousClock.now
    private var backoff: Duration = .milliseconds(100)
    private var connectionNumber = 0
    /// Counts the uses of a batch (in its transaction): one outcome per id, in order.
    private let consume: @Sendable (PostgresTransaction, [LinkID]) async throws -> [Result<UseOutcome, any Error>]
    /// Runs inside every write transaction after its jobs, before COMMIT (the head into store_meta).
    private let finish: @Sendable (PostgresTransaction) async throws -> Void
    /// Runs after every committed batch, before its completions (the in-memory state follows).
    private let committed: @Sendable (PostgresConnection, PostgresTransaction, _ writes: Int) async throws -> Void
    /// Told whether PostgreSQL answers (after each connect attempt and each failure).
    private let reachable: @Sendable (Bool, String?) -> Void

    nonisolated var unownedExecutor: UnownedSerialExecutor { loop.executor.asUnownedSerialExecutor() }

    init(
        loop: any EventLoop, location: PostgresLocation, logger: Logger,
        consume: @escaping @Sendable (PostgresTransaction, [LinkID]) async throws -> [Result<UseOutcome, any Error>],
        finish: @escaping @Sendable (PostgresTransaction) async throws -> Void,
        committed: @escaping @Sendable (PostgresConnection, PostgresTransaction, Int) async throws -> Void,
        reachable: @escaping @Sendable (Bool, String?) -> Void, jobDeadline: TimeAmount = .seconds(10)
    ) {
        self.jobDeadline = jobDeadline
        self.executor = EventLoopTaskExecutor(loop)
        self.loop = loop
        self.location = location
        self.logger = logger
        self.consume = consume
        self.finish = finish
        self.committed = committed
        self.reachable = reachable
    }

    /// Queues `job`; fails it at once when the engine is closed.
    nonisolated func submit(_ job: Job) {
        let (waiter, closed) = queue.withLock { queue -> (CheckedContinuation<Bool, Never>?, Bool) in
            if queue.closed { return (nil, true) }
            queue.jobs.append(job)
            defer { queue.waiter = nil }
            return (queue.waiter, false)
        }
        if closed { return job.fail(StoreError.closed) }
        waiter?.resume(returning: true)
    }

    /// Refuses new jobs; the queued ones still run. Returns once the loop has ended.
    nonisolated func close() {
        let waiter = queue.withLock { queue in
            queue.closed = true
            defer { queue.waiter = nil }
            return queue.waiter
        }
        waiter?.resume(returning: false)
    }

    /// The loop: until closed and drained. Everything it awaits runs on the engine's event loop,
    /// the job closures and postgres-nio's nonisolated code included (`executor`): on the shared
    /// cooperative pool (one thread per core) it would wait whenever other code blocks those threads.
    func run() async {
        await withTaskExecutorPreference(executor) {
            while let jobs = await nextJobs() { await process(jobs) }
            try? await connection?.close()
            connection = nil
        }
        queue.withLock { $0.running = false }
    }

    private func nextJobs() async -> [Job]? {
        while true {
            let taken = queue.withLock { queue -> [Job]? in
                if !queue.jobs.isEmpty {
                    let jobs = queue.jobs
                    queue.jobs = []
                    return jobs
                }
                return queue.closed ? nil : []
            }
            guard let taken else { return nil }
            if !taken.isEmpty { return taken }
            let more = await withCheckedContinuation { (waiter: CheckedContinuation<Bool, Never>) in
                let resumeNow = queue.withLock { queue -> Bool in
                    if !queue.jobs.isEmpty || queue.closed { return true }
                    queue.waiter = waiter
                    return false
                }
                if resumeNow { waiter.resume(returning: true) }
            }
            _ = more
        }
    }

    /// Runs `jobs` in order: consecutive writes share a transaction (at most `maximumBatch`).
    private func process(_ jobs: [Job]) async {
        var index = 0
        while index < jobs.count {
            if case .read(let work, let fail) = jobs[index] {
                do {
                    let connection = try await connected()
                    try await bounded { try await work(connection) }
                } catch {
                    fail(await noteFailure(error))
                }
                index += 1
                continue
            }
            var batch: [Job] = []
            while index < jobs.count, batch.count < maximumBatch {
                if case .read = jobs[index] { break }
                batch.append(jobs[index])
                index += 1
            }
            await write(batch)
        }
    }

    private func write(_ batch: [Job]) async {
        let connection: PostgresConnection
        do {
            connection = try await connected()
        } catch {
            let failure = await noteFailure(error)
            for job in batch { job.fail(failure) }
            return
        }
        let outcome: (completions: [@Sendable () -> Void], failures: [(Job, any Error)])
        do {
            outcome = try await bounded { try await self.transact(batch, on: connection) }
        } catch let error as Committed {
            // Committed, but not to be acknowledged (authority.head could not be written).
            for job in batch { job.fail(error.error) }
            return
        } catch {
            let failure = await noteFailure(error)
            for job in batch { job.fail(failure) }
            return
        }
        for (job, error) in outcome.failures { job.fail(error) }
        for completion in outcome.completions { completion() }
    }

    /// A batch committed whose answer must still not be an acknowledgement.
    private struct Committed: Error { let error: any Error }

    /// One transaction for `batch`: its uses, then each write in a savepoint of its own, then the
    /// head, COMMIT, and the in-memory state. Returns what to run for the jobs that succeeded and
    /// the failures of those that did not. After a connection error nothing more is sent on the
    /// connection (not even ROLLBACK: the server has ended the transaction with the session).
    private func transact(
        _ batch: [Job], on connection: PostgresConnection
    ) async throws -> (completions: [@Sendable () -> Void], failures: [(Job, any Error)]) {
        var completions: [@Sendable () -> Void] = []
        var failures: [(Job, any Error)] = []
        let transaction: PostgresTransaction
        do {
            try Self.refuseClosed(connection)
            try await connection.query("BEGIN", logger: logger)
            transaction = PostgresTransaction(connection: connection, logger: logger, key: keyForTransactions)
            var uses: [(LinkID, @Sendable (Result<UseOutcome, any Error>) -> Void)] = []
            for job in batch { if case .use(let id, let completion) = job { uses.append((id, completion)) } }
            // Uses first, under their counters' row locks alone (locked in index order by every
            // daemon): store_meta's lock, which serialises the fleet's commits, is held only from
            // here to COMMIT.
            if !uses.isEmpty {
                let outcomes = try await consume(transaction, uses.map(\.0))
                for ((_, completion), outcome) in zip(uses, outcomes) { completions.append { completion(outcome) } }
            }
            try await lockMeta(transaction)
            for (number, job) in batch.enumerated() {
                guard case .write(let work, _) = job else { continue }
                let mark = transaction.mark
                try await transaction.run(PostgresQuery(unsafeSQL: "SAVEPOINT j\(number)"))
                do {
                    completions.append(try await work(transaction))
                    try await transaction.run(PostgresQuery(unsafeSQL: "RELEASE SAVEPOINT j\(number)"))
                } catch let error where !Self.isConnectionError(error) {
                    try await transaction.run(PostgresQuery(unsafeSQL: "ROLLBACK TO SAVEPOINT j\(number)"))
                    transaction.restore(mark)
                    failures.append((job, PostgresStoreError.wrap(error, location: location.description)))
                }
            }
            try await finish(transaction)
            try Self.refuseClosed(connection)
            try await connection.query("COMMIT", logger: logger)
        } catch {
            await Self.rollback(connection, after: error, logger: logger)
            throw error
        }
        do {
            try await committed(connection, transaction, completions.count)
        } catch {
            throw Committed(error: error)
        }
        return (completions, failures)
    }

    /// postgres-nio 1.33.2 writes a query to its channel without a promise: a query sent as the
    /// connection closes (PostgreSQL's fast shutdown, a killed backend) is never answered, and its
    /// await never returns. So a job on a closed connection is refused before it is sent, and every
    /// job runs under `jobDeadline`: past it the job fails with `JobDeadlineExceeded`, a connection
    /// error, so `noteFailure` closes and drops the connection and the job answers unavailable
    /// (nothing acknowledged); whatever the abandoned work returns later is dropped.
    private func bounded<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let gate = Gate<T>()
        let limit = jobDeadline
        let value = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            gate.arm(continuation)
            let timer = loop.scheduleTask(in: limit) {
                gate.settle(.failure(JobDeadlineExceeded(seconds: limit.nanoseconds / 1_000_000_000)))
            }
            Task(executorPreference: executor) {
                do { gate.settle(.success(try await body())) } catch { gate.settle(.failure(error)) }
                timer.cancel()
            }
        }
        return value
    }

    static func refuseClosed(_ connection: PostgresConnection) throws {
        if connection.isClosed { throw ChannelError.ioOnClosedChannel }
    }

    /// ROLLBACK after `error`, unless the error was the connection's (the server ended the
    /// transaction with the session, and a query sent now may never be answered).
    static func rollback(_ connection: PostgresConnection, after error: any Error, logger: Logger) async {
        guard !isConnectionError(error), !connection.isClosed else { return }
        _ = try? await connection.query("ROLLBACK", logger: logger)
    }

    /// The head and next revocation serial, under store_meta's row lock (held until COMMIT).
    private func lockMeta(_ transaction: PostgresTransaction) async throws {
        let rows = try await transaction.connection.query(
            """
            SELECT head_serial, head_digest, clock_mark, next_revocation, keys_serial, rebuild_serial
            FROM store_meta WHERE only_row = 1 FOR UPDATE
            """,
            logger: logger
        ).collect()
        guard let row = rows.first else { throw StoreError.corruptRow("store_meta is missing") }
        let (serial, digest, clock, next, keys, rebuild) = try row.decode((Int64, Data, Int64, Int64, Int64, Int64).self)
        transaction.attach(
            head: IntegrityHead(serial: serial, digest: [UInt8](digest), clockMark: clock), nextRevocation: next,
            keysSerial: keys, rebuildSerial: rebuild)
    }

    /// Set once by the store before the first job.
    private var keyForTransactions: IntegrityKey!
    func use(key: IntegrityKey) { keyForTransactions = key }

    private func connected() async throws -> PostgresConnection {
        if let connection, !connection.isClosed { return connection }
        try? await connection?.close()
        connection = nil
        guard ContinuousClock.now >= nextConnectAttempt else {
            throw PostgresStoreError.unavailable(location: location.description, why: "reconnecting (back-off)")
        }
        do {
            connectionNumber += 1
            let made = try await PostgresConnection.connect(
                on: loop, configuration: try location.configuration(), id: connectionNumber, logger: logger)
            connection = made
            backoff = .milliseconds(100)
            reachable(true, nil)
            return made
        } catch {
            nextConnectAttempt = ContinuousClock.now + backoff
            backoff = min(backoff * 2, .seconds(5))
            throw PostgresStoreError.unavailable(location: location.description, why: "cannot connect: \(Self.describe(error))")
        }
    }

    /// The caller's error for `error`; a broken connection is dropped (the next job reconnects).
    private func noteFailure(_ error: any Error) async -> any Error {
        let wrapped = PostgresStoreError.wrap(error, location: location.description)
        if Self.isConnectionError(error) || (connection?.isClosed ?? false) {
            // Closed before it is dropped (postgres-nio asserts that a connection is closed when freed).
            try? await connection?.close()
            connection = nil
            reachable(false, "\(wrapped)")
            if case PostgresStoreError.unavailable = wrapped { return wrapped }
            return PostgresStoreError.unavailable(location: location.description, why: Self.describe(error))
        }
        if case PostgresStoreError.unavailable = wrapped { reachable(false, "\(wrapped)") }
        return wrapped
    }

    static func isConnectionError(_ error: any Error) -> Bool {
        if error is JobDeadlineExceeded { return true }
        if let transaction = error as? PostgresTransactionError {
            return [transaction.beginError, transaction.closureError, transaction.commitError].contains { $0.map(isConnectionError) ?? false }
        }
        guard let psql = error as? PSQLError else { return error is ChannelError || error is IOError }
        if let state = psql.serverInfo?[.sqlState] {
            // Class 08: connection exception; 57P: operator intervention (shutdown, crash).
            return state.hasPrefix("08") || state.hasPrefix("57P")
        }
        return true
    }

    static func describe(_ error: any Error) -> String {
        if let psql = error as? PSQLError {
            if let message = psql.serverInfo?[.message] { return message }
            return "\(psql.code)" + (psql.underlying.map { ": \($0)" } ?? "")
        }
        return "\(error)"
    }
}
