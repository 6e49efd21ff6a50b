import AuthorityCore
import AuthorityEdge
import Foundation

extension BundleVectors {
    /// §6 cases: (name, now offset from `issuedAt`, held, object, form, answer).
    static let acceptCases: [(String, Int64, String?, String, String, String)] = [
        ("full accepted", 1, nil, "full-10", "both", "ok"),
        ("full replaces an older full", 61, "full-10", "full-12", "both", "ok"),
        ("delta applied", 61, "full-10", "delta-10-12", "both", "ok"),
        ("delta without a base", 61, nil, "delta-10-12", "both", "base_mismatch"),
        ("delta from another base", 61, "full-10", "delta-wrong-base", "both", "base_mismatch"),
        ("delta whose result does not hash to its digest", 61, "full-10", "delta-tampered", "both", "digest_mismatch"),
        ("empty delta extends the held state", 501, "full-12", "delta-12-12-later", "both", "ok"),
        ("freshness with the held serial", 401, "full-12", "freshness-12-later", "both", "ok"),
        ("freshness without a held state", 401, nil, "freshness-12-later", "both", "newer"),
        ("freshness of a later serial", 2, "full-10", "freshness-13", "both", "newer"),
        ("stale freshness of a later serial", 700, "full-10", "freshness-13", "both", "stale"),
        ("stale freshness without a held state", 700, nil, "freshness-13", "both", "stale"),
        ("freshness of an earlier serial", 2, "full-10", "freshness-9", "both", "rolled_back"),
        ("expired freshness while nothing is held", 700, nil, "freshness-12-later", "both", "stale"),
        ("a prefix that is not canonical", 1, nil, "full-noncanonical-prefix", "both", "bad_format"),
        ("freshness with the held serial but another digest", 2, "full-10", "freshness-10-other-digest", "both", "rolled_back"),
        ("older full after a newer one", 61, "full-12", "full-9-older", "both", "rolled_back"),
        ("older full after a delta's state", 61, "full-12", "full-10", "both", "rolled_back"),
        ("another digest under the held serial", 61, "full-12", "full-12-conflict", "both", "rolled_back"),
        ("stale full", 1, nil, "full-stale", "both", "stale"),
        ("full past its not_after", 300, nil, "full-10", "both", "stale"),
        ("ids out of order", 1, nil, "full-ids-unsorted", "both", "bad_format"),
        ("a prefix that is not a canonical path", 1, nil, "full-prefix-not-canonical", "both", "bad_format"),
        ("signed by a verify-only epoch", 1, nil, "full-signed-by-verify-only-epoch", "both", "inactive_signer"),
        ("signer not active in its own list", 1, nil, "full-signer-not-active-in-list", "both", "inactive_signer"),
        ("signed by a retired epoch", 1, nil, "full-signed-by-retired-epoch", "both", "unknown_key"),
        ("signed by an epoch the JWK set lacks", 1, nil, "full-signed-by-unknown-epoch", "both", "unknown_key"),
        ("bad magic", 1, nil, "full-10-bad-magic", "binary", "bad_format"),
        ("flipped signature bit", 1, nil, "full-10-bad-signature", "binary", "bad_signature"),
        ("flipped id bit", 1, nil, "full-10-tampered-id", "binary", "digest_mismatch"),
        ("unknown epoch state", 1, nil, "full-10-bad-state", "binary", "bad_format"),
        ("truncated by one byte", 1, nil, "full-10-truncated", "binary", "bad_format"),
        ("one byte too many", 1, nil, "full-10-trailing-byte", "binary", "bad_format"),
        ("header without a body", 1, nil, "full-10-header-only", "binary", "bad_format"),
        ("JSON: signature of other bytes", 1, nil, "json-bad-signature", "json", "bad_signature"),
        ("JSON: a changed id", 1, nil, "json-tampered-id", "json", "digest_mismatch"),
        ("JSON: an unknown member", 1, nil, "json-unknown-member", "json", "bad_format"),
        ("JSON: a number written as a string", 1, nil, "json-serial-as-string", "json", "bad_format"),
        ("JSON: an integer above 2^53 - 1", 1, nil, "json-unsafe-integer", "json", "bad_format"),
    ]

    /// A link of the checks: issued at `t0` under `epoch`, for `resource`.
    struct Link {
        var name: String
        var request: IssueRequest
        var epoch: UInt64 = 7
        var idByte: UInt8
        var target: (String) -> String = { $0 }
    }

    static func exact(_ path: String, flags: LinkFlags = []) -> IssueRequest {
        IssueRequest(resource: "https://cdn.example.com" + path, expiresAt: t0 + 3_600, flags: flags)
    }

    /// §7 cases: (name, link, bundle held, now offset from `issuedAt`, reason).
    nonisolated(unsafe) static let checkCases: [(String, Link, String?, Int64, String)] = [
        ("not revoked", Link(name: "", request: exact("/files/a.pdf"), idByte: 0x10), "full-10", 10, "ok"),
        ("revoked by id", Link(name: "", request: exact("/files/b.pdf"), idByte: 0x40), "full-10", 10, "revoked"),
        ("id revoked in the first state, lifted in the second", Link(name: "", request: exact("/files/b.pdf"), idByte: 0x50), "full-10", 10, "revoked"),
        ("the same id once lifted", Link(name: "", request: exact("/files/b.pdf"), idByte: 0x50), "full-12", 70, "ok"),
        ("id revoked in the second state", Link(name: "", request: exact("/files/c.pdf"), idByte: 0x60), "full-12", 70, "revoked"),
        ("standing block", Link(name: "", request: exact("/blocked/x.pdf"), idByte: 0x11), "full-10", 10, "revoked"),
        ("standing block covers a prefix link's request path",
         Link(name: "", request: IssueRequest(resource: "https://cdn.example.com/", expiresAt: t0 + 3_600, prefix: true), idByte: 0x12,
              target: { $0.replacingOccurrences(of: "https://cdn.example.com/?", with: "https://cdn.example.com/blocked/deep/file?") }),
         "full-10", 10, "revoked"),
        ("prefix link outside the block", Link(name: "", request: IssueRequest(resource: "https://cdn.example.com/", expiresAt: t0 + 3_600, prefix: true), idByte: 0x12,
              target: { $0.replacingOccurrences(of: "https://cdn.example.com/?", with: "https://cdn.example.com/blockedx?") }),
         "full-10", 10, "ok"),
        ("the block is strictly below /blocked/", Link(name: "", request: exact("/blocked"), idByte: 0x13), "full-10", 10, "ok"),
        ("issued before the cutoff", Link(name: "", request: exact("/old/file"), idByte: 0x14), "full-10", 10, "revoked"),
        ("the prefix /old covers itself", Link(name: "", request: exact("/old"), idByte: 0x14), "full-10", 10, "revoked"),
        ("/old does not cover /older", Link(name: "", request: exact("/older"), idByte: 0x14), "full-10", 10, "ok"),
        ("issued at the cutoff is not before it", Link(name: "", request: exact("/fresh/file"), idByte: 0x15), "full-10", 10, "ok"),
        ("a cutoff raised by a delta", Link(name: "", request: exact("/fresh/file"), idByte: 0x15), "full-12", 70, "revoked"),
        ("a rule removed by a delta", Link(name: "", request: exact("/old/file"), idByte: 0x14), "full-12", 70, "ok"),
        ("verify-only epoch", Link(name: "", request: exact("/files/a.pdf"), epoch: 6, idByte: 0x16), "full-10", 10, "ok"),
        ("retired epoch", Link(name: "", request: exact("/files/a.pdf"), epoch: 5, idByte: 0x17), "full-10", 10, "retired_key"),
        ("epoch in the JWK set but not in the bundle", Link(name: "", request: exact("/files/a.pdf"), epoch: 8, idByte: 0x18), "full-10", 10, "unknown_key"),
        ("epoch in neither", Link(name: "", request: exact("/files/a.pdf"), epoch: 9, idByte: 0x19), "full-10", 10, "unknown_key"),
        ("retired epoch, revoked id: the key decides first", Link(name: "", request: exact("/files/a.pdf"), epoch: 5, idByte: 0x40), "full-10", 10, "retired_key"),
        ("bad signature before revoked", Link(name: "", request: exact("/files/b.pdf"), idByte: 0x40, target: { $0.replacingOccurrences(of: "b.pdf", with: "B.pdf") }), "full-10", 10, "bad_signature"),
        ("expired before revoked", Link(name: "", request: exact("/files/b.pdf"), idByte: 0x40), "full-10", 3_600, "expired"),
        ("malformed", Link(name: "", request: exact("/files/a.pdf"), idByte: 0x10, target: { $0 + "&au_x=1" }), "full-10", 10, "malformed"),
        ("use-limited link needs the daemon", Link(name: "", request: exact("/files/u.pdf", flags: .useLimited), idByte: 0x1A), "full-10", 10, "needs_daemon"),
        ("password link needs the daemon", Link(name: "", request: exact("/files/p.pdf", flags: .passwordProtected), idByte: 0x1B), "full-10", 10, "needs_daemon"),
        ("revoked use-limited link", Link(name: "", request: exact("/blocked/u.pdf", flags: .useLimited), idByte: 0x1C), "full-10", 10, "revoked"),
        ("stale bundle refuses a good link", Link(name: "", request: exact("/files/a.pdf"), idByte: 0x10), "full-10", 300, "stale_bundle"),
        ("stale bundle refuses a revoked link too", Link(name: "", request: exact("/files/b.pdf"), idByte: 0x40), "full-10", 300, "stale_bundle"),
        ("one second before not_after", Link(name: "", request: exact("/files/a.pdf"), idByte: 0x10), "full-10", 299, "ok"),
        ("no bundle held", Link(name: "", request: exact("/files/a.pdf"), idByte: 0x10), nil, 10, "stale_bundle"),
        ("no bundle held, retired epoch in the JWK set", Link(name: "", request: exact("/files/a.pdf"), epoch: 5, idByte: 0x17), nil, 10, "retired_key"),
        ("no bundle held, expired link", Link(name: "", request: exact("/files/a.pdf"), idByte: 0x10), nil, 3_600, "expired"),
    ]

    public static func jwks() -> [String: Any] {
        ["keys": jwkStatus.map { epoch, status in
            ["kty": "OKP", "crv": "Ed25519", "x": keys[epoch]!.publicKey.base64URL, "kid": String(epoch), "use": "sig", "alg": "EdDSA", "status": status]
        }]
    }

    static func data(_ value: Any) throws -> [UInt8] { Array(try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys])) }

    static func verifier() throws -> EdgeVerifier { EdgeVerifier(keys: try JSONWebKeys(json: Data(try data(jwks())))) }

    /// The whole file, checked against `EdgeVerifier` case by case.
    public static func document() throws -> [String: Any] {
        let objects = try objects()
        let byName = Dictionary(uniqueKeysWithValues: objects.map { ($0.name, $0) })
        func bytes(_ name: String, _ form: String) throws -> [UInt8] {
            guard let object = byName[name] else { throw VectorGenerationError(description: "no object \(name)") }
            if form == "binary", let binary = object.binary { return binary }
            if form == "json", let json = object.json { return try data(json) }
            throw VectorGenerationError(description: "\(name) has no \(form) form")
        }
        var accepts: [[String: Any]] = []
        for (name, offset, held, object, forms, answer) in acceptCases {
            for form in forms == "both" ? ["binary", "json"] : [forms] {
                var edge = try verifier()
                let now = issuedAt + offset
                if let held {
                    let object = try EdgeVerifier.object(try bytes(held, "binary"))
                    try edge.accept(object, now: object.statement.issuedAt)
                }
                let got: String
                do { got = try edge.accept(try bytes(object, form), now: now).rawValue } catch let error as BundleError { got = error.code }
                guard got == answer else {
                    throw VectorGenerationError(description: "accept \(name) (\(form)): expected \(answer), got \(got)")
                }
                accepts.append(["name": "\(name) (\(form))", "now": now, "held": held ?? NSNull(), "object": object, "form": form, "answer": answer])
            }
        }
        var checks: [[String: Any]] = []
        for (name, link, bundle, offset, reason) in checkCases {
            let issued = try LinkIssuer.issue(link.request, id: Fixtures.id(link.idByte), epoch: link.epoch, key: keys[link.epoch]!, now: t0)
            var edge = try verifier()
            if let bundle {
                let object = try EdgeVerifier.object(try bytes(bundle, "binary"))
                try edge.accept(object, now: object.statement.issuedAt)
            }
            let now = issuedAt + offset
            let url = link.target(issued.url)
            let got = edge.check(LinkRequest(target: url), now: now).reason.code
            guard got == reason else { throw VectorGenerationError(description: "check \(name): expected \(reason), got \(got)") }
            checks.append(["name": name, "now": now, "bundle": bundle ?? NSNull(), "url": url, "host": NSNull(), "method": "GET", "client_ip": NSNull(), "reason": reason])
        }
        return [
            "keys": jwks(), "not_before_leeway": 30,
            "objects": objects.map { ["name": $0.name, "binary": $0.binary.map { Base64URL.encode($0) as Any } ?? NSNull(), "json": $0.json ?? NSNull()] },
            "accept": accepts, "checks": checks,
        ]
    }

    public static func json() throws -> Data {
        var data = try JSONSerialization.data(withJSONObject: try document(), options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        data.append(UInt8(ascii: "\n"))
        return data
    }
}
