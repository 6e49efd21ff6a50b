import AuthorityTesting
import Foundation
import Testing
@testable import AuthorityServer

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
