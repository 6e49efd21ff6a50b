/// How a request to `/v1/auth…` is to be read: the dialect, and for Envoy the original target.
enum ForwardAuthRoute: Equatable {
    case dialect(ForwardAuthDialect, envoyPath: Substring)
    /// Bare `/v1/auth` (or another path under it) while no `--forward-auth-dialect` is set.
    case dialectRequired

    /// The named endpoints match exactly and first; any other path under `/v1/auth` is read as
    /// the configured dialect (Envoy: the path after `/v1/auth`).
    init(path: String, configured: ForwardAuthDialect?) {
        switch path {
        case "/v1/auth/nginx": self = .dialect(.nginx, envoyPath: "")
        case "/v1/auth/caddy": self = .dialect(.caddy, envoyPath: "")
        case "/v1/auth/traefik": self = .dialect(.traefik, envoyPath: "")
        case _ where path == "/v1/auth/envoy" || path.hasPrefix("/v1/auth/envoy/"):
            self = .dialect(.envoy, envoyPath: path.dropFirst("/v1/auth/envoy".count))
        default:
            guard let configured else { self = .dialectRequired; return }
            self = .dialect(configured, envoyPath: configured == .envoy ? path.dropFirst("/v1/auth".count) : "")
        }
    }
}
