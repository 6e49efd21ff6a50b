import Synchronization

/// The policy in force: the router asks it for each caller's rights; SIGHUP replaces it.
final class CurrentPolicy: Sendable {
    private let value: Mutex<Policy>

    init(_ policy: Policy) { value = Mutex(policy) }

    func rights(for peer: PeerCredentials) -> CallerRights { value.withLock { $0.rights(for: peer) } }

    func replace(_ newPolicy: Policy) { value.withLock { $0 = newPolicy } }
}
