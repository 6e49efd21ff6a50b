import AuthorityCore
import Foundation

/// Vectors of the forms a browser or a player follows: the flag `c` (docs/link-format.md §12),
/// path-carried tokens (§11) and origins (§13).
extension LinkVectors {
    static let video = "https://cdn.example.com/videos/abc/"

    static func prefix(_ resource: String, flags: LinkFlags = [], origins: [String]? = nil) -> IssueRequest {
        var request = prefix(resource)
        request.flags = flags
        if let origins {
            request.origins = CORSOrigins(lenient: origins)
            precondition(request.origins != nil, "bad fixture origins \(origins)")
        }
        return request
    }

    /// The issued query-form link in its path-carried form, for `requestPath` (and an
    /// application query, if any): `https://cdn.example.com/~au/<token><requestPath>`.
    static func pathForm(
        _ requestPath: String, query: String? = nil, extraPiece: String? = nil,
        token edit: @escaping @Sendable (String) -> String = { $0 }
    ) -> @Sendable (String) -> String {
        { url in
            let question = url.firstIndex(of: "?")!
            let pieces = url[url.index(after: question)...].split(separator: "&").filter { $0.hasPrefix("au_") }
                + (extraPiece.map { [Substring($0)] } ?? [])
            let token = edit(Base64URL.encode(Array(pieces.joined(separator: "&").utf8)))
            return "https://cdn.example.com/~au/" + token + requestPath + (query.map { "?" + $0 } ?? "")
        }
    }

    static var browsingCases: [Case] {
        let several = ["https://app.example", "http://localhost:3000", "https://[2001:db8::1]:8443"]
        return [
            Case(name: "flags-cookie", expected: .ok, issue: prefix(video, flags: .grantCookie), idByte: 90,
                 target: path("/videos/abc/index.html")),
            Case(name: "flags-cookie-use-limited", expected: .ok, issue: prefix(video, flags: [.useLimited, .grantCookie]),
                 idByte: 91),
            Case(name: "flags-cookie-out-of-order", expected: .malformed,
                 issue: prefix(video, flags: [.useLimited, .grantCookie]), idByte: 92, target: swap("au_f=uc", "au_f=cu")),
            Case(name: "flags-cookie-exact-link", expected: .malformed,
                 issue: IssueRequest(resource: report, expiresAt: expiry, flags: .useLimited), idByte: 93,
                 target: swap("au_f=u", "au_f=c")),
            Case(name: "removed-cookie-flag", expected: .badSignature, issue: prefix(video, flags: .grantCookie), idByte: 94,
                 target: swap("&au_f=c", "")),
            Case(name: "path-token-playlist", expected: .ok, issue: prefix(video), idByte: 95,
                 target: pathForm("/videos/abc/master.m3u8")),
            Case(name: "path-token-deep-segment", expected: .ok, issue: prefix(video), idByte: 96,
                 target: pathForm("/videos/abc/hd/seg1.ts")),
            Case(name: "path-token-app-query", expected: .ok, issue: prefix(video), idByte: 97,
                 target: pathForm("/videos/abc/seg1.ts", query: "_HLS_msn=3")),
            Case(name: "path-token-outside-prefix", expected: .resourceMismatch, issue: prefix(video), idByte: 98,
                 target: pathForm("/videos/abd/seg1.ts")),
            Case(name: "path-token-exact-link", expected: .malformed, issue: exact(), idByte: 99,
                 target: pathForm("/files/report%202026.pdf")),
            Case(name: "path-token-reserved-in-query", expected: .malformed, issue: prefix(video), idByte: 100,
                 target: pathForm("/videos/abc/seg1.ts", query: "au_v=1")),
            Case(name: "path-token-without-path", expected: .malformed, issue: prefix(video), idByte: 101,
                 target: { String(pathForm("/")($0).dropLast()) }),
            Case(name: "path-token-padded", expected: .malformed, issue: prefix(video), idByte: 102,
                 target: pathForm("/videos/abc/seg1.ts", token: { $0 + "=" })),
            Case(name: "path-token-origin-form", expected: .ok, issue: prefix(video), idByte: 103,
                 target: { originForm(pathForm("/videos/abc/seg2.ts")($0)) }, host: "cdn.example.com"),
            Case(name: "path-token-tampered", expected: .badSignature, issue: prefix(video), idByte: 104,
                 target: { pathForm("/videos/abc/seg1.ts")(swap("au_exp=1790000900", "au_exp=1790009000")($0)) }),
            Case(name: "path-token-dot-segment", expected: .malformed, issue: prefix(video), idByte: 105,
                 target: pathForm("/videos/abc/../secret.txt")),
            Case(name: "path-token-app-piece-in-token", expected: .malformed, issue: prefix(video), idByte: 106,
                 target: pathForm("/videos/abc/seg1.ts", extraPiece: "x=1")),
            Case(name: "origins-one", expected: .ok, issue: prefix(video, origins: ["https://app.example"]), idByte: 107,
                 target: path("/videos/abc/seg1.ts")),
            Case(name: "origins-several", expected: .ok, issue: prefix(video, origins: several), idByte: 108),
            Case(name: "origins-tampered", expected: .badSignature, issue: prefix(video, origins: ["https://app.example"]),
                 idByte: 109, target: swap("au_o=https://app.example", "au_o=https://evil.example")),
            Case(name: "origins-removed", expected: .badSignature, issue: prefix(video, origins: ["https://app.example"]),
                 idByte: 110, target: swap("&au_o=https://app.example", "")),
            Case(name: "origins-out-of-order", expected: .malformed, issue: prefix(video, origins: several), idByte: 111,
                 target: swap("au_o=http://localhost:3000,https://", "au_o=https://app.example,http://localhost:3000,https://")),
            Case(name: "origins-trailing-slash", expected: .malformed, issue: prefix(video, origins: ["https://app.example"]),
                 idByte: 112, target: swap("au_o=https://app.example", "au_o=https://app.example/")),
            Case(name: "origins-in-path-token", expected: .ok, issue: prefix(video, flags: .grantCookie, origins: several),
                 idByte: 113, target: pathForm("/videos/abc/master.m3u8")),
            // `%7E` is `~` once decoded: a proxy routes this to its `/~au/` location and serves
            // `/videos/abc/seg1.ts`, which a link for `/` checked against `/~au/…` would escape.
            Case(name: "path-token-encoded-marker", expected: .malformed, issue: prefix("https://cdn.example.com/"), idByte: 114,
                 target: path("/%7Eau/eA/videos/abc/seg1.ts")),
        ]
    }
}
