import PostgresNIO

/// What can go wrong with the fleet's PostgreSQL, beyond `StoreError`.
public enum PostgresStoreError: Error, Equatable, Sendable, CustomStringConvertible {
    /// `--database` is not a URL this daemon can use.
    case invalidLocation(String)
    /// PostgreSQL cannot be reached, or the connection broke: nothing of the write is acknowledged.
    case unavailable(location: String, why: String)
    /// PostgreSQL refused a statement (SQLSTATE and message), for a reason that is not the caller's.
    case server(location: String, sqlState: String, message: String)
    /// The schema in the database has migrations this daemon does not know, or one differs from its file.
    case schema(String)

    public var description: String {
        switch self {
        case .invalidLocation(let why): "invalid --database: \(why)"
        case .unavailable(let location, let why): "PostgreSQL \(location) is unavailable (\(why)); nothing was changed"
        case .server(let location, let state, let message): "PostgreSQL \(location) refused the write (SQLSTATE \(state): \(message))"
        case .schema(let why): "PostgreSQL schema: \(why)"
        }
    }

    /// `error` (from postgres-nio) as one of these; the store's own errors pass unchanged.
    static func wrap(_ error: any Error, location: String) -> any Error {
        if error is PostgresStoreError { return error }
        if let transaction = error as? PostgresTransactionError {
            return wrap(transaction.closureError ?? transaction.commitError ?? transaction.beginError ?? transaction.rollbackError ?? error, location: location)
        }
        guard let psql = error as? PSQLError else { return error }
        if let info = psql.serverInfo {
            return PostgresStoreError.server(
                location: location, sqlState: info[.sqlState] ?? "?", message: info[.message] ?? "no message")
        }
        return PostgresStoreError.unavailable(location: location, why: "\(psql.code)")
    }
}
