import AuthorityCore
import Foundation
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import AuthorityServer

/// The connection guard and the handler's back-pressure on the real pipeline, with the embedded
/// loop's clock: timeouts, held answers while the channel is not writable, forward-auth 401s.
@Suite struct ConnectionGuardTests {
    static let limits = ConnectionLimits(requestTimeout: .seconds(10), idleTimeout: .seconds(30), writeBufferHardLimit: 1 << 20)

    /// A slowloris drips one byte of a head per second: the deadline counts from the first byte
    /// and is not moved by the others.
    @Test func aDrippedHeadIsClosedAtTheRequestTimeout() throws {
        let test = try TestAuthority()
        let harness = try PipelineHarness(test.authority, limits: Self.limits)
        let loop = harness.channel.embeddedEventLoop
        try harness.channel.writeInbound(ByteBuffer(string: "GET /v1/health HTTP/1.1\r\n"))
        for _ in 0..<9 {
            loop.advanceTime(by: .seconds(1))
            try harness.channel.writeInbound(ByteBuffer(string: "X"))
            #expect(harness.channel.isActive)
        }
        loop.advanceTime(by: .milliseconds(999))
        #expect(harness.channel.isActive, "closed before the deadline")
        loop.advanceTime(by: .milliseconds(2))
        #expect(!harness.channel.isActive, "a head dripped for 10 s is still open")
        #expect(try harness.answers().isEmpty, "no answer to a request that never arrived")
        #expect(test.authority.metrics.text().contains(#"authority_connections_closed_total{reason="request_timeout"} 1"#))
    }

    /// A body that stops arriving is held to the same deadline as the head.
    @Test func aStalledBodyIsClosedAtTheRequestTimeout() throws {
        let test = try TestAuthority()
        let harness = try PipelineHarness(test.authority, limits: Self.limits)
        try harness.channel.writeInbound(ByteBuffer(string: "POST /v1/links/check HTTP/1.1\r\nContent-Length: 100\r\n\r\n{"))
        harness.channel.embeddedEventLoop.advanceTime(by: .seconds(10))
        #expect(!harness.channel.isActive)
    }

    /// Keep-alive: open while requests come, closed after the idle timeout with none in progress.
    @Test func anIdleKeepAliveConnectionIsClosedAfterTheIdleTimeout() throws {
        let test = try TestAuthority()
        let harness = try PipelineHarness(test.authority, limits: Self.limits)
        let loop = harness.channel.embeddedEventLoop
        for _ in 0..<3 {
            loop.advanceTime(by: .seconds(29))
            #expect(try harness.send(PipelineHarness.request("GET", "/v1/health")).first?.status == 200)
        }
        loop.advanceTime(by: .seconds(29))
        #expect(harness.channel.isActive, "closed before the idle timeout")
        loop.advanceTime(by: .seconds(1))
        #expect(!harness.channel.isActive, "an idle connection outlived the idle timeout")
        #expect(test.authority.metrics.text().contains(#"authority_connections_closed_total{reason="idle_timeout"} 1"#))
    }

    /// While the channel is not writable, a complete request is held unanswered and no read
    /// reaches the socket; once writable, it is answered and reading resumes.
    @Test func requestsWaitWhileTheChannelIsNotWritable() throws {
        let test = try TestAuthority()
        let harness = try PipelineHarness(test.authority, limits: Self.limits)
        let reads = ReadCounter()
        try harness.channel.pipeline.syncOperations.addHandler(reads, position: .first)
        harness.channel.isWritable = false
        harness.channel.pipeline.fireChannelWritabilityChanged()
        let pipelined = String(repeating: PipelineHarness.request("GET", "/v1/health"), count: 3)
        try harness.channel.writeInbound(ByteBuffer(string: pipelined))
        #expect(try harness.answers().isEmpty, "answered while the channel was not writable")
        let before = reads.count
        harness.channel.read()
        #expect(reads.count == before, "a read reached the socket while answers waited")
        harness.channel.isWritable = true
        harness.channel.pipeline.fireChannelWritabilityChanged()
        #expect(try harness.answers().map(\.status) == [200, 200, 200])
        #expect(reads.count > before, "the held read was not released")
    }

    /// A revocation bundle larger than the hard limit of unsent bytes is written whole: its bytes
    /// are the cache's, shared by every answer, so they do not count against the limit. A plain
    /// answer as large still closes the connection (a page of the revocation list here).
    @Test func aSharedBundleBodyMayPassTheHardLimitAPlainAnswerMayNot() throws {
        let test = try TestAuthority()
        for _ in 0..<600 { try test.store.revoke(.id(LinkID.random()), reason: nil, now: test.now, caller: .daemon) }
        let small = ConnectionLimits(requestTimeout: .seconds(10), idleTimeout: .seconds(30), writeBufferHardLimit: 4_096)
        for (path, survives) in [("/v1/revocations/bundle", true), ("/v1/revocations/bundle?format=json", true), ("/v1/revocations?limit=1000", false)] {
            let harness = try PipelineHarness(test.authority, limits: small)
            try harness.channel.writeInbound(ByteBuffer(string: PipelineHarness.request("GET", path)))
            // Not writable when the answer (made on the read pool) is written.
            harness.channel.isWritable = false
            var answers: [Answer] = []
            for _ in 0..<500 where answers.isEmpty && harness.channel.isActive {
                harness.channel.embeddedEventLoop.run()
                answers = try harness.answers()
                if answers.isEmpty { usleep(5_000) }
            }
            #expect(harness.channel.isActive == survives, "\(path)")
            if survives {
                #expect(answers.first?.status == 200 && (answers.first?.body.utf8.count ?? 0) > 9_600, "\(path)")
            }
        }
    }

    /// Answers that stay unread for the idle timeout close the connection.
    @Test func unreadAnswersCloseTheConnectionAfterTheIdleTimeout() throws {
        let test = try TestAuthority()
        let harness = try PipelineHarness(test.authority, limits: Self.limits)
        try harness.channel.writeInbound(ByteBuffer(string: PipelineHarness.request("GET", "/v1/health")))
        harness.channel.isWritable = false
        harness.channel.pipeline.fireChannelWritabilityChanged()
        try harness.channel.writeInbound(ByteBuffer(string: PipelineHarness.request("GET", "/v1/health")))
        harness.channel.embeddedEventLoop.advanceTime(by: .seconds(29))
        #expect(harness.channel.isActive)
        harness.channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        #expect(!harness.channel.isActive, "a client that reads nothing kept its connection")
        #expect(test.authority.metrics.text().contains(#"authority_connections_closed_total{reason="write_stalled"} 1"#))
    }

    /// The forward-auth endpoints answer only 204, 401 and 403 without a body: an oversized
    /// request there is a malformed one. Other paths keep the JSON 413.
    @Test(arguments: ["/v1/auth", "/v1/auth?x=1", "/v1/auth/files/a.txt", "/v1/auth/nginx"])
    func anOversizedForwardAuthRequestIsA401WithoutABody(path: String) throws {
        let test = try TestAuthority()
        let harness = try PipelineHarness(test.authority, bodyLimit: 1_024)
        let answer = try #require(try harness.send(PipelineHarness.request("GET", path, json: String(repeating: "a", count: 2_000))).first)
        #expect(answer.status == 401)
        #expect(answer.headers["x-authority-reason"] == "malformed")
        #expect(answer.headers["content-length"] == "0" && answer.body.isEmpty)
        #expect(answer.headers["connection"] == "close")
    }

    @Test(arguments: ["/v1/authx", "/v1/links/check", "/v1/aut"])
    func otherOversizedRequestsKeepTheJSON413(path: String) throws {
        let test = try TestAuthority()
        let harness = try PipelineHarness(test.authority, bodyLimit: 1_024)
        let answer = try harness.send(PipelineHarness.request("POST", path, json: String(repeating: "a", count: 2_000))).first
        #expect(answer?.status == 413)
        #expect(answer?.errorCode == "body.too_large")
    }

    /// Chunked: the limit is found while the body streams in.
    @Test func aChunkedOversizedForwardAuthBodyIsA401() throws {
        let test = try TestAuthority()
        let harness = try PipelineHarness(test.authority, bodyLimit: 1_024)
        let chunk = String(repeating: "b", count: 800)
        let raw = "GET /v1/auth HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n320\r\n\(chunk)\r\n320\r\n\(chunk)\r\n0\r\n\r\n"
        let answer = try harness.send(raw).first
        #expect(answer?.status == 401 && answer?.body.isEmpty == true)
    }

    /// NIO's decoder errors carry the client's bytes; the log gets the error's kind only.
    @Test func errorKindsNeverCarryTheClientsBytes() {
        let marker = ByteBuffer(string: "password=hunter2&au_s=SIGNATURE")
        let errors: [any Error] = [
            ByteToMessageDecoderError.dataReceivedInErrorState(HTTPParserError.invalidMethod, marker),
            ByteToMessageDecoderError.leftoverDataWhenDone(marker),
            HTTPParserError.invalidHeaderToken,
        ]
        // The premise: NIO's own description shows the bytes in hex ("hunter2" is 68756e74657232).
        #expect("\(errors[0])".replacingOccurrences(of: " ", with: "").contains("68756e74657232"), "\(errors[0])")
        for error in errors {
            let kind = HTTPHandler.kind(of: error)
            #expect(!kind.contains("hunter2") && !kind.contains("SIGNATURE") && !kind.contains("68756e74"), "\(kind)")
            #expect(kind.contains("Error"), "\(kind)")
        }
    }
}

/// Counts the `read()` calls that reach it (placed first: what would reach the socket).
final class ReadCounter: ChannelOutboundHandler {
    typealias OutboundIn = Any
    var count = 0
    func read(context: ChannelHandlerContext) {
        count += 1
        context.read()
    }
}
