import Logging

#if canImport(Glibc)
import Glibc
#endif

/// Process-wide settings made once at start, before any secret is read.
enum ProcessLimits {
    /// Descriptors the daemon needs besides its connections: the listening socket, the event
    /// loops' epoll and eventfds, SQLite's database, WAL and shared-memory files, the log.
    static let reservedDescriptors = 256
    /// From `<linux/prctl.h>` (not in Glibc's Swift module).
    private static let prGetDumpable: Int32 = 3
    private static let prSetDumpable: Int32 = 4

    /// `prctl(PR_SET_DUMPABLE, 0)`: no core dump of a process that holds the master key, the
    /// signing keys and passwords in flight, and no ptrace or `/proc/PID/mem` by its own uid
    /// (the unit's `LimitCORE=0` covers only what systemd starts).
    static func forbidCoreDumps() throws(ConfigurationError) {
        guard prctl(option: prSetDumpable, 0) == 0 else {
            throw .invalid("process", "prctl(PR_SET_DUMPABLE, 0) failed (errno \(errno))")
        }
    }

    /// Whether the process may be dumped (`PR_GET_DUMPABLE`).
    static var isDumpable: Bool { prctl(option: prGetDumpable, 0) == 1 }

    /// Raises the soft descriptor limit towards what `maxConnections` needs (never past the hard
    /// limit) and warns when it still falls short: connections beyond it would wait in the
    /// backlog while accepts back off.
    static func raiseDescriptorLimit(for maxConnections: Int, logger: Logger) {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return }
        let wanted = rlim_t(maxConnections + reservedDescriptors)
        if limit.rlim_cur < wanted {
            var raised = limit
            raised.rlim_cur = min(wanted, limit.rlim_max)
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        if limit.rlim_cur < wanted {
            logger.warning(
                "the descriptor limit is below max-connections plus \(reservedDescriptors)",
                metadata: [
                    "limit.nofile": "\(limit.rlim_cur)", "max_connections": "\(maxConnections)",
                    "hint": "raise LimitNOFILE= in the unit or lower max-connections",
                ])
        }
    }

    /// `prctl(2)` is variadic, which Swift does not import; glibc's symbol is called through a
    /// fixed five-argument signature, as the C ABIs of Linux on x86-64 and AArch64 pass these
    /// integer arguments the same way either way.
    private static func prctl(option: Int32, _ argument: UInt) -> Int32 {
        typealias Prctl = @convention(c) (Int32, UInt, UInt, UInt, UInt) -> Int32
        guard let symbol = dlsym(nil, "prctl") else {
            errno = ENOSYS
            return -1
        }
        return unsafeBitCast(symbol, to: Prctl.self)(option, argument, 0, 0, 0)
    }
}
