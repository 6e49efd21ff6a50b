import Foundation
import Logging
import NIOCore
import PostgresNIO
import Synchronization

/// The session connection that `LISTEN`s on `authority_changes`: every notification (its payload
/// is the new serial) asks the store to catch up. A broken session is opened again after a
/// back-off; each (re)start also asks for a catch-up, since notifications sent while it was away
/// are lost (the poll covers them too).
final class PostgresListener: Sendable {
    static let channel = "authority_changes"
    let loop: any EventLoop
    let location: PostgresLocation
    let logger: Logger
    private let state = Mutex<(task: Task<Void, Never>?, poll: RepeatedTask?, stopped: Bool)>((nil, nil, false))

    init(loop: any EventLoop, location: PostgresLocation, logger: Logger) {
        self.loop = loop
        self.location = location
        self.logger = logger
    }

    func start(poll: RepeatedTask, executor: EventLoopTaskExecutor, onChange: @escaping @Sendable () -> Void) {
        let task = Task(executorPreference: executor) { [self] in await listen(onChange: onChange) }
        state.withLock { $0 = (task, poll, false) }
    }

    func stop() {
        let (task, poll) = state.withLock { state in
            state.stopped = true
            return (state.task, state.poll)
        }
        poll?.cancel()
        task?.cancel()
    }

    private func listen(onChange: @escaping @Sendable () -> Void) async {
        var backoff: Duration = .milliseconds(100)
        var number = 1_000_000
        while !Task.isCancelled {
            do {
                number += 1
                let connection = try await PostgresConnection.connect(
                    on: loop, configuration: try location.configuration(), id: number, logger: logger)
                do {
                    try await connection.listen(on: Self.channel) { notifications in
                        backoff = .milliseconds(100)
                        onChange()
                        for try await _ in notifications { onChange() }
                    }
                } catch {
                    if !Task.isCancelled {
                        logger.warning("the LISTEN session broke; opening it again", metadata: ["error": "\(error)"])
                    }
                }
                try? await connection.close()
            } catch {
                logger.debug("LISTEN session cannot connect", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: backoff)
            backoff = min(backoff * 2, .seconds(5))
        }
    }
}
