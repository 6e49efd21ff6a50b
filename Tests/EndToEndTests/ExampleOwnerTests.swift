import AuthorityAPI
import AuthorityTesting
import Foundation
import Testing

extension EndToEnd {
    /// docs/examples/self-deleting-image/owner.py as docs/events.md runs it: a one-time link to an
    /// image through nginx; the owner deletes the image when its link is used up, expires or is
    /// revoked, and resumes from its last serial after a restart.
    @Suite(.serialized) struct SelfDeletingImage {
        static let owner = exampleFile("self-deleting-image/owner.py").path

        static func waitUntilGone(_ path: String, seconds: Double = 15) -> Bool {
            let deadline = Date().addingTimeInterval(seconds)
            while FileManager.default.fileExists(atPath: path), Date() < deadline { usleep(100_000) }
            return !FileManager.default.fileExists(atPath: path)
        }

        @Test func theImageIsDeletedWhenItsLinkEnds() async throws {
            try await DaemonProcess.with(arguments: ["--socket-mode", "0666", "--maintenance-interval", "1"]) { daemon in
                let (nginx, base, prefix) = try NginxTests().startNginx(in: daemon.directory, socket: daemon.socketPath)
                defer { nginx.terminate() }
                let root = prefix + "/www"
                try FileManager.default.createDirectory(atPath: root + "/files/images", withIntermediateDirectories: true)
                chmod(root + "/files/images", 0o755)
                for name in ["cat.jpg", "dog.jpg", "owl.jpg", "kept.jpg"] {
                    try Data("image \(name)\n".utf8).write(to: URL(fileURLWithPath: root + "/files/images/" + name))
                    chmod(root + "/files/images/" + name, 0o644)
                }
                func owner(_ arguments: String...) throws -> (status: Int32, stdout: String, stderr: String) {
                    try run("/usr/bin/python3", [Self.owner, "--socket", daemon.socketPath, "--root", root] + arguments)
                }
                let cat = try owner("issue", "/files/images/cat.jpg")
                #expect(cat.status == 0, "\(cat)")
                let link = cat.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
                let short = try owner("issue", "/files/images/dog.jpg", "--ttl", "2").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
                let owl = try owner("issue", "/files/images/owl.jpg").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
                _ = try owner("issue", "/files/images/kept.jpg")
                #expect(try owner("issue", "/files/images/none.jpg").status == 1)

                let state = daemon.directory + "/owner.serial"
                let log = daemon.directory + "/owner.log"
                func start() throws -> ChildProcess {
                    try ChildProcess(
                        ["/usr/bin/python3", Self.owner, "--socket", daemon.socketPath, "--root", root, "follow", "--state", state],
                        environment: ProcessInfo.processInfo.environment, stdout: log, stderr: log)
                }
                var follower = try start()
                defer { _ = follower.terminate() }

                // One view through nginx: served once, then the image is gone.
                let view = try curl(base + link)
                #expect(view.status == 200 && view.body == "image cat.jpg\n", "\(view.status) \(view.body)")
                #expect(Self.waitUntilGone(root + "/files/images/cat.jpg"), "used up, not deleted: \(String(describing: try? String(contentsOfFile: log, encoding: .utf8)))")
                #expect(try curl(base + link).status != 200)

                // Expired without a view (maintenance tells it within a second of the expiry).
                #expect(Self.waitUntilGone(root + "/files/images/dog.jpg"), "expired, not deleted: \(String(describing: try? String(contentsOfFile: log, encoding: .utf8))) \(String(describing: try? daemon.client().get("/v1/events").text))")
                #expect(try curl(base + short).status != 200)

                // Revoked while the owner is down: handled once it is back, from its last serial.
                _ = follower.terminate()
                let owlID = try #require(queryValue(owl, "au_id"))
                _ = try daemon.client().revoke(RevokeRequest(id: owlID))
                #expect(FileManager.default.fileExists(atPath: root + "/files/images/owl.jpg"))
                follower = try start()
                #expect(Self.waitUntilGone(root + "/files/images/owl.jpg"), "revoked, not deleted")
                #expect(FileManager.default.fileExists(atPath: root + "/files/images/kept.jpg"), "a live link's image was deleted")
                let handled = Int64((try? String(contentsOfFile: state, encoding: .utf8)) ?? "") ?? 0
                #expect(handled > 0, "the owner kept no serial")
            }
        }
    }
}
