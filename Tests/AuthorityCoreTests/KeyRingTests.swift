import AuthorityCore
import AuthorityTesting
import Testing

@Suite struct KeyRingTests {
    let t: Int64 = 1_800_000_000

    func ring() throws -> KeyRing {
        try KeyRing(records: [KeyRecord(epoch: 1, publicKey: Fixtures.key.publicKey, status: .active, createdAt: t)])
    }

    @Test func rotationMakesOneActiveAndKeepsRetireAfter() throws {
        var ring = try ring()
        try ring.noteIssued(epoch: 1, expiresAt: t + 600)
        let epoch = ring.rotate(to: Fixtures.otherKey.publicKey, now: t + 10)
        #expect(epoch == 2)
        #expect(ring.activeEpoch == 2)
        #expect(ring.records[1]?.status == .verifyOnly)
        #expect(ring.records[1]?.retireAfter == t + 600)
        #expect(ring.records.values.filter { $0.status == .active }.count == 1)
        #expect(ring.rotate(to: SigningKey.generate().publicKey, now: t + 20) == 3)
    }

    @Test func retirementRules() throws {
        var ring = try ring()
        try ring.noteIssued(epoch: 1, expiresAt: t + 600)
        ring.rotate(to: Fixtures.otherKey.publicKey, now: t)
        #expect(throws: KeyRingError.cannotRetireActive(2)) { try ring.retire(epoch: 2, force: true, now: t) }
        #expect(throws: KeyRingError.unknownEpoch(9)) { try ring.retire(epoch: 9, force: false, now: t) }
        #expect(throws: KeyRingError.liveLinks(epoch: 1, until: t + 600)) {
            try ring.retire(epoch: 1, force: false, now: t + 599)
        }
        #expect(ring.dueForRetirement(now: t + 599).isEmpty)
        #expect(ring.dueForRetirement(now: t + 600) == [1])
        try ring.retire(epoch: 1, force: false, now: t + 600)
        #expect(ring.records[1]?.status == .retired)
        #expect(ring.records[1]?.retiredAt == t + 600)
        #expect(throws: KeyRingError.alreadyRetired(1)) { try ring.retire(epoch: 1, force: true, now: t + 700) }
        #expect(throws: KeyRingError.alreadyRetired(1)) { try ring.noteIssued(epoch: 1, expiresAt: t + 800) }
    }

    @Test func forcedRetirementEndsLiveLinks() throws {
        var ring = try ring()
        try ring.noteIssued(epoch: 1, expiresAt: t + 600)
        ring.rotate(to: Fixtures.otherKey.publicKey, now: t)
        try ring.retire(epoch: 1, force: true, now: t + 1)
        #expect(ring.verificationKey(epoch: 1)?.retired == true)
        #expect(ring.verificationKey(epoch: 2)?.retired == false)
        #expect(ring.verificationKey(epoch: 3) == nil)
    }

    @Test func refusesInconsistentRecords() {
        let key = Fixtures.key.publicKey
        #expect(throws: KeyRingError.self) {
            try KeyRing(records: [
                KeyRecord(epoch: 1, publicKey: key, status: .active, createdAt: t),
                KeyRecord(epoch: 2, publicKey: key, status: .active, createdAt: t),
            ])
        }
        #expect(throws: KeyRingError.self) {
            try KeyRing(records: [
                KeyRecord(epoch: 1, publicKey: key, status: .active, createdAt: t),
                KeyRecord(epoch: 2, publicKey: key, status: .verifyOnly, createdAt: t),
            ])
        }
        #expect(throws: KeyRingError.self) {
            try KeyRing(records: [
                KeyRecord(epoch: 1, publicKey: key, status: .active, createdAt: t),
                KeyRecord(epoch: 1, publicKey: key, status: .retired, createdAt: t),
            ])
        }
    }
}

@Suite struct RevocationIndexTests {
    let id = LinkID.random()

    @Test(arguments: [
        ("/a/b", "/a/b", true), ("/a/b", "/a/b/c", true), ("/a/b", "/a/bc", false), ("/a/b", "/a", false),
        ("/a/b/", "/a/b", false), ("/a/b/", "/a/b/", true), ("/a/b/", "/a/b/c/d", true), ("/", "/", true),
        ("/", "/x/y", true), ("/a/b", "/a/b/", true), ("/a%20b/", "/a%20b/c", true), ("/a%20b/", "/a+b/c", false),
    ])
    func prefixRule(prefix: String, path: String, revoked: Bool) {
        let index = RevocationIndex([.prefix(prefix)])
        #expect(index.isRevoked(id: id, path: path, issuedAt: 100) == revoked)
        // Same rule as a prefix link's coverage.
        #expect(LinkGrant.path(path, isUnder: prefix) == revoked)
    }

    @Test func issuedBeforeTakesTheLatestCutoff() {
        var index = RevocationIndex()
        index.insert(.issuedBefore(100, prefix: "/a/"))
        index.insert(.issuedBefore(50, prefix: "/a/"))
        #expect(index.isRevoked(id: id, path: "/a/x", issuedAt: 99))
        #expect(!index.isRevoked(id: id, path: "/a/x", issuedAt: 100))
        index.insert(.issuedBefore(200, prefix: "/a/b"))
        #expect(index.isRevoked(id: id, path: "/a/b/c", issuedAt: 150))
        #expect(!index.isRevoked(id: id, path: "/a/c", issuedAt: 150))
        #expect(index.count == 3)
    }

    @Test func manyRevocationsStillFindTheRightOnes() {
        var index = RevocationIndex()
        var ids: [LinkID] = []
        for n in 0..<20_000 {
            let revoked = LinkID.random()
            ids.append(revoked)
            index.insert(.id(revoked))
            if n % 10 == 0 { index.insert(.prefix("/p\(n)/")) }
        }
        #expect(index.idCount == 20_000)
        #expect(ids.allSatisfy { index.isRevoked(id: $0, path: "/x", issuedAt: 0) })
        #expect(!index.isRevoked(id: .random(), path: "/p1/x", issuedAt: 0))
        #expect(index.isRevoked(id: .random(), path: "/p10/x", issuedAt: 0))
    }
}
