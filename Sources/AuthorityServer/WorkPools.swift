import NIOPosix

/// Blocking work, off the event loops, on pools of its kind so that none queues behind another:
/// storage reads; writes that wait for their commit (administration, maintenance); Argon2id.
final class WorkPools: Sendable {
    let reads: NIOThreadPool
    let writes: NIOThreadPool
    let passwords: NIOThreadPool

    init(readThreads: Int, passwordThreads: Int) {
        reads = NIOThreadPool(numberOfThreads: readThreads)
        writes = NIOThreadPool(numberOfThreads: 1)
        passwords = NIOThreadPool(numberOfThreads: passwordThreads)
        for pool in [reads, writes, passwords] { pool.start() }
    }

    /// Waits for the work in progress, then stops the threads.
    func shutdown() async {
        for pool in [passwords, writes, reads] { try? await pool.shutdownGracefully() }
    }

    func syncShutdown() {
        for pool in [passwords, writes, reads] { try? pool.syncShutdownGracefully() }
    }
}
