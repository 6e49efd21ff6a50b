import AuthorityCore
import AuthorityStore
import Foundation
import NIOCore

/// Group commit for uses of use-limited links: consumptions that arrive while a transaction is
/// being written wait and share the next one (one fsync for the whole batch), so durability does
/// not cap throughput. Each answer is sent only after its use is on disk.
///
/// `@unchecked Sendable`: every mutable member is only touched with `condition` held.
final class UseBatcher: @unchecked Sendable {
    private let store: AuthorityStore
    private let condition = NSCondition()
    private var pending: [(id: LinkID, promise: EventLoopPromise<UseOutcome>)] = []
    private var running = false
    private var stopped = false
    /// Largest batch written in one transaction.
    private let maximumBatch = 4_096

    init(store: AuthorityStore) { self.store = store }

    /// Queues one use of `id`; the future completes (on `eventLoop`) once it is durable.
    func consume(_ id: LinkID, on eventLoop: any EventLoop) -> EventLoopFuture<UseOutcome> {
        let promise = eventLoop.makePromise(of: UseOutcome.self)
        condition.lock()
        defer { condition.unlock() }
        if stopped {
            promise.fail(ChannelError.ioOnClosedChannel)
            return promise.futureResult
        }
        pending.append((id, promise))
        if !running {
            running = true
            let thread = Thread { [self] in writeLoop() }
            thread.name = "authority-uses"
            thread.start()
        }
        condition.signal()
        return promise.futureResult
    }

    /// Finishes the queued uses, then stops the writer thread.
    func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }

    private func writeLoop() {
        while true {
            condition.lock()
            while pending.isEmpty && !stopped { condition.wait() }
            if pending.isEmpty {
                running = false
                condition.unlock()
                return
            }
            let batch = Array(pending.prefix(maximumBatch))
            pending.removeFirst(batch.count)
            condition.unlock()
            do {
                let outcomes = try store.consumeUses(batch.map(\.id))
                for (entry, outcome) in zip(batch, outcomes) { entry.promise.succeed(outcome) }
            } catch {
                for entry in batch { entry.promise.fail(error) }
            }
        }
    }
}
