import ServiceLifecycle

/// Runs `body` every `interval` until graceful shutdown or cancellation.
func runEvery(_ interval: Duration, _ body: @escaping @Sendable () async -> Void) async {
    do {
        try await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(for: interval)
                await body()
            }
        }
    } catch {
        // Cancelled: the service stops.
    }
}
