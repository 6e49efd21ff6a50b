import NIOCore
import NIOPosix

/// What every handler answers: a value or an error at once (on the event loop), or later (after
/// work off the loop, or a commit). Only the router turns it into HTTP.
public enum Reply<Value: Sendable>: Sendable {
    case now(Result<Value, any Error>)
    case later(EventLoopFuture<Value>)

    static func value(_ value: Value) -> Reply { .now(.success(value)) }
    static func failure(_ error: any Error) -> Reply { .now(.failure(error)) }

    /// `work` run on `pool`, completed on `eventLoop`.
    static func off(_ pool: NIOThreadPool, on eventLoop: any EventLoop, _ work: @escaping @Sendable () throws -> Value) -> Reply {
        .later(pool.runIfActive(eventLoop: eventLoop, work))
    }

    func map<Other: Sendable>(_ transform: @escaping @Sendable (Value) -> Other) -> Reply<Other> {
        switch self {
        case .now(let result): .now(result.map(transform))
        case .later(let future): .later(future.map(transform))
        }
    }
}

extension EventLoop {
    /// A future, completed on this loop, for a store operation that reports through a
    /// completion (the group commit's writes).
    func future<T: Sendable>(_ start: (@escaping @Sendable (Result<T, any Error>) -> Void) -> Void) -> EventLoopFuture<T> {
        let promise = makePromise(of: T.self)
        start { promise.completeWith($0) }
        return promise.futureResult
    }
}
