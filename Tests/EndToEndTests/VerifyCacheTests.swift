import AuthorityAPI
import AuthorityTesting
import Foundation
import Testing

extension EndToEnd {
    /// The verification cache over the socket: repeated checks hit it, and a revocation still
    /// refuses a cached link on the very next check.
    @Suite(.serialized) struct VerifyCache {
        @Test func repeatedChecksHitAndARevocationStillRefuses() async throws {
            try await DaemonProcess.with(arguments: ["--verify-cache-entries", "1024"]) { daemon in
                let client = daemon.client()
                let link = try client.issue("/hls/live/playlist.m3u8")
                for _ in 0..<3 { #expect(try client.reason(link.url) == "ok") }
                _ = try client.revoke(RevokeRequest(id: link.id))
                #expect(try client.reason(link.url) == "revoked")
                let metrics = try client.get("/metrics")
                #expect(metrics.status == 200)
                // The first check verifies; the next two and the revoked one find the signature cached.
                #expect(Self.value(of: "authority_verify_cache_hits_total", in: metrics.text) == 3, "\(metrics.text)")
                #expect(Self.value(of: "authority_verify_cache_misses_total", in: metrics.text) == 1)
            }
        }

        /// The value of an unlabelled series in Prometheus text format.
        static func value(of name: String, in text: String) -> Int? {
            text.split(separator: "\n").lazy.compactMap { line -> Int? in
                let parts = line.split(separator: " ")
                return parts.count == 2 && parts[0] == name ? Int(parts[1]) : nil
            }.first
        }
    }
}
