import AuthorityTesting
import Foundation
import Testing

@testable import AuthorityServer

/// Policy files at the limits (issue #12): deep prefixes, numbers past 32 bits, lookalike prefixes.
@Suite struct PolicyBoundaryTests {
    static func load(_ text: String) throws -> Policy {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path + "/policy.json"
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        return try Policy.load(path: path)
    }

    @Test func deepPrefixesAndOutOfRangeNumbersAreRefused() throws {
        let deep = "/" + Array(repeating: "p", count: 129).joined(separator: "/")
        let long = "/" + String(repeating: "q", count: 4_097)
        for bad in [
            #"{"rules": [{"uid": 7, "rights": ["issue"], "issue_prefixes": ["\#(deep)"]}]}"#,
            #"{"rules": [{"uid": 7, "rights": ["issue"], "issue_prefixes": ["\#(long)"]}]}"#,
            #"{"rules": [{"uid": 4294967296, "rights": ["check"]}]}"#,
            #"{"rules": [{"uid": -1, "rights": ["check"]}]}"#,
            #"{"rules": [{"gid": 9223372036854775808, "rights": ["check"]}]}"#,
        ] {
            #expect(throws: ConfigurationError.self, "\(bad.prefix(80))") { try Self.load(bad) }
        }
    }

    @Test func issuePrefixesCompareAsBytes() throws {
        let policy = try Self.load(#"{"rules": [{"uid": 7, "rights": ["issue"], "issue_prefixes": ["/caf%C3%A9/"]}]}"#)
        let grant = policy.rights(for: PeerCredentials(pid: 1, uid: 7, gid: 7))
        #expect(grant.mayIssue(path: "/caf%C3%A9/menu.txt"))
        #expect(!grant.mayIssue(path: "/caf%C3%A9x/menu.txt"))
        #expect(!grant.mayIssue(path: "/CAF%C3%A9/menu.txt"))
    }
}
