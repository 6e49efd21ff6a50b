import AuthorityCore
import CSodium
import Foundation
import GRDB
import Glibc

/// CPU seconds the calling thread has used.
func threadCPUSeconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}

/// The limit every figure is compared with: libsodium signing and verifying in a plain loop, on
/// one thread, with a message the size of a real link's signed message.
struct RawSodium {
    /// CPU seconds per `crypto_sign_detached`.
    var sign: Double
    /// CPU seconds per `crypto_sign_verify_detached`.
    var verify: Double

    static func measure(seconds: Double) -> RawSodium {
        _ = sodium_init()
        var publicKey = [UInt8](repeating: 0, count: Int(crypto_sign_PUBLICKEYBYTES))
        var secretKey = [UInt8](repeating: 0, count: Int(crypto_sign_SECRETKEYBYTES))
        crypto_sign_keypair(&publicKey, &secretKey)
        // A signed message of a link is ~200–300 bytes (docs/link-format.md §5).
        var message = [UInt8](repeating: 0, count: 256)
        randombytes_buf(&message, message.count)
        var signature = [UInt8](repeating: 0, count: Int(crypto_sign_BYTES))

        let sign = perOperation(seconds: seconds) {
            crypto_sign_detached(&signature, nil, message, UInt64(message.count), secretKey)
        }
        var failures = 0
        let verify = perOperation(seconds: seconds) {
            if crypto_sign_verify_detached(signature, message, UInt64(message.count), publicKey) != 0 { failures += 1 }
        }
        precondition(failures == 0, "libsodium refused its own signature")
        return RawSodium(sign: sign, verify: verify)
    }

    /// CPU seconds per call of `body`, run in batches of 100 until `seconds` of CPU have passed.
    private static func perOperation(seconds: Double, _ body: () -> Void) -> Double {
        for _ in 0..<100 { body() }  // warm up
        let start = threadCPUSeconds()
        var calls = 0
        while threadCPUSeconds() - start < seconds {
            for _ in 0..<100 { body() }
            calls += 100
        }
        return (threadCPUSeconds() - start) / Double(calls)
    }
}

/// One-row durable commits per second on the filesystem of the state directory: one thread,
/// SQLite in WAL with `synchronous=FULL` (as the daemon), one INSERT per transaction.
func oneRowCommitsPerSecond(directory: String, seconds: Double) throws -> Double {
    let path = directory + "/commit-probe.sqlite"
    var configuration = Configuration()
    configuration.prepareDatabase { db in
        try db.execute(sql: "PRAGMA journal_mode = WAL")
    }
    let queue = try DatabaseQueue(path: path, configuration: configuration)
    try queue.writeWithoutTransaction { db in
        try db.execute(sql: "PRAGMA synchronous = FULL")
        try db.execute(sql: "CREATE TABLE IF NOT EXISTS probe (id INTEGER PRIMARY KEY, value BLOB NOT NULL) STRICT")
        guard try String.fetchOne(db, sql: "PRAGMA synchronous") == "2" else {
            throw BenchError.scenario("the probe database is not synchronous=FULL")
        }
    }
    let started = now()
    var commits = 0
    while Double(now() - started) / 1e9 < seconds {
        try queue.writeWithoutTransaction { db in
            try db.inTransaction(.immediate) {
                try db.execute(sql: "INSERT INTO probe (value) VALUES (?)", arguments: [Data(LinkID.random().bytes)])
                return .commit
            }
        }
        commits += 1
    }
    let rate = Double(commits) / (Double(now() - started) / 1e9)
    try? queue.close()
    for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    return rate
}

/// The machine, for the report.
func machineDescription() -> String {
    let cpuInfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
    let model = cpuInfo.split(separator: "\n").first { $0.hasPrefix("model name") }
        .map { $0.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) } ?? "" } ?? "unknown CPU"
    let cores = sysconf(Int32(_SC_NPROCESSORS_ONLN))
    let memory = Double(sysconf(Int32(_SC_PHYS_PAGES)) * sysconf(Int32(_SC_PAGESIZE))) / 1_073_741_824
    var name = utsname()
    uname(&name)
    let kernel = withUnsafeBytes(of: &name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    return "\(cores) cores, \(model), \(String(format: "%.0f", memory)) GiB, Linux \(kernel)"
}
