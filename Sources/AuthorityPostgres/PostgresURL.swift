import Foundation
import NIOSSL
import PostgresNIO

/// Where the fleet's PostgreSQL is: a libpq-style URL, `postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE`
/// with the query parameters `host` (a Unix socket directory, as libpq's; wins over HOST),
/// `sslmode` (`disable`, the default; `verify-full`: TLS, with the server's certificate checked
/// against the system's trust store, or the PEM file `sslrootcert` names, and against HOST), and
/// `application_name`.
/// The password is better given in a file (`--database-password-file`) than on a command line.
public struct PostgresLocation: Sendable, Equatable, CustomStringConvertible {
    public enum Endpoint: Sendable, Equatable {
        case tcp(host: String, port: Int)
        /// The socket file itself: `DIRECTORY/.s.PGSQL.PORT`.
        case unixSocket(path: String)
    }

    public var endpoint: Endpoint
    public var username: String
    public var password: String?
    public var database: String
    public var requireTLS: Bool
    /// `sslrootcert`: the CA certificates (PEM) that verify the server, instead of the system's.
    public var rootCertificates: String?
    public var applicationName: String

    /// Parses `text`; every refusal names what is wrong (never the password).
    public init(parsing text: String) throws(PostgresStoreError) {
        guard text.hasPrefix("postgresql://") || text.hasPrefix("postgres://"),
            let components = URLComponents(string: text)
        else {
            throw .invalidLocation("expected postgresql://USER@HOST[:PORT]/DATABASE (or ?host=/socket/directory)")
        }
        guard let user = components.percentEncodedUser.flatMap({ $0.removingPercentEncoding }), !user.isEmpty else {
            throw .invalidLocation("the URL names no user (postgresql://USER@...)")
        }
        username = user
        password = components.percentEncodedPassword.flatMap { $0.removingPercentEncoding }
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        guard !path.isEmpty, !path.contains("/") else { throw .invalidLocation("the URL names no database (.../DATABASE)") }
        database = path
        let items = components.queryItems ?? []
        var socketDirectory: String?
        var sslmode: String?
        var rootCertificates: String?
        applicationName = "authorityd"
        for item in items {
            switch item.name {
            case "host": socketDirectory = item.value
            case "sslmode": sslmode = item.value
            case "sslrootcert": rootCertificates = item.value
            case "application_name": applicationName = item.value ?? applicationName
            default: throw .invalidLocation("unknown URL parameter \(item.name) (known: host, sslmode, sslrootcert, application_name)")
            }
        }
        guard let port = components.port ?? 5432 as Int?, (1...65_535).contains(port) else {
            throw .invalidLocation("the port must be 1...65535")
        }
        if let directory = socketDirectory ?? components.host.flatMap({ $0.hasPrefix("/") ? $0 : nil }) {
            guard directory.hasPrefix("/") else { throw .invalidLocation("host= must be an absolute socket directory") }
            endpoint = .unixSocket(path: directory + "/.s.PGSQL.\(port)")
        } else if let host = components.host, !host.isEmpty {
            endpoint = .tcp(host: host, port: port)
        } else {
            throw .invalidLocation("the URL names no host (postgresql://USER@HOST/... or ?host=/socket/directory)")
        }
        switch sslmode {
        case nil, "disable": requireTLS = false
        case "verify-full": requireTLS = true
        case let other?: throw .invalidLocation("sslmode \(other) is not supported (disable or verify-full)")
        }
        if case .unixSocket = endpoint, requireTLS { throw .invalidLocation("sslmode=verify-full needs a TCP host, not a socket") }
        if let rootCertificates {
            guard requireTLS else { throw .invalidLocation("sslrootcert needs sslmode=verify-full") }
            guard rootCertificates.hasPrefix("/") else { throw .invalidLocation("sslrootcert must be an absolute path") }
        } else if items.contains(where: { $0.name == "sslrootcert" }) {
            throw .invalidLocation("sslrootcert must be an absolute path")
        }
        self.rootCertificates = rootCertificates
    }

    /// The URL without its password, for logs and messages.
    public var description: String {
        switch endpoint {
        case .tcp(let host, let port): "postgresql://\(username)@\(host):\(port)/\(database)"
        case .unixSocket(let path): "postgresql://\(username)@/\(database) (socket \(path))"
        }
    }

    func configuration() throws -> PostgresConnection.Configuration {
        var configuration: PostgresConnection.Configuration
        switch endpoint {
        case .tcp(let host, let port):
            var client = TLSConfiguration.makeClientConfiguration()  // full verification: chain and host name
            if let rootCertificates {
                guard FileManager.default.isReadableFile(atPath: rootCertificates) else {
                    throw PostgresStoreError.invalidLocation("sslrootcert \(rootCertificates) cannot be read")
                }
                client.trustRoots = .file(rootCertificates)
            }
            let tls: PostgresConnection.Configuration.TLS = requireTLS ? .require(try NIOSSLContext(configuration: client)) : .disable
            configuration = .init(host: host, port: port, username: username, password: password, database: database, tls: tls)
        case .unixSocket(let path):
            configuration = .init(unixSocketPath: path, username: username, password: password, database: database)
        }
        configuration.options.connectTimeout = .seconds(3)
        configuration.options.additionalStartupParameters = [("application_name", applicationName)]
        return configuration
    }
}
