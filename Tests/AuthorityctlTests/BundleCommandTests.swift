import AuthorityCore
import Foundation
import Testing

@testable import authorityctl

#if canImport(Glibc)
    import Glibc
#endif

/// `bundle fetch` and `bundle verify` without a daemon: what fetch asks for, and verify run on the
/// published vectors (Tests/Vectors/bundle-v1.json) written to files, as an operator has them.
@Suite struct BundleCommandTests {
    @Test(arguments: [
        (["-o", "b"], "/v1/revocations/bundle"),
        (["-o", "b", "--since", "12"], "/v1/revocations/bundle?since=12"),
        (["--json", "--output", "b", "--since", "0"], "/v1/revocations/bundle?since=0&format=json"),
        (["-o", "-", "--freshness"], "/v1/revocations/bundle/freshness"),
        (["-o", "b", "--freshness", "--json"], "/v1/revocations/bundle/freshness?format=json"),
    ] as [([String], String)])
    func fetchAsksForTheDocumentedRoute(_ arguments: [String], _ target: String) throws {
        let fetch = try #require(try Authorityctl.parseAsRoot(["bundle", "fetch"] + arguments) as? BundleCommand.Fetch)
        #expect(fetch.target == target)
    }

    @Test func fetchTakesTheKeysFile() throws {
        let fetch = try #require(
            try Authorityctl.parseAsRoot(["--socket", "/s", "bundle", "fetch", "-o", "b.bin", "--keys", "k.json"]) as? BundleCommand.Fetch)
        #expect(fetch.output == "b.bin" && fetch.keys == "k.json" && fetch.global.socketPath == "/s")
    }

    @Test func summariesNameKindSerialTimesAndCounts() throws {
        let files = try VectorFiles()
        defer { files.remove() }
        #expect(BundleCommand.summary(try files.object("full-10")) == Self.full10)
        #expect(
            BundleCommand.summary(try files.object("delta-10-12"))
                == "delta from serial 10 to 12, issued 2026-09-21 14:16:00Z, not after 2026-09-21 14:21:00Z: 3 epochs, rules -1 +1, ids -2 +2")
        #expect(
            BundleCommand.summary(try files.object("freshness-13"))
                == "freshness, serial 13, issued 2026-09-21 14:21:40Z, not after 2026-09-21 14:26:40Z")
        #expect(BundleCommand.count(1, "rule") == "1 rule" && BundleCommand.count(0, "id") == "0 ids")
    }

    static let full10 = "full bundle, serial 10, issued 2026-09-21 14:15:00Z, not after 2026-09-21 14:20:00Z: 3 epochs, 3 rules, 42 ids"

    @Test(arguments: ["binary", "json"])
    func verifyAcceptsAGoodBundle(_ form: String) throws {
        let files = try VectorFiles()
        defer { files.remove() }
        let outcome = try files.verify("full-10", form, now: 1_790_000_101)
        #expect(outcome == .init(lines: ["ok: " + Self.full10], status: .success))
    }

    @Test func aStaleBundleIsRefusedWithItsTimeInUTC() throws {
        let files = try VectorFiles()
        defer { files.remove() }
        let outcome = try files.verify("full-10", "binary", now: 1_790_000_400)
        #expect(outcome == .init(lines: ["refused: stale: not after 2026-09-21 14:20:00Z"], status: .refused))
    }

    /// Each acceptance vector whose object comes alone (nothing held) answers the vector's answer,
    /// first on the line, and exits 0 only for `ok`.
    @Test func verifyGivesEveryAnswerOfTheAcceptanceVectors() throws {
        let files = try VectorFiles()
        defer { files.remove() }
        var tried = 0
        for vector in files.accept where vector["held"] is NSNull {
            let (object, form, answer) = (vector["object"] as! String, vector["form"] as! String, vector["answer"] as! String)
            let outcome = try files.verify(object, form, now: (vector["now"] as! NSNumber).int64Value)
            let first = outcome.lines.first ?? ""
            #expect(first.hasPrefix(["ok", "newer"].contains(answer) ? "\(answer): " : "refused: \(answer): "), "\(vector["name"]!): \(first)")
            #expect(outcome.status == (answer == "ok" ? .success : .refused), "\(vector["name"]!)")
            tried += 1
        }
        #expect(tried > 20)
    }

    /// Each link vector checked against its bundle at its time gives the vector's reason. A check
    /// after the bundle's `not_after` gives the same reason as with the bundle held from before:
    /// the bundle is refused (stale), and the edge holds nothing.
    @Test func verifyGivesTheReasonOfEveryLinkVector() throws {
        let files = try VectorFiles()
        defer { files.remove() }
        for vector in files.checks {
            guard let bundle = vector["bundle"] as? String else { continue }
            let reason = vector["reason"] as! String
            let outcome = try files.verify(
                bundle, "binary", [vector["url"] as! String, "--method", vector["method"] as! String],
                now: (vector["now"] as! NSNumber).int64Value)
            #expect(outcome.lines.contains(reason == "ok" ? "link: ok" : "link: refused: \(reason)"), "\(vector["name"]!): \(outcome.lines)")
            #expect(outcome.status == (reason == "ok" ? .success : .refused), "\(vector["name"]!)")
        }
    }

    @Test func aMalformedLinkSaysWhichRuleItBroke() throws {
        let files = try VectorFiles()
        defer { files.remove() }
        let outcome = try files.verify("full-10", "binary", ["/a?au_v=1&au_x=1"], now: 1_790_000_101)
        #expect(outcome.lines.dropFirst().first == "link: refused: malformed")
        #expect(outcome.lines.count == 3 && outcome.lines[2].hasPrefix("detail: "), "\(outcome.lines)")
        #expect(outcome.status == .refused)
    }

    /// A file that cannot be read and a JWK set that does not parse are the caller's to mend:
    /// one line, exit 2. A bundle file that is not a bundle is judged: `bad_format`, exit 1.
    @Test func badFilesAreUsageErrors() throws {
        let files = try VectorFiles()
        defer { files.remove() }
        let bundle = files.path("full-10", "binary")
        let cases: [(String, String, String)] = [
            (files.directory + "/none.json", bundle, "cannot read \(files.directory)/none.json: No such file or directory"),
            (bundle, bundle, "\(bundle): bad JWK set: not a JWK set"),
            (files.keys, files.directory, "cannot read \(files.directory): Is a directory"),
        ]
        for (keys, bundle, message) in cases {
            let failure = try #require(throws: Failure.self) { try VectorFiles.verify(["--keys", keys, bundle], now: 0) }
            #expect(failure.status == .usage && failure.message.hasPrefix(message) && !failure.message.contains("\n"), "\(failure.message)")
        }
        let notABundle = try VectorFiles.verify(["--keys", files.keys, files.keys], now: 0)
        #expect(notABundle.status == .refused && notABundle.lines.first?.hasPrefix("refused: bad_format: ") == true, "\(notABundle)")
    }

    @Test func anAtomicFileAppearsWholeWithMode0644() throws {
        let files = try VectorFiles()
        defer { files.remove() }
        let path = files.directory + "/out.bin"
        try Data("old".utf8).write(to: URL(fileURLWithPath: path))
        let file = try AtomicFile(path)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "old", "untouched until committed")
        try file.commit(Data("new bytes".utf8))
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "new bytes")
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o644)
        #expect(try FileManager.default.contentsOfDirectory(atPath: files.directory).filter { $0.contains(".tmp-") }.isEmpty)
        try AtomicFile(files.directory + "/dropped.bin").discard()
        #expect(!FileManager.default.fileExists(atPath: files.directory + "/dropped.bin"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: files.directory).filter { $0.contains(".tmp-") }.isEmpty)
    }

    @Test func aFileInAMissingDirectoryFailsBeforeAnythingIsSent() throws {
        let failure = try #require(throws: Failure.self) { try AtomicFile("/nonexistent-dir/b.bin") }
        #expect(failure.status == .usage && failure.message == "cannot write /nonexistent-dir/b.bin: No such file or directory")
    }
}

/// The bundle vectors' JWK set and objects, one file per object and form, in a fresh directory.
struct VectorFiles {
    static let source = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Vectors/bundle-v1.json")

    let directory: String
    let accept: [[String: Any]]
    let checks: [[String: Any]]
    var keys: String { directory + "/keys.json" }

    init() throws {
        let document = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: Self.source)) as? [String: Any])
        directory = FileManager.default.temporaryDirectory.path + "/authorityctl-bundle-\(UUID().uuidString.prefix(8))"
        accept = try #require(document["accept"] as? [[String: Any]])
        checks = try #require(document["checks"] as? [[String: Any]])
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try JSONSerialization.data(withJSONObject: try #require(document["keys"])).write(to: URL(fileURLWithPath: keys))
        for object in try #require(document["objects"] as? [[String: Any]]) {
            let name = try #require(object["name"] as? String)
            if let binary = object["binary"] as? String {
                try Data(try #require(Base64URL.decode(binary))).write(to: URL(fileURLWithPath: path(name, "binary")))
            }
            if let json = object["json"] as? [String: Any] {
                try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: path(name, "json")))
            }
        }
    }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }

    func path(_ name: String, _ form: String) -> String { "\(directory)/\(name).\(form == "json" ? "json" : "bin")" }

    func object(_ name: String) throws -> BundleObject {
        try BundleObject(binary: Array(try Data(contentsOf: URL(fileURLWithPath: path(name, "binary")))))
    }

    /// `bundle verify --keys KEYS FILE rest…` for the object `name` in `form`, judged at `now`.
    func verify(_ name: String, _ form: String, _ rest: [String] = [], now: Int64) throws -> BundleCommand.Verify.Outcome {
        try Self.verify(["--keys", keys, path(name, form)] + rest, now: now)
    }

    /// `bundle verify arguments…` parsed, then judged at `now`.
    static func verify(_ arguments: [String], now: Int64) throws -> BundleCommand.Verify.Outcome {
        let verify = try #require(try Authorityctl.parseAsRoot(["bundle", "verify"] + arguments) as? BundleCommand.Verify)
        return try verify.outcome(at: now)
    }
}
