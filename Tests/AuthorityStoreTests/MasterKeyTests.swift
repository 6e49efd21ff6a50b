import AuthorityCore
import AuthorityTesting
import Foundation
import GRDB
import Testing

@testable import AuthorityStore

@Suite struct MasterKeyTests {
    func write(_ text: String, to path: String, mode: Int = 0o600) throws {
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: mode])
    }

    @Test func refusesAKeyFileOthersCanRead() async throws {
        try await TemporaryDirectory.with { dir in
            try write(String(repeating: "ab", count: 32), to: dir + "/mk", mode: 0o640)
            #expect(throws: StoreError.insecureMasterKeyFile(path: dir + "/mk", mode: 0o640)) {
                try open(dir + "/state", masterKeyFile: dir + "/mk")
            }
            #expect(!FileManager.default.fileExists(atPath: dir + "/state/authority.sqlite"))
        }
    }

    @Test(arguments: ["", "abc", String(repeating: "zz", count: 32), String(repeating: "ab", count: 33)])
    func refusesMalformedKeyFiles(content: String) async throws {
        try await TemporaryDirectory.with { dir in
            try write(content, to: dir + "/mk")
            #expect(throws: StoreError.invalidMasterKey(path: dir + "/mk")) {
                try open(dir + "/state", masterKeyFile: dir + "/mk")
            }
        }
    }

    @Test func missingConfiguredKeyFileIsAnError() async throws {
        try await TemporaryDirectory.with { dir in
            #expect(throws: StoreError.self) { try open(dir, masterKeyFile: dir + "/nope") }
            #expect(!FileManager.default.fileExists(atPath: dir + "/master.key"))
        }
    }

    @Test func acceptsRawBytesAndHexWithNewline() async throws {
        try await TemporaryDirectory.with { dir in
            _ = FileManager.default.createFile(
                atPath: dir + "/raw", contents: Data(repeating: 7, count: 32), attributes: [.posixPermissions: 0o400])
            _ = try open(dir + "/a", masterKeyFile: dir + "/raw")
            try write(String(repeating: "0A", count: 32) + "\n", to: dir + "/hex")
            _ = try open(dir + "/b", masterKeyFile: dir + "/hex")
            #expect(!FileManager.default.fileExists(atPath: dir + "/a/master.key"))
        }
    }

    @Test func aMissingCredentialFailsClosed() async throws {
        try await TemporaryDirectory.with { dir in
            try FileManager.default.createDirectory(atPath: dir + "/creds", withIntermediateDirectories: true)
            #expect(throws: StoreError.cannotReadMasterKey(path: dir + "/creds/master.key", errno: ENOENT)) {
                try open(dir + "/state", credentials: dir + "/creds")
            }
            #expect(!FileManager.default.fileExists(atPath: dir + "/state/master.key"))
        }
    }

    @Test func credentialWinsOverConfiguredFileAndStateDirectory() async throws {
        try await TemporaryDirectory.with { dir in
            try FileManager.default.createDirectory(atPath: dir + "/creds", withIntermediateDirectories: true)
            try write(String(repeating: "11", count: 32), to: dir + "/creds/master.key", mode: 0o400)
            try write(String(repeating: "22", count: 32), to: dir + "/configured")
            _ = try open(dir + "/state", masterKeyFile: dir + "/configured", credentials: dir + "/creds")
            // Reopening with the configured key alone must fail: the keys were sealed under the credential.
            #expect(throws: StoreError.sealedKeyDoesNotOpen(epoch: 1)) {
                try open(dir + "/state", masterKeyFile: dir + "/configured")
            }
            _ = try open(dir + "/state", credentials: dir + "/creds")
        }
    }

    @Test func wrongMasterKeyOrSwappedRowsAreDetected() async throws {
        try await TemporaryDirectory.with { dir in
            let store = try open(dir)
            try store.rotate(now: t0, caller: .daemon)
            // Give the active epoch another epoch's sealed seed: it opens, but is not its key.
            try store.database.write { db in
                try db.execute(sql: """
                    UPDATE signing_key SET (nonce, sealed_seed) = (SELECT nonce, sealed_seed FROM signing_key WHERE epoch = 1)
                    WHERE epoch = 2
                    """)
            }
            #expect(throws: StoreError.keyMismatch(epoch: 2)) { try open(dir) }
            try write(String(repeating: "33", count: 32), to: dir + "/master.key")
            #expect(throws: StoreError.sealedKeyDoesNotOpen(epoch: 2)) { try open(dir) }
        }
    }
}

/// Kills a real process with SIGKILL while it commits, then checks that every write it
/// acknowledged survived and that the key ring still has exactly one active epoch.
@Suite(.serialized) struct CrashTests {
    func run(_ mode: String, state: String, acknowledgements: Int) throws -> [String] {
        let output = try TemporaryDirectory("au-stress")
        defer { output.remove() }
        let child = try ChildProcess(
            [Fixtures.executable(named: "authority-store-stress"), mode, state],
            environment: ProcessInfo.processInfo.environment, stdout: output.path + "/out", stderr: output.path + "/err")
        // Complete lines only: the last one may be half written.
        func lines() -> [String] {
            let text = String(decoding: (try? Data(contentsOf: URL(fileURLWithPath: output.path + "/out"))) ?? Data(), as: UTF8.self)
            return text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
        }
        while lines().count < acknowledgements, child.exitStatus == nil { usleep(1_000) }
        child.signal(SIGKILL)
        #expect(child.wait(timeout: 10) == .signalled(SIGKILL))
        return lines()  // every line printed before the kill was acknowledged
    }

    @Test func killDuringRotationsLeavesExactlyOneActiveEpoch() async throws {
        try await TemporaryDirectory.with { dir in
            var acknowledged: UInt64 = 0
            for round in 0..<8 {
                let lines = try run("rotate", state: dir, acknowledgements: 5 + round * 3)
                #expect(lines.count >= 5)
                acknowledged = lines.compactMap { UInt64($0.dropFirst("rotated ".count)) }.max() ?? acknowledged
                let store = try open(dir)
                let ring = store.keyRing
                #expect(ring.records.values.filter { $0.status == .active }.count == 1)
                #expect(ring.activeEpoch == ring.newestEpoch)
                #expect(ring.newestEpoch >= acknowledged, "round \(round): acknowledged epoch \(acknowledged) lost")
                #expect(Set(ring.records.keys) == Set(1...ring.newestEpoch))
            }
        }
    }

    @Test func killDuringRevocationsLosesNoAcknowledgedRevocation() async throws {
        try await TemporaryDirectory.with { dir in
            var acknowledged: [LinkID] = []
            for round in 0..<8 {
                let lines = try run("revoke", state: dir, acknowledgements: 10 + round * 5)
                acknowledged += lines.compactMap { LinkID(String($0.dropFirst("revoked ".count))) }
                let index = try #require(try open(dir).revocations)
                let lost = acknowledged.filter { !index.isRevoked(id: $0, path: "/", issuedAt: 0) }
                #expect(lost.isEmpty, "round \(round): \(lost.count) acknowledged revocations lost")
                #expect(index.idCount >= acknowledged.count)
            }
        }
    }
}
