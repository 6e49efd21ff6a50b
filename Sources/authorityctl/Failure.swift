import AuthorityAPI
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A failure of a command: one line on stderr (prefixed `authorityctl: `) and an exit status.
struct Failure: Error, CustomStringConvertible {
    var message: String
    var status: ExitStatus

    var description: String { "authorityctl: \(message)" }

    func report() { Output.error(description) }

    /// A refused API call: `<code>: <message>`, exit 4 for `forbidden`, else 5. An answer that is
    /// not the API's error shape is reported with its HTTP status and the start of its body.
    static func api(_ answer: DaemonAnswer, _ what: String) -> Failure {
        if let body = try? JSONDecoder().decode(APIErrorBody.self, from: answer.body) {
            let status: ExitStatus = answer.status == 403 || body.error.code == "forbidden" ? .forbidden : .apiError
            return Failure(message: "\(body.error.code): \(body.error.message)", status: status)
        }
        let text = String(decoding: answer.body.prefix(200), as: UTF8.self)
            .split(whereSeparator: \.isNewline).joined(separator: " ")
        let status: ExitStatus = answer.status == 403 ? .forbidden : .apiError
        return Failure(message: "\(what): HTTP \(answer.status)\(text.isEmpty ? "" : ": \(text)")", status: status)
    }

    /// An answer whose body is not the JSON the route documents.
    static func unexpectedBody(_ what: String, _ error: any Error) -> Failure {
        Failure(message: "\(what): the daemon's answer does not parse (\(error))", status: .apiError)
    }

    /// The daemon could not be reached: what to check, by `errno` of `connect(2)`.
    static func unreachable(socket: String, errno code: Int32?) -> Failure {
        let message: String
        switch code {
        case ENOENT, ENOTDIR:
            message = "no daemon socket at \(socket) (is authorityd running? see --socket or $AUTHORITY_SOCKET)"
        case EACCES, EPERM:
            message = "permission denied on \(socket) (is your user in the socket's group?)"
        case ECONNREFUSED:
            message = "nothing is listening on \(socket) (stale socket? is authorityd running?)"
        case let code?:
            message = "cannot connect to \(socket): \(String(cString: strerror(code)))"
        case nil:
            message = "cannot connect to \(socket)"
        }
        return Failure(message: message, status: .unreachable)
    }
}
