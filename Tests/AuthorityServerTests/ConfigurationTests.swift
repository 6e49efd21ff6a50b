import AuthorityTesting
import Foundation
import Testing

@testable import AuthorityServer

@Suite struct ConfigurationTests {
    func write(_ text: String, in directory: TemporaryDirectory, name: String = "file.json") -> String {
        let path = directory.path + "/" + name
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        return path
    }

    @Test func fileMembersMirrorTheFlags() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var configuration = ServerConfiguration()
        try configuration.apply(file: write(#"""
            {"socket": "/run/x.sock", "socket_mode": "0600", "state_dir": "/s", "max_ttl": 60, "revocations": false,
             "log_level": "debug", "body_limit": 2048}
            """#, in: directory))
        #expect(configuration.socketPath == "/run/x.sock" && configuration.socketMode == 0o600)
        #expect(configuration.stateDirectory == "/s" && configuration.maxTTL == 60 && !configuration.revocationsEnabled)
        #expect(configuration.logLevel == "debug" && configuration.bodyLimit == 2048)
        try configuration.validate()
    }

    @Test(arguments: [#"{"sockett": "/x"}"#, #"{"max_ttl": "60"}"#, #"{"revocations": 1}"#, "[1]", "nope",
                      #"{"socket_mode": "999"}"#])
    func badFilesAreRefused(text: String) throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var configuration = ServerConfiguration()
        #expect(throws: ConfigurationError.self) { try configuration.apply(file: write(text, in: directory)) }
    }

    @Test func forwardAuthDialectFromTheFileAndTheRemovedMembers() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var configuration = ServerConfiguration()
        #expect(configuration.forwardAuthDialect == nil, "no dialect unless the operator names one")
        try configuration.apply(file: write(#"{"forward_auth_dialect": "caddy"}"#, in: directory))
        #expect(configuration.forwardAuthDialect == .caddy)
        for text in [#"{"forward_auth_dialect": "auto"}"#, #"{"forward_auth_dialect": "Nginx"}"#] {
            #expect(throws: ConfigurationError.self) { try configuration.apply(file: write(text, in: directory)) }
        }
        for member in ["forward_auth_headers", "forward_auth_client_ip"] {
            let error = #expect(throws: ConfigurationError.self) {
                try configuration.apply(file: write(#"{"\#(member)": "auto"}"#, in: directory))
            }
            #expect(error?.description.contains("unknown member \"\(member)\" (removed)") == true, "\(String(describing: error))")
            #expect(error?.description.contains("\"forward_auth_dialect\"") == true)
        }
    }

    @Test func verifyCacheEntriesFromTheFileAndItsRange() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var configuration = ServerConfiguration()
        #expect(configuration.verifyCacheEntries == 65_536)
        try configuration.apply(file: write(#"{"verify_cache_entries": 0}"#, in: directory))
        #expect(configuration.verifyCacheEntries == 0)
        try configuration.validate()
        for good in [1, 16_777_216] {
            configuration.verifyCacheEntries = good
            try configuration.validate()
        }
        for bad in [-1, 16_777_217] {
            configuration.verifyCacheEntries = bad
            let error = #expect(throws: ConfigurationError.self) { try configuration.validate() }
            #expect(error?.description == "configuration: verify-cache-entries must be 0 (off) to 16777216")
        }
        let path = write(#"{"verify_cache_entries": "many"}"#, in: directory)
        let error = #expect(throws: ConfigurationError.self) { try configuration.apply(file: path) }
        #expect(error == .invalid(path, "\"verify_cache_entries\" must be an integer"))
    }

    @Test func connectionLimitsFromTheFileAndTheirRanges() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var configuration = ServerConfiguration()
        #expect(configuration.requestTimeout == 10 && configuration.idleTimeout == 75)
        #expect(configuration.maxConnections == 8_192 && configuration.maxConnectionsPerUID == 2_048)
        #expect(configuration.writeBufferLimit == 65_536 && configuration.writeBufferHardLimit == 4_194_304)
        try configuration.apply(file: write(#"""
            {"request_timeout": 5, "idle_timeout": 30, "max_connections": 100, "max_connections_per_uid": 10,
             "write_buffer_limit": 8192, "write_buffer_hard_limit": 65536}
            """#, in: directory))
        #expect(configuration.requestTimeout == 5 && configuration.idleTimeout == 30)
        #expect(configuration.maxConnections == 100 && configuration.maxConnectionsPerUID == 10)
        #expect(configuration.writeBufferLimit == 8_192 && configuration.writeBufferHardLimit == 65_536)
        try configuration.validate()
        let bad: [(WritableKeyPath<ServerConfiguration, Int>, Int, String)] = [
            (\.maxConnections, 0, "max-connections must be 1 to 1048576"),
            (\.maxConnectionsPerUID, 101, "max-connections-per-uid must be 1 to max-connections"),
            (\.maxConnectionsPerUID, 0, "max-connections-per-uid must be 1 to max-connections"),
            (\.writeBufferLimit, 1_024, "write-buffer-limit must be 4096 to 16777216 bytes"),
            (\.writeBufferHardLimit, 4_096, "write-buffer-hard-limit must be write-buffer-limit to 1073741824 bytes"),
        ]
        for (member, value, message) in bad {
            var wrong = configuration
            wrong[keyPath: member] = value
            let error = #expect(throws: ConfigurationError.self) { try wrong.validate() }
            #expect(error?.description == "configuration: \(message)")
        }
        for (member, value) in [(\ServerConfiguration.requestTimeout, 0), (\.requestTimeout, 3_601), (\.idleTimeout, 0)] {
            var wrong = configuration
            wrong[keyPath: member] = Int64(value)
            #expect(throws: ConfigurationError.self) { try wrong.validate() }
        }
    }

    @Test func validationRefusesNonsense() throws {
        var configuration = ServerConfiguration()
        configuration.maxTTL = 0
        #expect(throws: ConfigurationError.self) { try configuration.validate() }
        configuration = ServerConfiguration()
        configuration.socketPath = "/" + String(repeating: "s", count: 120)
        #expect(throws: ConfigurationError.self) { try configuration.validate() }
        configuration = ServerConfiguration()
        configuration.logLevel = "loud"
        #expect(throws: ConfigurationError.self) { try configuration.validate() }
        #expect(throws: ConfigurationError.self) { try ServerConfiguration.parseMode("rw-") }
        #expect(try ServerConfiguration.parseMode("660") == 0o660)
    }
}

@Suite struct PolicyTests {
    let policy = Policy(
        rules: [
            .init(subject: .uid(1000), rights: [.check, .issue], issuePrefixes: ["/uploads/"]),
            .init(subject: .gid(50), rights: [.revoke], issuePrefixes: nil),
            .init(subject: .uid(2000), rights: [.issue], issuePrefixes: nil),
            .init(subject: .uid(2000), rights: [.issue], issuePrefixes: ["/x/"]),
        ],
        defaultRights: [.check], daemonUID: 999)

    @Test func rootAndTheDaemonAreAdmin() {
        #expect(policy.rights(for: PeerCredentials(pid: 1, uid: 0, gid: 0)).allows(.admin))
        #expect(policy.rights(for: PeerCredentials(pid: 1, uid: 999, gid: 999)).allows(.revoke))
    }

    @Test func rulesUnionAndPrefixes() {
        let uploader = policy.rights(for: PeerCredentials(pid: 1, uid: 1000, gid: 1000, groups: [50]))
        #expect(uploader.rights == [.check, .issue, .revoke])
        #expect(uploader.mayIssue(path: "/uploads/a"))
        #expect(!uploader.mayIssue(path: "/private/a"))
        let unrestricted = policy.rights(for: PeerCredentials(pid: 1, uid: 2000, gid: 2000))
        #expect(unrestricted.mayIssue(path: "/anything"))
        let stranger = policy.rights(for: PeerCredentials(pid: 1, uid: 3000, gid: 3000))
        #expect(stranger.rights == [.check] && !stranger.mayIssue(path: "/a"))
        let byPrimaryGroup = policy.rights(for: PeerCredentials(pid: 1, uid: 3001, gid: 50))
        #expect(byPrimaryGroup.rights == [.revoke])
    }

    @Test func loadsFilesAndRefusesBadOnes() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        func write(_ text: String) -> String {
            let path = directory.path + "/p\(UUID().uuidString.prefix(6)).json"
            _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
            return path
        }
        let loaded = try Policy.load(path: write(#"""
            {"default_rights": [], "rules": [{"user": "root", "rights": ["check"]},
             {"group": "root", "rights": ["issue"], "issue_prefixes": ["/a b/"]}]}
            """#))
        #expect(loaded.defaultRights.isEmpty)
        #expect(loaded.rules.count == 2)
        #expect(loaded.rules[1].issuePrefixes == ["/a%20b/"] || loaded.rules[1].issuePrefixes == nil)
        for bad in [#"{"rules": [{"uid": 1, "gid": 2, "rights": ["check"]}]}"#,
                    #"{"rules": [{"rights": ["check"]}]}"#,
                    #"{"rules": [{"uid": 1, "rights": ["root"]}]}"#,
                    #"{"rules": [{"uid": 1, "rights": ["check"], "prefixes": []}]}"#,
                    #"{"rules": [{"user": "no-such-user-here", "rights": ["check"]}]}"#,
                    #"{"rulez": []}"#, "nope"] {
            #expect(throws: ConfigurationError.self, "\(bad)") { try Policy.load(path: write(bad)) }
        }
    }
}
