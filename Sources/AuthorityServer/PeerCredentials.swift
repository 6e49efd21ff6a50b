import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// Who is on the other end of a Unix socket connection, from the kernel (`SO_PEERCRED`,
/// `SO_PEERGROUPS`): read once per connection, never from anything the caller sends.
public struct PeerCredentials: Sendable, Equatable, CustomStringConvertible {
    public var pid: Int32
    public var uid: UInt32
    public var gid: UInt32
    /// Supplementary groups (the primary group included when the kernel lists it).
    public var groups: [UInt32]

    public init(pid: Int32, uid: UInt32, gid: UInt32, groups: [UInt32] = []) {
        self.pid = pid
        self.uid = uid
        self.gid = gid
        self.groups = groups
    }

    public var description: String { "uid \(uid) gid \(gid) pid \(pid)" }

    /// Layout of Linux's `struct ucred`, which Glibc's Swift module does not expose.
    private struct UCred {
        var pid: Int32 = 0
        var uid: UInt32 = 0
        var gid: UInt32 = 0
    }

    private static let soPeerGroups: Int32 = 59  // SO_PEERGROUPS, Linux 4.13+

    /// Reads the peer's credentials from a connected Unix socket; nil when the kernel will not say.
    public static func read(from fd: CInt) -> PeerCredentials? {
        var credentials = UCred()
        var length = socklen_t(MemoryLayout<UCred>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) == 0,
            length == socklen_t(MemoryLayout<UCred>.size)
        else { return nil }
        return PeerCredentials(
            pid: credentials.pid, uid: credentials.uid, gid: credentials.gid, groups: readGroups(from: fd))
    }

    private static func readGroups(from fd: CInt) -> [UInt32] {
        var groups = [UInt32](repeating: 0, count: 32)
        for _ in 0..<4 {
            var length = socklen_t(groups.count * MemoryLayout<UInt32>.size)
            if getsockopt(fd, SOL_SOCKET, soPeerGroups, &groups, &length) == 0 {
                return Array(groups.prefix(Int(length) / MemoryLayout<UInt32>.size))
            }
            guard errno == ERANGE else { return [] }
            groups = [UInt32](repeating: 0, count: Int(length) / MemoryLayout<UInt32>.size + 1)
        }
        return []
    }

    /// Reads the credentials of a NIO child channel's socket. Call on the channel's event loop.
    public static func read(from channel: any Channel) -> PeerCredentials? {
        try? channel.pipeline.syncOperations.withUnsafeTransportIfAvailable(of: NIOBSDSocket.Handle.self) { fd in
            read(from: fd)
        } ?? nil
    }
}
