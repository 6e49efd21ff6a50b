import ArgumentParser
import AuthorityAPI
import Foundation
import Testing

@testable import authorityctl

#if canImport(Glibc)
    import Glibc
#endif

/// What a failed command says (one line on stderr) and the exit status scripts branch on.
@Suite struct FailureTests {
    /// The statuses `authorityctl --help` documents.
    @Test func exitStatusesAreTheDocumentedOnes() {
        #expect([ExitStatus.success, .refused, .usage, .unreachable, .forbidden, .apiError].map(\.rawValue) == [0, 1, 2, 3, 4, 5])
    }

    func answer(_ status: Int, _ body: String) -> DaemonAnswer { DaemonAnswer(status: status, body: Data(body.utf8)) }

    func errorBody(_ code: String, _ message: String) throws -> String {
        String(decoding: try JSONEncoder().encode(APIErrorBody(code: code, message: message)), as: UTF8.self)
    }

    @Test func apiErrorsNameTheirCode() throws {
        let invalid = Failure.api(answer(422, try errorBody("request.invalid", "ttl too long")), "POST /v1/links")
        #expect(invalid.status == .apiError && invalid.description == "authorityctl: request.invalid: ttl too long")
        #expect(Failure.api(answer(403, try errorBody("policy.denied", "no")), "GET /v1/keys").status == .forbidden)
        #expect(Failure.api(answer(400, try errorBody("forbidden", "no")), "GET /v1/keys").status == .forbidden)
    }

    /// An answer that is not the API's error shape (a proxy's HTML page): its status and the
    /// start of its body, on one line.
    @Test func foreignAnswersStayOnOneLine() {
        let html = Failure.api(answer(502, "<html>\n<body>Bad Gateway</body>\n</html>\n"), "GET /v1/health")
        #expect(html.message == "GET /v1/health: HTTP 502: <html> <body>Bad Gateway</body> </html>" && html.status == .apiError)
        #expect(Failure.api(answer(500, ""), "GET /x").message == "GET /x: HTTP 500")
        #expect(Failure.api(answer(403, "nope"), "GET /x").status == .forbidden)
        let long = Failure.api(answer(500, String(repeating: "x", count: 10_000)), "GET /x")
        #expect(long.message.count == "GET /x: HTTP 500: ".count + 200)
    }

    @Test(arguments: [
        (ENOENT, "no daemon socket at /s (is authorityd running? see --socket or $AUTHORITY_SOCKET)"),
        (ENOTDIR, "no daemon socket at /s (is authorityd running? see --socket or $AUTHORITY_SOCKET)"),
        (EACCES, "permission denied on /s (is your user in the socket's group?)"),
        (ECONNREFUSED, "nothing is listening on /s (stale socket? is authorityd running?)"),
        (ENAMETOOLONG, "cannot connect to /s: File name too long"),
    ] as [(Int32, String)])
    func unreachableSaysWhatToCheck(_ code: Int32, _ message: String) {
        let failure = Failure.unreachable(socket: "/s", errno: code)
        #expect(failure.message == message && failure.status == .unreachable)
    }

    @Test func everyTransportErrorExits3() {
        let client = DaemonClient(socketPath: "/s")
        let errors: [any Error] = [
            TransportError.connect(errno: nil), TransportError.connectTimedOut, TransportError.timedOut(seconds: 5),
            TransportError.closed, CancellationError(),
        ]
        for error in errors {
            let failure = client.transportFailure(error)
            #expect(failure.status == .unreachable && failure.message.contains("/s") && !failure.message.contains("\n"))
        }
        #expect(client.transportFailure(TransportError.timedOut(seconds: 5)).message == "no answer from the daemon on /s within 5 s")
    }

    /// A command's own failure keeps its status; a help request or a ValidationError thrown while
    /// running is handled as a parsing error; anything else is an API error (5).
    @Test func errorsThrownWhileRunning() {
        let own = Authorityctl.runFailure(for: Failure(message: "m", status: .usage))
        #expect(own?.status == .usage && own?.message == "m")
        #expect(Authorityctl.runFailure(for: ValidationError("v")) == nil)
        #expect(Authorityctl.runFailure(for: CleanExit.helpRequest()) == nil)
        #expect(Authorityctl.runFailure(for: CancellationError())?.status == .apiError)
        #expect(Authorityctl.parsingOutcome(for: ValidationError("bad value")) .status == .usage)
    }
}
