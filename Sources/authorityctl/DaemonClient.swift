import Foundation
import NIOHTTP1

/// The daemon's API as the commands use it: every failure becomes a `Failure` with the
/// documented exit status.
struct DaemonClient: Sendable {
    var socketPath: String

    /// Sends a request and requires the `success` status; returns the answer (its body unchanged,
    /// for `--json`).
    func request(
        _ method: HTTPMethod, _ target: String, body: Data? = nil, success: Int = 200, accept: String = "application/json"
    ) async throws(Failure) -> DaemonAnswer {
        let answer: DaemonAnswer
        do {
            answer = try await DaemonConnection(socketPath: socketPath).send(method, target, json: body, accept: accept)
        } catch {
            throw transportFailure(error)
        }
        guard answer.status == success else { throw Failure.api(answer, "\(method) \(target)") }
        return answer
    }

    /// `request` with a JSON-encoded body.
    func request(
        _ method: HTTPMethod, _ target: String, json value: some Encodable, success: Int = 200
    ) async throws(Failure) -> DaemonAnswer {
        let body: Data
        do {
            body = try JSONEncoder().encode(value)
        } catch {
            throw Failure(message: "cannot encode the request: \(error)", status: .usage)
        }
        return try await request(method, target, body: body, success: success)
    }

    /// Decodes an answer's body as the route's wire type.
    func decode<T: Decodable>(_ type: T.Type, _ answer: DaemonAnswer, _ what: String) throws(Failure) -> T {
        do {
            return try JSONDecoder().decode(type, from: answer.body)
        } catch {
            throw Failure.unexpectedBody(what, error)
        }
    }

    /// `GET target`, decoded.
    func get<T: Decodable>(_ target: String, as type: T.Type) async throws(Failure) -> (T, DaemonAnswer) {
        let answer = try await request(.GET, target)
        return (try decode(type, answer, "GET \(target)"), answer)
    }

    /// What a request that got no answer reports (exit 3, with what to check).
    func transportFailure(_ error: any Error) -> Failure {
        switch error {
        case TransportError.connect(let code):
            return Failure.unreachable(socket: socketPath, errno: code)
        case TransportError.connectTimedOut:
            return Failure(
                message: "connecting to \(socketPath) timed out (is authorityd overloaded or stopped?)",
                status: .unreachable)
        case TransportError.timedOut(let seconds):
            return Failure(
                message: "no answer from the daemon on \(socketPath) within \(seconds) s", status: .unreachable)
        case TransportError.closed:
            return Failure(
                message: "the daemon on \(socketPath) closed the connection before answering", status: .unreachable)
        default:
            return Failure(message: "talking to the daemon on \(socketPath): \(error)", status: .unreachable)
        }
    }
}
