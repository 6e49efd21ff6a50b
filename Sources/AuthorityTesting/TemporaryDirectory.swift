import Foundation

/// A fresh directory under the system's temporary directory, removed by `remove()`.
public struct TemporaryDirectory: Sendable {
    public let path: String

    public init(_ label: String = "authority") throws {
        let base = FileManager.default.temporaryDirectory.path + "/\(label)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        path = base
    }

    public func remove() { try? FileManager.default.removeItem(atPath: path) }

    /// Runs `body` with a new directory and removes it afterwards.
    public static func with<R>(_ body: (String) async throws -> R) async throws -> R {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        return try await body(directory.path)
    }
}

extension Fixtures {
    /// A product built beside the running test binary (`.build/<triple>/debug/NAME`).
    public static func executable(named name: String) -> String {
        let me = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: me).deletingLastPathComponent().appendingPathComponent(name).path
    }

    /// Writes a new random master key (32 raw bytes) to `path`, mode 0600, as an operator gives
    /// one to every daemon of a fleet with `--master-key-file`.
    public static func writeMasterKey(to path: String) throws {
        guard FileManager.default.createFile(
            atPath: path, contents: Data((0..<32).map { _ in UInt8.random(in: 0...255) }), attributes: [.posixPermissions: 0o600])
        else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path]) }
    }

    /// The permission bits of a file, or nil when it does not exist.
    public static func mode(of path: String) -> Int? {
        (try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? nil
    }
}
