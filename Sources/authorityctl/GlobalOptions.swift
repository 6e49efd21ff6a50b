import ArgumentParser
import Foundation

/// The options every command takes: where the daemon is, and the output form.
struct GlobalOptions: ParsableArguments {
    /// The daemon's own default socket.
    static let defaultSocket = "/run/authority/authority.sock"

    @Option(
        name: .long,
        help: ArgumentHelp(
            "The daemon's Unix socket (default: $AUTHORITY_SOCKET, else \(defaultSocket)).", valueName: "path"),
        completion: .file())
    var socket: String?

    @Flag(name: .long, help: "Print the API's JSON answer unchanged instead of text for people.")
    var json = false

    /// `--socket`, else a non-empty `$AUTHORITY_SOCKET`, else the daemon's default.
    var socketPath: String {
        if let socket { return socket }
        if let fromEnvironment = ProcessInfo.processInfo.environment["AUTHORITY_SOCKET"], !fromEnvironment.isEmpty {
            return fromEnvironment
        }
        return Self.defaultSocket
    }

    func validate() throws {
        // sockaddr_un holds 108 bytes including the terminating NUL.
        guard !socketPath.isEmpty, socketPath.utf8.count <= 107 else {
            throw ValidationError("the socket path must be 1 to 107 bytes long: \(socketPath)")
        }
    }

    var client: DaemonClient { DaemonClient(socketPath: socketPath) }
}
