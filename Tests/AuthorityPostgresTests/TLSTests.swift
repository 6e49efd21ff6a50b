import AuthorityCore
import AuthorityStore
import AuthorityTesting
import Foundation
import Logging
import Testing

@testable import AuthorityPostgres

/// `sslmode=verify-full` against a real PostgreSQL serving TLS on localhost with a certificate
/// from a CA of the test's own (openssl): the chain and the host name are checked, and a
/// connection that cannot be verified is refused, never used unverified.
@Suite(.serialized) struct TLSTests {
    /// A CA, and a server certificate it signed for DNS:localhost only.
    static func makeCertificates(in directory: String) throws -> (ca: String, certificate: String, key: String) {
        let ca = directory + "/ca.pem", caKey = directory + "/ca.key"
        let certificate = directory + "/server.crt", key = directory + "/server.key", request = directory + "/server.csr"
        let extensions = directory + "/san.ext"
        try "subjectAltName = DNS:localhost\nbasicConstraints = CA:FALSE\n".write(toFile: extensions, atomically: true, encoding: .utf8)
        for command in [
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", caKey, "-out", ca,
             "-days", "2", "-subj", "/CN=authority test CA"],
            ["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", request,
             "-subj", "/CN=localhost"],
            ["openssl", "x509", "-req", "-in", request, "-CA", ca, "-CAkey", caKey, "-CAcreateserial", "-out", certificate, "-days", "2",
             "-extfile", extensions],
        ] {
            let result = try ChildProcess.run(["/usr/bin/env"] + command, timeout: 60)
            guard result.status == 0 else { throw ClusterError("\(command.joined(separator: " ")): \(result)") }
        }
        return (ca, certificate, key)
    }

    static func open(_ url: String, state: String, keyFile: String) async throws -> PostgresStore {
        var logger = Logger(label: "tls-test")
        logger.logLevel = .critical
        return try await PostgresStore.open(
            StoreConfiguration(stateDirectory: state, masterKeyFile: keyFile), location: try PostgresLocation(parsing: url),
            now: Int64(Date().timeIntervalSince1970), logger: logger)
    }

    /// A cluster serving TLS on a free loopback port. Another process can take the port between
    /// the choice and the listen (CI saw "could not start server"): a lost race picks another port.
    static func clusterServingTLS(_ files: (ca: String, certificate: String, key: String)) throws -> PostgresCluster {
        var lost: any Error = ClusterError("no attempt")
        for _ in 1...3 {
            let cluster = try PostgresCluster(port: try freePort())
            do {
                try cluster.enableTLS(certificate: files.certificate, key: files.key)
                return cluster
            } catch {
                cluster.remove()
                lost = error
            }
        }
        throw lost
    }

    @Test func verifyFullChecksTheChainAndTheHostNameAndRefusesWhatItCannotVerify() async throws {
        let directory = try TemporaryDirectory("au-tls")
        defer { directory.remove() }
        let files = try Self.makeCertificates(in: directory.path)
        let cluster = try Self.clusterServingTLS(files)
        defer { cluster.remove() }
        let port = cluster.port
        let keyFile = directory.path + "/master.key"
        try Fixtures.writeMasterKey(to: keyFile)

        // Verified: the CA of the file, the name in the certificate.
        let good = "postgresql://authority@localhost:\(port)/authority?sslmode=verify-full&sslrootcert=\(files.ca)"
        let store = try await Self.open(good, state: directory.path + "/a", keyFile: keyFile)
        let revoked = try await withCheckedThrowingContinuation { continuation in
            store.revoke(.prefix("/tls/"), reason: nil, now: Int64(Date().timeIntervalSince1970), caller: .daemon) { continuation.resume(with: $0) }
        }
        #expect(revoked.id >= 1)
        #expect(try cluster.psql("SELECT count(*) FROM pg_stat_ssl WHERE ssl") != "0", "the session is not encrypted")
        store.close()

        // Not verifiable: another name than the certificate's, the system's trust store (which
        // does not hold the test CA), no TLS at all (the server refuses), a CA file that is not there.
        let refused = [
            ("postgresql://authority@127.0.0.1:\(port)/authority?sslmode=verify-full&sslrootcert=\(files.ca)", "failedToValidateHostname"),
            ("postgresql://authority@localhost:\(port)/authority?sslmode=verify-full", "CERTIFICATE_VERIFY_FAILED"),
            ("postgresql://authority@localhost:\(port)/authority?sslmode=disable", "no encryption"),
            ("postgresql://authority@localhost:\(port)/authority?sslmode=verify-full&sslrootcert=\(directory.path)/none.pem", "cannot be read"),
        ]
        for (index, (url, why)) in refused.enumerated() {
            do {
                let opened = try await Self.open(url, state: directory.path + "/r\(index)", keyFile: keyFile)
                opened.close()
                Issue.record("\(url) was used")
            } catch {
                #expect("\(error)".contains(why) && "\(error)".contains("unavailable"), "\(url): \(error)")
            }
        }
        #expect(throws: PostgresStoreError.self) { try PostgresLocation(parsing: "postgresql://u@h/d?sslrootcert=/ca.pem") }
        #expect(throws: PostgresStoreError.self) { try PostgresLocation(parsing: "postgresql://u@h/d?sslmode=verify-full&sslrootcert=ca.pem") }
        // An empty sslrootcert would quietly mean the system's trust store: refused instead.
        #expect(throws: PostgresStoreError.self) { try PostgresLocation(parsing: "postgresql://u@h/d?sslmode=verify-full&sslrootcert=") }
        #expect(throws: PostgresStoreError.self) { try PostgresLocation(parsing: "postgresql://u@h/d?sslmode=verify-full&sslrootcert") }
    }
}
