/// The proxy a forward-auth request comes from, which decides the only headers read for the
/// original request (docs/proxies.md). Each reads only headers its proxy sets or overwrites, so a
/// header the client adds never wins; no dialect falls back on another's headers.
public enum ForwardAuthDialect: String, Sendable, CaseIterable {
    /// nginx `auth_request` (`/v1/auth/nginx`): `X-Original-URI`, `X-Original-Method`,
    /// `X-Original-Host`, `X-Real-IP`, each set by `proxy_set_header`.
    case nginx
    /// Caddy `forward_auth` (`/v1/auth/caddy`): `X-Forwarded-Uri`, `X-Forwarded-Method`,
    /// `X-Forwarded-Host`, and the last `X-Forwarded-For` entry.
    case caddy
    /// Traefik ForwardAuth with `trustForwardHeader: false` (`/v1/auth/traefik`): the same headers as Caddy.
    case traefik
    /// Envoy `ext_authz` HTTP mode (`/v1/auth/envoy/<original path>`): the path after the prefix,
    /// the request's own method, `Host`, and the last `X-Forwarded-For` entry when there is one.
    case envoy
}
