import AuthorityAPI

/// A client mistake or refusal, answered with its code; never a thrown error that becomes an empty 500.
public struct APIError: Error, Sendable {
    public var code: APIErrorCode
    public var message: String
    public init(_ code: APIErrorCode, _ message: String) {
        self.code = code
        self.message = message
    }
    public var response: APIResponse { .error(code, message) }
}
