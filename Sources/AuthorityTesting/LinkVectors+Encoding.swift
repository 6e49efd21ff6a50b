import AuthorityCore

extension LinkVectors {
    /// Equivalent spellings that canonicalise to what was signed, and spellings that do not.
    static var encodingCases: [Case] {
        let base = "https://cdn.example.com"
        return [
            Case(name: "path-space-lower-case-hex", expected: .ok, issue: exact(), idByte: 80,
                 target: swap("report%202026", "report%202026")),
            Case(name: "path-non-ascii-raw", expected: .ok, issue: exact(base + "/caf%C3%A9/men%C3%BC.txt"), idByte: 81,
                 target: swap("/caf%C3%A9/men%C3%BC.txt", "/café/menü.txt")),
            Case(name: "path-non-ascii-lower-case-hex", expected: .ok, issue: exact(base + "/caf%C3%A9.txt"), idByte: 82,
                 target: swap("%C3%A9", "%c3%a9")),
            Case(name: "path-plus-is-literal", expected: .ok, issue: exact(base + "/a+b.txt"), idByte: 83,
                 target: swap("/a%2Bb.txt", "/a+b.txt")),
            Case(name: "path-plus-is-not-space", expected: .badSignature, issue: exact(base + "/a+b.txt"), idByte: 84,
                 target: swap("/a%2Bb.txt", "/a%20b.txt")),
            Case(name: "path-reserved-characters-raw", expected: .ok, issue: exact(base + "/a(1)!$,;=:@.txt"), idByte: 85,
                 target: swap("/a%281%29%21%24%2C%3B%3D%3A%40.txt", "/a(1)!$,;=:@.txt")),
            Case(name: "path-tilde-encoded", expected: .ok, issue: exact(base + "/~user/x.txt"), idByte: 86,
                 target: swap("/~user/", "/%7Euser/")),
            Case(name: "query-plus-is-space", expected: .ok, issue: exact(base + "/s?q=a%20b"), idByte: 87,
                 target: swap("q=a%20b", "q=a+b")),
            Case(name: "query-encoded-plus-is-plus", expected: .badSignature, issue: exact(base + "/s?q=a%20b"), idByte: 88,
                 target: swap("q=a%20b", "q=a%2Bb")),
            Case(name: "query-literal-plus-issued", expected: .ok, issue: exact(base + "/s?q=1%2B1"), idByte: 89),
            Case(name: "query-non-ascii-raw", expected: .ok, issue: exact(base + "/s?name=J%C3%BCrgen"), idByte: 90,
                 target: swap("J%C3%BCrgen", "Jürgen")),
            Case(name: "query-reserved-characters", expected: .ok, issue: exact(base + "/s?next=/a/b%3Fc%3D1%26d"),
                 idByte: 91, target: swap("next=%2Fa%2Fb%3Fc%3D1%26d", "next=/a/b%3Fc%3D1%26d")),
            Case(name: "query-name-without-value", expected: .ok, issue: exact(base + "/s?download"), idByte: 92,
                 target: swap("download=&", "download&")),
            Case(name: "query-newline-value", expected: .ok, issue: exact(base + "/s?text=a%0Ab"), idByte: 93),
            Case(name: "path-at-segment-limit", expected: .ok,
                 issue: exact(base + String(repeating: "/d", count: 127) + "/x.txt"), idByte: 94),
        ]
    }

    static var malformedCases: [Case] {
        func bad(_ name: String, _ idByte: UInt8, _ transform: @escaping (String) -> String, issue: IssueRequest = exact())
            -> Case
        {
            Case(name: name, expected: .malformed, issue: issue, idByte: idByte, target: transform)
        }
        let report = "/files/report%202026.pdf"
        return [
            bad("duplicate-epoch", 100, { $0 + "&au_k=7" }),
            bad("duplicate-signature", 101, { url in url + "&" + url[url.range(of: "au_sig=")!.lowerBound...] }),
            bad("unknown-reserved-parameter", 102, { $0 + "&au_x=1" }),
            bad("encoded-reserved-name", 103, swap("au_k=", "au%5Fk=")),
            bad("signature-non-canonical-last-character", 104, { url in
                let last = url.last!
                return String(url.dropLast()) + (last == "A" ? "B" : String(UnicodeScalar(last.asciiValue! + 1)))
            }),
            bad("signature-padded", 105, { $0 + "==" }),
            bad("signature-standard-base64-alphabet", 106, { url in
                let start = url.range(of: "au_sig=")!.upperBound
                return url.replacingCharacters(in: url.index(start, offsetBy: 3)...url.index(start, offsetBy: 3), with: "+")
            }),
            bad("signature-missing", 107, { String($0[..<$0.range(of: "&au_sig=")!.lowerBound]) }),
            bad("id-non-canonical", 109, swap("au_id=bW5vcHFyc3R1dnd4eXp7fA", "au_id=bW5vcHFyc3R1dnd4eXp7fB")),
            bad("version-2", 110, swap("au_v=1", "au_v=2")),
            bad("expiry-leading-zero", 111, swap("au_exp=", "au_exp=0")),
            bad("methods-non-canonical-order", 112, swap("au_m=GET,HEAD", "au_m=HEAD,GET")),
            bad("ip-host-bits-set", 113, swap("au_ip=203.0.113.0/24", "au_ip=203.0.113.9/24"),
                issue: bound("203.0.113.0/24")),
            bad("ip-embedded-ipv4-form", 114, swap("au_ip=203.0.113.0/24", "au_ip=::ffff:203.0.113.0/120"),
                issue: bound("203.0.113.0/24")),
            bad("flags-empty", 115, { $0 + "&au_f=" }),
            bad("path-dot-segment", 116, swap("/files/", "/files/./")),
            bad("path-encoded-dot-dot", 117, swap("/files/", "/files/%2E%2E/files/")),
            bad("path-encoded-slash", 118, swap(report, "/files%2Freport%202026.pdf")),
            bad("path-empty-segment", 119, swap("/files/", "/files//")),
            bad("path-backslash-encoded", 120, swap("/files/", "/files%5C")),
            bad("path-nul", 121, swap("report%20", "report%00")),
            bad("path-invalid-utf8", 122, swap("report%20", "report%FF")),
            bad("path-bad-escape", 123, swap("report%20", "report%G0")),
            bad("query-nul", 124, swap("download=1", "download=%00")),
            bad("query-invalid-utf8", 125, swap("download=1", "download=%C3")),
            bad("query-empty-parameter", 126, swap("download=1&", "download=1&&")),
            bad("query-parameter-without-name", 127, swap("download=1", "=1")),
            bad("fragment", 128, { $0 + "#top" }),
            bad("raw-space", 129, swap("report%202026", "report 2026")),
            bad("userinfo", 130, swap("https://", "https://user@")),
            bad("no-query", 131, { String($0[..<$0.firstIndex(of: "?")!]) }),
            bad("not-a-url", 132, swap("https://", "ftp://")),
            bad("host-all-digits-not-ipv4", 133, swap("au_h=cdn.example.com", "au_h=999.1.1.1"), issue: hostBound()),
            bad("host-upper-case", 134, swap("au_h=cdn.example.com", "au_h=CDN.example.com"), issue: hostBound()),
            bad("ip-mapped-hex-form", 135, swap("au_ip=203.0.113.0/24", "au_ip=::ffff:cb00:7100/120"),
                issue: bound("203.0.113.0/24")),
            bad("ip-length-leading-zero", 136, swap("/24", "/024"), issue: bound("203.0.113.0/24")),
            bad("issued-at-signed-plus", 137, swap("au_iat=", "au_iat=+")),
            bad("path-too-many-segments", 138, swap("/files/", String(repeating: "/d", count: 128) + "/files/")),
            bad("path-too-long", 139, swap("/files/", "/" + String(repeating: "x", count: 4_100) + "/files/")),
        ]
    }
}
