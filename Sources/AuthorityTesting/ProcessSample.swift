import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// CPU time and memory of a process (all its threads), from `/proc/PID/stat` and `/proc/PID/status`.
public struct ProcessSample: Sendable {
    /// utime + stime, seconds.
    public var cpuSeconds: Double
    /// Resident set size now, MiB.
    public var rssMiB: Double

    public static let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))

    /// The fields of `/proc/PID/stat` after the command name: index 0 is field 3 (state), 1 the
    /// parent pid, 11 and 12 utime and stime. Nil when the process is gone.
    public static func statFields(_ pid: pid_t) -> [Substring]? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            // The command name (field 2) may hold spaces; the fields after its closing parenthesis are fixed.
            let close = stat.lastIndex(of: ")")
        else { return nil }
        return stat[stat.index(after: close)...].split(separator: " ")
    }

    public static func of(_ pid: pid_t) throws -> ProcessSample {
        guard let fields = statFields(pid), fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12])
        else {
            throw ProcessSampleError(pid: pid)
        }
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else {
            throw ProcessSampleError(pid: pid)
        }
        let rssKiB = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }
            .flatMap { Double($0.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") } ?? 0
        return ProcessSample(cpuSeconds: (user + system) / ticksPerSecond, rssMiB: rssKiB / 1024)
    }

    /// The sum over `pids` (nginx: master and workers).
    public static func of(_ pids: [pid_t]) throws -> ProcessSample {
        try pids.map(of).reduce(ProcessSample(cpuSeconds: 0, rssMiB: 0)) {
            ProcessSample(cpuSeconds: $0.cpuSeconds + $1.cpuSeconds, rssMiB: $0.rssMiB + $1.rssMiB)
        }
    }

    public init(cpuSeconds: Double, rssMiB: Double) {
        self.cpuSeconds = cpuSeconds
        self.rssMiB = rssMiB
    }
}

/// `/proc/PID/stat` or `/proc/PID/status` could not be read (the process is gone).
public struct ProcessSampleError: Error, CustomStringConvertible {
    public var pid: pid_t
    public var description: String { "unreadable /proc/\(pid)/stat or status" }
}
