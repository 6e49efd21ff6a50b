/// Every error answer: `{"error": {"code": "...", "message": "..."}}`. `code` is stable (scripts
/// branch on it); `message` is for people.
public struct APIErrorBody: Codable, Sendable, Equatable {
    public struct Detail: Codable, Sendable, Equatable {
        public var code: String
        public var message: String
        public init(code: String, message: String) {
            self.code = code
            self.message = message
        }
    }
    public var error: Detail

    public init(code: String, message: String) { error = Detail(code: code, message: message) }
}

/// The stable error codes of the API, with their HTTP status.
public enum APIErrorCode: String, Sendable, CaseIterable {
    case malformedHTTP = "http.malformed"
    case invalidJSON = "body.invalid_json"
    case bodyTooLarge = "body.too_large"
    case unsupportedMediaType = "body.unsupported_media_type"
    case unknownField = "request.unknown_field"
    case invalidRequest = "request.invalid"
    case notFound = "route.not_found"
    case methodNotAllowed = "route.method_not_allowed"
    case forbidden = "forbidden"
    case keyNotFound = "key.not_found"
    case keyActive = "key.active"
    case keyAlreadyRetired = "key.already_retired"
    case keyLiveLinks = "key.live_links"
    case revocationsDisabled = "revocations.disabled"
    case revocationNotFound = "revocation.not_found"
    /// No record of the link: never issued here, collected after its retention, or issued by
    /// another caller (who it is not told about).
    case linkNotFound = "link.not_found"
    /// `GET /v1/events` with `after` below what retention has deleted: the reader missed events.
    case eventsExpired = "events.expired"
    /// `GET /v1/events` with `after` past the newest event the store has given: the database was
    /// restored or replaced, and serials from there on are not the ones the reader saw.
    case eventsAhead = "events.ahead"
    /// A standing prefix revocation covers the resource: the link would be dead on arrival.
    case prefixBlocked = "link.prefix_blocked"
    case internalError = "internal"
    case storageUnavailable = "storage.unavailable"

    public var status: Int {
        switch self {
        case .invalidJSON, .malformedHTTP: 400
        case .forbidden: 403
        case .notFound, .keyNotFound, .revocationNotFound, .linkNotFound: 404
        case .methodNotAllowed: 405
        case .keyActive, .keyAlreadyRetired, .keyLiveLinks, .revocationsDisabled, .prefixBlocked: 409
        case .eventsExpired, .eventsAhead: 410
        case .bodyTooLarge: 413
        case .unsupportedMediaType: 415
        case .unknownField, .invalidRequest: 422
        case .internalError: 500
        case .storageUnavailable: 503
        }
    }
}
