#if canImport(Glibc)
import Glibc
#endif

/// Calls `body` with a `sockaddr` for a Unix socket path (`@name`: the abstract namespace) and its
/// length; nil when the path does not fit `sun_path`. The one socket address of the tests and tools;
/// a copy of AuthorityServer's own `withUnixSocketAddress` (AuthorityTesting does not depend on
/// the server, and the benchmark links AuthorityTesting).
public func withUnixSocketAddress<R>(_ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R? {
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    var bytes = Array(path.utf8)
    if bytes.first == UInt8(ascii: "@") { bytes[0] = 0 }
    guard !bytes.isEmpty, bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return nil }
    withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
    let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + (bytes[0] == 0 ? 0 : 1))
    return withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) } }
}
