import AuthorityAPI
import AuthorityTesting
import Foundation
import Testing

extension EndToEnd {
    /// A link is a credential: changing any single byte of it must make the daemon refuse it.
    @Suite(.serialized) struct Tampering {
        /// One issued link and the request that makes it pass.
        struct Issued {
            var url: [UInt8]
            var method: String
            var clientIP: String
        }

        static let linkCount = 1_000
        /// Replacement bytes (all unreserved, so no change canonicalises back to the original).
        static let alphabet = Array("0aZ~-._".utf8)
        /// Link `n` has the byte at position `p` changed when `p % stride == n % stride`, so every
        /// position of the longest links is changed in about `linkCount / stride` links.
        /// Stride 1 (used): every byte of every link is changed — about 220,000 checks, 130–150 s
        /// against the debug daemon on two cores. Raise it if that becomes too slow.
        static let stride = 1

        static func request(_ n: Int) -> (IssueLinkRequest, method: String, clientIP: String) {
            let methods: [[String]] = [["GET", "HEAD"], ["PUT"], ["POST"], ["GET"], ["DELETE"], ["GET", "HEAD", "PUT", "POST", "DELETE"]]
            let bindings: [(String?, String)] = [
                (nil, "203.0.113.7"), ("203.0.113.0/24", "203.0.113.7"), ("198.51.100.7", "198.51.100.7"),
                (nil, "2001:db8::7"), ("2001:db8::/48", "2001:db8::7"),
            ]
            let chosen = methods[n % methods.count]
            let (ip, client) = bindings[n % bindings.count]
            let request = IssueLinkRequest(
                resource: "/t/file-\(n).bin?v=\(n)", methods: n % 7 == 0 ? nil : chosen, ttl: 600 + Int64(n % 5) * 1_000, ip: ip)
            return (request, n % 7 == 0 ? "GET" : chosen.last!, client)
        }

        /// `url` with the byte at `position` replaced by an alphabet byte that differs from it.
        static func mutate(_ url: [UInt8], at position: Int, salt: Int) -> [UInt8] {
            var copy = url
            for step in 0..<alphabet.count {
                let candidate = alphabet[(salt + position + step) % alphabet.count]
                if candidate != url[position] {
                    copy[position] = candidate
                    return copy
                }
            }
            fatalError("the alphabet has more than one byte")
        }

        @Test func everySingleByteChangeIsRejected() async throws {
            try await DaemonProcess.with { daemon in
                let client = daemon.client()
                var links: [Issued] = []
                for n in 0..<Self.linkCount {
                    let (request, method, clientIP) = Self.request(n)
                    let link = try client.issue(request)
                    links.append(Issued(url: Array(link.url.utf8), method: method, clientIP: clientIP))
                }
                let unmodified = try links.map { try client.reason(String(decoding: $0.url, as: UTF8.self), method: $0.method, clientIP: $0.clientIP) }
                #expect(unmodified.allSatisfy { $0 == "ok" }, "\(Set(unmodified))")

                let started = Date()
                var reasons: [String: Int] = [:]
                var accepted: [String] = []
                var covered = Set<Int>()
                for (n, link) in links.enumerated() {
                    for position in link.url.indices where position % Self.stride == n % Self.stride {
                        covered.insert(position)
                        let url = String(decoding: Self.mutate(link.url, at: position, salt: n), as: UTF8.self)
                        let response = try client.post(
                            "/v1/links/check", json: CheckLinkRequest(url: url, method: link.method, clientIP: link.clientIP))
                        guard response.status == 200, let answer = try? response.decode(CheckLinkResponse.self) else {
                            reasons["HTTP \(response.status)", default: 0] += 1
                            continue
                        }
                        reasons[answer.reason, default: 0] += 1
                        if answer.valid { accepted.append(url) }
                    }
                }
                let checks = reasons.values.reduce(0, +)
                let seconds = Date().timeIntervalSince(started)
                print("tampering: \(checks) checks in \(String(format: "%.1f", seconds)) s (\(Int(Double(checks) / seconds))/s), \(covered.count) positions covered, reasons \(reasons.sorted { $0.key < $1.key })")
                #expect(accepted.isEmpty, "accepted tampered links: \(accepted.prefix(10))")
                // The contract answers 200 for refused links too (`malformed` for a broken target).
                #expect(reasons.keys.filter { $0.hasPrefix("HTTP ") }.isEmpty, "\(reasons)")
                #expect(client.connectionsOpened == 1, "the checks did not stay on one keep-alive connection")
                let longest = links.map(\.url.count).max() ?? 0
                #expect(covered == Set(0..<longest))
            }
        }
    }
}
