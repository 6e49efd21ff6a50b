// Test tool: writes to a store in a loop and prints one line per acknowledged (committed) write,
// so that a test can kill it with SIGKILL at any moment and then check that every acknowledged
// write survived and the key ring is consistent. Not installed; used by AuthorityStoreTests.
//
// Usage: authority-store-stress rotate|revoke STATE_DIR [COUNT]
import AuthorityCore
import AuthorityStore
import Foundation
import Logging

let arguments = CommandLine.arguments
guard arguments.count >= 3, ["rotate", "revoke"].contains(arguments[1]) else {
    FileHandle.standardError.write(Data("usage: authority-store-stress rotate|revoke STATE_DIR [COUNT]\n".utf8))
    exit(2)
}
let count = arguments.count > 3 ? Int(arguments[3]) ?? Int.max : Int.max
/// Unbuffered: the line is out before the next write starts.
func acknowledge(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }

var logger = Logger(label: "authority-store-stress")
logger.logLevel = .error
do {
    let now = Int64(Date().timeIntervalSince1970)
    let store = try SQLiteStore.open(StoreConfiguration(stateDirectory: arguments[2]), now: now, logger: logger)
    for _ in 0..<count {
        if arguments[1] == "rotate" {
            let epoch = try store.rotate(now: now, caller: .daemon)
            acknowledge("rotated \(epoch)")
        } else {
            let id = LinkID.random()
            try store.revoke(.id(id), reason: "stress", now: now, caller: .daemon)
            acknowledge("revoked \(id)")
        }
    }
} catch {
    FileHandle.standardError.write(Data("authority-store-stress: \(error)\n".utf8))
    exit(1)
}
