import AuthorityAPI
import AuthorityStore
import AuthorityTesting
import Foundation
import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP1
import NIOPosix
import Synchronization

@testable import AuthorityServer

/// A real store in a temporary directory behind a real `Authority`, with a settable clock.
final class TestAuthority: Sendable {
    let directory: TemporaryDirectory
    let store: SQLiteStore
    let authority: Authority
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let clock = TestClock()

    init(configure: (inout ServerConfiguration) -> Void = { _ in }, policy: Policy = Policy(daemonUID: 4242)) throws {
        directory = try TemporaryDirectory("authority-server")
        var configuration = ServerConfiguration()
        configuration.stateDirectory = directory.path
        configure(&configuration)
        configuration.blockingThreads = 1
        store = try SQLiteStore.open(
            StoreConfiguration(stateDirectory: directory.path, revocationsEnabled: configuration.revocationsEnabled),
            now: 1_800_000_000, logger: Logger(label: "test"))
        let clock = clock
        authority = Authority(
            store: store, configuration: configuration, policy: policy, logger: Logger(label: "test"),
            clock: { clock.value.withLock { $0 } })
    }

    var now: Int64 {
        get { clock.value.withLock { $0 } }
        set { clock.value.withLock { $0 = newValue } }
    }

    var loop: any EventLoop { group.next() }

    /// A check through `Checker.check`, waiting for the stateful steps when there are any.
    func check(_ body: CheckLinkRequest) throws -> CheckLinkResponse {
        try authority.checker.check(body, on: loop).wait()
    }

    /// An issue through `Issuer.issue`, waiting for its group commit.
    func issue(_ body: IssueLinkRequest, rights: CallerRights, peer: PeerCredentials) throws -> IssueLinkResponse {
        try authority.issuer.issue(body, rights: rights, caller: peer, on: loop).wait()
    }

    /// A revocation through `Administration.revoke`, waiting for its group commit.
    func revoke(_ body: RevokeRequest, peer: PeerCredentials) throws -> RevocationEntry {
        try authority.administration.revoke(body, caller: peer, on: loop).wait()
    }

    var administration: Administration { authority.administration }

    deinit {
        store.groupCommit.close()
        authority.runtime.pools.syncShutdown()
        try? group.syncShutdownGracefully()
        directory.remove()
    }
}

extension Reply {
    /// The value, waiting for it when it comes later.
    func wait() throws -> Value {
        switch self {
        case .now(let result): try result.get()
        case .later(let future): try future.wait()
        }
    }
}

/// A clock the test moves by hand.
final class TestClock: Sendable {
    let value = Mutex<Int64>(1_800_000_000)
}

let root = PeerCredentials(pid: 1, uid: 0, gid: 0)
let stranger = PeerCredentials(pid: 2, uid: 1234, gid: 1234)

/// The real HTTP pipeline on an `EmbeddedChannel`: raw bytes in, raw bytes out.
struct PipelineHarness {
    let channel = EmbeddedChannel()

    /// With `limits`, the connection's guard comes first, as in the daemon; its timers run on the
    /// embedded loop's clock. The channel is connected (active), as a real connection is.
    init(_ authority: Authority, peer: PeerCredentials = root, bodyLimit: Int = 65_536, limits: ConnectionLimits? = nil) throws {
        let connectionGuard = limits.map { ConnectionGuard(limits: $0, metrics: authority.metrics, logger: Logger(label: "test")) }
        if let connectionGuard { try channel.pipeline.syncOperations.addHandler(connectionGuard) }
        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withPipeliningAssistance: true, withErrorHandling: false)
        try channel.pipeline.syncOperations.addHandler(
            HTTPHandler(
                router: Router(authority: authority), peer: peer, bodyLimit: bodyLimit, logger: Logger(label: "test"),
                connectionGuard: connectionGuard))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
    }

    /// Sends raw request bytes and returns every answer written so far.
    func send(_ raw: String) throws -> [Answer] {
        try channel.writeInbound(ByteBuffer(string: raw))
        return try answers()
    }

    func answers() throws -> [Answer] {
        var output = ""
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { output += String(buffer: buffer) }
        return Answer.parse(output)
    }

    static func request(_ method: String, _ path: String, json: String? = nil, contentType: String? = "application/json") -> String {
        var text = "\(method) \(path) HTTP/1.1\r\nHost: x\r\n"
        if let contentType, json != nil { text += "Content-Type: \(contentType)\r\n" }
        text += "Content-Length: \(json?.utf8.count ?? 0)\r\n\r\n" + (json ?? "")
        return text
    }
}

/// One parsed HTTP answer.
struct Answer {
    var status: Int
    var headers: [String: String]
    var body: String

    var errorCode: String? {
        (try? JSONDecoder().decode(APIErrorBody.self, from: Data(body.utf8)))?.error.code
    }

    func decode<T: Decodable>(_ type: T.Type) throws -> T { try JSONDecoder().decode(T.self, from: Data(body.utf8)) }

    /// Every whole answer in `text`, by the test support's one answer parser.
    static func parse(_ text: String) -> [Answer] {
        var answers: [Answer] = []
        var rest = Array(text.utf8)
        while let head = try? HTTPResponseHead.parse(rest) {
            let length = Int(head.header("Content-Length") ?? "0") ?? 0
            let body = rest.dropFirst(head.length).prefix(length)
            var headers: [String: String] = [:]
            for (name, value) in head.headers { headers[name.lowercased()] = value }
            answers.append(Answer(status: head.status, headers: headers, body: String(decoding: body, as: UTF8.self)))
            rest = Array(rest.dropFirst(head.length + length))
        }
        return answers
    }
}

extension RouteResult {
    /// The whole answer, waiting for it; an event stream is not one.
    func response() throws -> APIResponse {
        switch self {
        case .now(let response): return response
        case .later(let future): return try future.wait()
        case .events: throw UsageError("an event stream, not one answer")
        }
    }
}
