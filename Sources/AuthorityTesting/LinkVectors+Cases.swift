import AuthorityCore
import Foundation

extension LinkVectors {
    static let report = "https://cdn.example.com/files/report%202026.pdf?download=1"
    static let expiry = Fixtures.issuedAt + 900

    static func exact(_ resource: String = report, methods: HTTPMethods = .view) -> IssueRequest {
        IssueRequest(resource: resource, expiresAt: expiry, methods: methods)
    }

    static func prefix(_ resource: String) -> IssueRequest {
        IssueRequest(resource: resource, expiresAt: expiry, prefix: true)
    }

    static func bound(_ cidr: String) -> IssueRequest {
        var request = exact()
        request.network = IPNetwork(lenient: cidr)
        precondition(request.network != nil, "bad fixture CIDR \(cidr)")
        return request
    }

    static func hostBound() -> IssueRequest {
        var request = exact()
        request.bindHost = true
        return request
    }

    /// Replaces the first occurrence of `old`; the fixture is wrong if there is none.
    static func swap(_ old: String, _ new: String) -> (String) -> String {
        { url in
            guard let range = url.range(of: old) else { preconditionFailure("fixture: \(old) not in \(url)") }
            return url.replacingCharacters(in: range, with: new)
        }
    }

    /// Moves a prefix link to another path under the same origin, keeping its query.
    static func path(_ newPath: String) -> (String) -> String {
        { url in
            let query = url[url.firstIndex(of: "?")!...]
            return "https://cdn.example.com" + newPath + query
        }
    }

    /// Changes one character of the signature (not the last, whose unused bits must stay zero).
    static let flipSignature: @Sendable (String) -> String = { url in
        let start = url.range(of: "au_sig=")!.upperBound
        let index = url.index(start, offsetBy: 10)
        let replacement: Character = url[index] == "A" ? "B" : "A"
        return url.replacingCharacters(in: index...index, with: String(replacement))
    }

    static let originForm: @Sendable (String) -> String = { String($0.dropFirst("https://cdn.example.com".count)) }

    static var cases: [Case] {
        validCases + bindingCases + timeCases + tamperCases + encodingCases + malformedCases + browsingCases
    }

    static var validCases: [Case] {
        [
            Case(name: "exact-basic", expected: .ok, issue: exact(), idByte: 0),
            Case(name: "exact-origin-form", expected: .ok, issue: exact(), idByte: 1, target: originForm,
                 host: "cdn.example.com"),
            Case(name: "exact-head", expected: .ok, issue: exact(), idByte: 2, method: "HEAD"),
            Case(name: "exact-http-scheme", expected: .ok, issue: exact(), idByte: 3, target: swap("https:", "http:")),
            Case(name: "exact-upper-case-scheme-and-host", expected: .ok, issue: exact(), idByte: 4,
                 target: swap("https://cdn.example.com", "HTTPS://CDN.example.com")),
            Case(name: "upload-put", expected: .ok, issue: exact(methods: .upload), idByte: 5, method: "PUT"),
            Case(name: "upload-post", expected: .ok, issue: exact(methods: .upload), idByte: 6, method: "POST"),
            Case(name: "delete-only", expected: .ok, issue: exact(methods: .delete), idByte: 7, method: "DELETE"),
            Case(name: "method-post-on-view-link", expected: .methodNotAllowed, issue: exact(), idByte: 8,
                 method: "POST"),
            Case(name: "method-get-on-upload-link", expected: .methodNotAllowed, issue: exact(methods: .upload),
                 idByte: 9),
            Case(name: "method-lower-case", expected: .methodNotAllowed, issue: exact(), idByte: 10, method: "get"),
            Case(name: "method-options", expected: .methodNotAllowed, issue: exact(), idByte: 11, method: "OPTIONS"),
            Case(name: "flags-use-limited", expected: .ok,
                 issue: IssueRequest(resource: report, expiresAt: expiry, flags: .useLimited), idByte: 12),
            Case(name: "flags-use-limited-password", expected: .ok,
                 issue: IssueRequest(resource: report, expiresAt: expiry, flags: [.useLimited, .passwordProtected]),
                 idByte: 13),
            Case(name: "origin-form-resource", expected: .ok,
                 issue: IssueRequest(resource: "/files/a.txt", expiresAt: expiry), idByte: 14),
        ]
    }

    static var bindingCases: [Case] {
        let video = "https://cdn.example.com/videos/abc/"
        var hostBound = exact()
        hostBound.bindHost = true
        var hostPortBound = exact("https://cdn.example.com:8443/files/a.txt")
        hostPortBound.bindHost = true
        var kioskBound = exact("https://kiosk.example/files/a.txt")
        kioskBound.bindHost = true
        return [
            Case(name: "prefix-same-path", expected: .ok, issue: prefix(video), idByte: 20),
            Case(name: "prefix-child", expected: .ok, issue: prefix(video), idByte: 21, target: path("/videos/abc/seg1.ts")),
            Case(name: "prefix-deep-child", expected: .ok, issue: prefix(video), idByte: 22,
                 target: path("/videos/abc/hd/seg9.ts")),
            Case(name: "prefix-unsigned-app-query", expected: .ok, issue: prefix(video), idByte: 23,
                 target: { path("/videos/abc/seg2.ts")($0).replacingOccurrences(of: "?", with: "?_HLS_msn=3&") }),
            Case(name: "prefix-outside", expected: .resourceMismatch, issue: prefix(video), idByte: 24,
                 target: path("/videos/abd/seg1.ts")),
            Case(name: "prefix-parent", expected: .resourceMismatch, issue: prefix(video), idByte: 25,
                 target: path("/videos/")),
            Case(name: "prefix-without-slash-child", expected: .ok,
                 issue: prefix("https://cdn.example.com/videos/abc"), idByte: 26, target: path("/videos/abc/x.ts")),
            Case(name: "prefix-without-slash-sibling", expected: .resourceMismatch,
                 issue: prefix("https://cdn.example.com/videos/abc"), idByte: 27, target: path("/videos/abcd/x.ts")),
            Case(name: "prefix-dot-segment-escape", expected: .malformed, issue: prefix(video), idByte: 28,
                 target: path("/videos/abc/../secret.txt")),
            Case(name: "ipv4-bound-inside", expected: .ok, issue: bound("203.0.113.0/24"), idByte: 30,
                 clientIP: "203.0.113.77"),
            Case(name: "ipv4-bound-outside", expected: .ipMismatch, issue: bound("203.0.113.0/24"), idByte: 31,
                 clientIP: "198.51.100.1"),
            Case(name: "ipv4-bound-no-client", expected: .ipMismatch, issue: bound("203.0.113.0/24"), idByte: 32),
            Case(name: "ipv4-bound-mapped-client", expected: .ok, issue: bound("203.0.113.0/24"), idByte: 33,
                 clientIP: "::ffff:203.0.113.5"),
            Case(name: "ipv4-single-address", expected: .ok, issue: bound("192.0.2.7"), idByte: 34, clientIP: "192.0.2.7"),
            Case(name: "ipv6-bound-inside", expected: .ok, issue: bound("2001:db8:1::/48"), idByte: 35,
                 clientIP: "2001:db8:1:2::5"),
            Case(name: "ipv6-bound-inside-uncompressed-client", expected: .ok, issue: bound("2001:db8:1::/48"),
                 idByte: 36, clientIP: "2001:0DB8:0001:0000:0000:0000:0000:0001"),
            Case(name: "ipv6-bound-outside", expected: .ipMismatch, issue: bound("2001:db8:1::/48"), idByte: 37,
                 clientIP: "2001:db8:2::1"),
            Case(name: "ipv6-bound-ipv4-client", expected: .ipMismatch, issue: bound("2001:db8:1::/48"), idByte: 38,
                 clientIP: "203.0.113.1"),
            Case(name: "ipv6-client-zone-id-is-not-an-address", expected: .ipMismatch, issue: bound("fe80::/10"),
                 idByte: 39, clientIP: "fe80::1%eth0"),
            Case(name: "host-bound", expected: .ok, issue: hostBound, idByte: 40),
            Case(name: "host-bound-request-port-ignored", expected: .ok, issue: hostBound, idByte: 41,
                 target: swap("cdn.example.com", "cdn.example.com:8443")),
            Case(name: "host-bound-other-host", expected: .resourceMismatch, issue: hostBound, idByte: 42,
                 target: originForm, host: "evil.example.net"),
            Case(name: "host-bound-no-host", expected: .resourceMismatch, issue: hostBound, idByte: 43,
                 target: originForm),
            Case(name: "host-port-bound-same-port", expected: .ok, issue: hostPortBound, idByte: 44),
            Case(name: "host-port-bound-other-port", expected: .resourceMismatch, issue: hostPortBound, idByte: 45,
                 target: swap(":8443", ":9443")),
            // U+212A KELVIN SIGN lowercases to ASCII "k" in Unicode: hosts compare as ASCII bytes.
            Case(name: "host-bound-kelvin-sign", expected: .resourceMismatch, issue: kioskBound, idByte: 46,
                 target: swap("https://kiosk.example", "https://\u{212A}iosk.example")),
            Case(name: "host-bound-kelvin-sign-forwarded-host", expected: .resourceMismatch, issue: kioskBound,
                 idByte: 47, target: swap("https://kiosk.example", ""), host: "\u{212A}iosk.example"),
            Case(name: "host-bound-upper-case-request-host", expected: .ok, issue: kioskBound, idByte: 48,
                 target: swap("https://kiosk.example", ""), host: "KIOSK.EXAMPLE"),
        ]
    }

    static var timeCases: [Case] {
        func notBefore(_ offset: Int64) -> IssueRequest {
            IssueRequest(resource: report, expiresAt: expiry, notBefore: Fixtures.issuedAt + offset)
        }
        return [
            Case(name: "expired-at-expiry", expected: .expired, issue: exact(), idByte: 50, nowOffset: 900),
            Case(name: "valid-last-second", expected: .ok, issue: exact(), idByte: 51, nowOffset: 899),
            Case(name: "expired-long-ago", expected: .expired, issue: exact(), idByte: 52, nowOffset: 86_400),
            Case(name: "not-before-passed", expected: .ok, issue: notBefore(50), idByte: 53),
            Case(name: "not-before-inside-leeway", expected: .ok, issue: notBefore(120), idByte: 54),
            Case(name: "not-before-leeway-edge", expected: .ok, issue: notBefore(130), idByte: 55),
            Case(name: "not-before-outside-leeway", expected: .notYetValid, issue: notBefore(131), idByte: 56),
            Case(name: "unknown-epoch", expected: .unknownKey, issue: exact(), epochKey: (8, Fixtures.otherKey),
                 idByte: 57),
            Case(name: "other-key-same-epoch", expected: .badSignature, issue: exact(),
                 epochKey: (Fixtures.epoch, Fixtures.otherKey), idByte: 58),
        ]
    }

    static var tamperCases: [Case] {
        [
            Case(name: "tampered-path", expected: .badSignature, issue: exact(), idByte: 60,
                 target: swap("report%202026", "report%202027")),
            Case(name: "tampered-app-value", expected: .badSignature, issue: exact(), idByte: 61,
                 target: swap("download=1", "download=2")),
            Case(name: "added-app-parameter", expected: .badSignature, issue: exact(), idByte: 62,
                 target: swap("download=1", "download=1&inline=1")),
            Case(name: "removed-app-parameter", expected: .badSignature, issue: exact(), idByte: 63,
                 target: swap("download=1&", "")),
            Case(name: "reordered-app-parameters", expected: .badSignature,
                 issue: exact("https://cdn.example.com/files/a.txt?a=1&b=2"), idByte: 64, target: swap("a=1&b=2", "b=2&a=1")),
            Case(name: "tampered-expiry", expected: .badSignature, issue: exact(), idByte: 65,
                 target: swap("au_exp=1790000900", "au_exp=1790009000")),
            Case(name: "tampered-issued-at", expected: .badSignature, issue: exact(), idByte: 66,
                 target: swap("au_iat=1790000000", "au_iat=1790000001")),
            Case(name: "tampered-methods", expected: .badSignature, issue: exact(), idByte: 67,
                 target: swap("au_m=GET,HEAD", "au_m=GET,HEAD,PUT"), method: "PUT"),
            Case(name: "tampered-id", expected: .badSignature, issue: exact(), idByte: 68,
                 target: swap("au_id=RE", "au_id=RF")),
            Case(name: "tampered-epoch", expected: .unknownKey, issue: exact(), idByte: 69, target: swap("au_k=7", "au_k=9")),
            Case(name: "removed-ip-binding", expected: .badSignature, issue: bound("203.0.113.0/24"), idByte: 70,
                 target: swap("&au_ip=203.0.113.0/24", "")),
            Case(name: "widened-ip-binding", expected: .badSignature, issue: bound("203.0.113.0/24"), idByte: 71,
                 target: swap("au_ip=203.0.113.0/24", "au_ip=0.0.0.0/0"), clientIP: "198.51.100.1"),
            Case(name: "removed-flags", expected: .badSignature,
                 issue: IssueRequest(resource: report, expiresAt: expiry, flags: .useLimited), idByte: 72,
                 target: swap("&au_f=u", "")),
            Case(name: "widened-prefix", expected: .badSignature, issue: prefix("https://cdn.example.com/videos/abc/"),
                 idByte: 73, target: swap("au_pfx=/videos/abc/", "au_pfx=/videos/")),
            Case(name: "removed-not-before", expected: .badSignature,
                 issue: IssueRequest(resource: report, expiresAt: expiry, notBefore: Fixtures.issuedAt + 600), idByte: 74,
                 target: swap("&au_nbf=1790000600", "")),
            Case(name: "tampered-signature", expected: .badSignature, issue: exact(), idByte: 75, target: flipSignature),
        ]
    }
}
