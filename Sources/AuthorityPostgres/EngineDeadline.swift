import NIOCore
import Synchronization

/// A job ran past the engine's deadline (its connection is then cut).
struct JobDeadlineExceeded: Error, CustomStringConvertible {
    let seconds: Int64
    var description: String { "PostgreSQL did not answer within \(seconds) s; the connection was cut" }
}

/// The first of a job's outcome and its deadline resumes the engine; the other is dropped.
final class Gate<T: Sendable>: Sendable {
    private let state = Mutex<(continuation: CheckedContinuation<T, any Error>?, settled: Bool)>((nil, false))

    func arm(_ continuation: CheckedContinuation<T, any Error>) {
        state.withLock { $0.continuation = continuation }
    }

    func settle(_ result: Result<T, any Error>) {
        let continuation = state.withLock { state -> CheckedContinuation<T, any Error>? in
            guard !state.settled else { return nil }
            state.settled = true
            defer { state.continuation = nil }
            return state.continuation
        }
        continuation?.resume(with: result)
    }
}

/// A task executor on one NIO event loop: nonisolated async code of a task that prefers it
/// (postgres-nio's, the engine's job closures) runs on that loop's thread, not on the shared pool.
final class EventLoopTaskExecutor: TaskExecutor, Sendable {
    let loop: any EventLoop

    init(_ loop: any EventLoop) { self.loop = loop }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
