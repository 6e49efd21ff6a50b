import AuthorityCore
import AuthorityStore
import Foundation
import Testing

@testable import AuthorityServer

/// The revocation bundle as the daemon publishes it (docs/revocation-bundle.md): every delta,
/// applied to the state it starts from, gives exactly the full bundle of the same moment (the
/// signed digest says so), whatever mix of changes came between.
@Suite struct BundlePublisherTests {
    static func request(since: Int64? = nil, json: Bool = false) -> BundlePublisher.Request {
        BundlePublisher.Request(kind: .bundle(since: since), json: json, ifNoneMatch: nil)
    }

    static func object(_ answer: BundlePublisher.Answer) throws -> BundleObject { try BundleObject(binary: answer.bytes) }

    /// A holder that has accepted `full` (with the key ring's key of its epoch).
    static func holder(_ full: BundleObject, ring: KeyRing, now: Int64) throws -> BundleHolder {
        var holder = BundleHolder()
        try holder.accept(full, key: ring.verificationKey(epoch: full.statement.epoch)?.key, now: now)
        return holder
    }

    @Test func everyDeltaLeadsFromItsBaseToTheFullBundleOfTheSameMoment() throws {
        let test = try TestAuthority()
        let bundles = test.authority.bundles
        let now = test.now
        var fulls: [BundleObject] = [try Self.object(bundles.make(Self.request()))]
        var generator = SystemRandomNumberGenerator()
        var serials: [Int64] = []
        for step in 0..<60 {
            switch step % 10 {
            case 0, 1, 2, 3: try test.store.revoke(.id(LinkID.random()), reason: nil, now: now, caller: .daemon)
            case 4: try test.store.revoke(.prefix("/p\(step % 3)/"), reason: nil, now: now, caller: .daemon)
            case 5: try test.store.revoke(.issuedBefore(now - Int64.random(in: 0...100, using: &generator), prefix: "/q\(step % 4)"), reason: nil, now: now, caller: .daemon)
            case 6:
                let listed = try test.store.listRevocations(after: 0, limit: 1_000)
                if let victim = listed.randomElement(using: &generator) {
                    _ = try test.store.liftRevocation(serial: victim.id, reason: nil, now: now, caller: .daemon)
                }
            case 7: _ = try test.store.rotate(now: now, caller: .daemon)
            case 8:
                if let epoch = test.store.keyRing.sorted.first(where: { $0.status == .verifyOnly })?.epoch {
                    try test.store.retire(epoch: epoch, force: true, now: now, caller: .daemon)
                }
            default:
                // No link was issued, so revocations by id may go at once: a collection removes them.
                let collected = try test.store.collectRevocations(now: now + 1)
                #expect(collected > 0)
            }
            let full = try Self.object(bundles.make(Self.request()))
            serials.append(full.statement.serial)
            // The full bundle says what the state is: the same as the daemon's own index.
            guard case .full(let content) = full.body else { throw BundleError.badFormat("not full") }
            #expect(content == BundleContent(keyRing: test.authority.state.keyRing, revocations: test.authority.state.revocations))
            // From every earlier state (a random few, and always the last), a delta or a full
            // bundle that leads to exactly this state.
            for base in Array(fulls.shuffled(using: &generator).prefix(4)) + [fulls.last!] {
                var holder = try Self.holder(base, ring: test.authority.state.keyRing, now: now)
                let answer = try Self.object(bundles.make(Self.request(since: base.statement.serial)))
                if case .delta = answer.body {} else { Issue.record("no delta from \(base.statement.serial) (step \(step))") }
                try holder.accept(answer, key: test.authority.state.keyRing.verificationKey(epoch: answer.statement.epoch)?.key, now: now)
                #expect(holder.held?.digest == full.statement.digest)
                #expect(holder.held?.content == content)
            }
            fulls.append(full)
        }
        #expect(zip(serials, serials.dropFirst()).allSatisfy { $0 <= $1 }, "serials went back: \(serials)")
        #expect(Set(serials).count > 40, "the serial did not follow the changes")
    }

    @Test func aSerialNeverPublishedOrFromBeforeTheJournalGetsAFullBundle() throws {
        let test = try TestAuthority()
        let bundles = test.authority.bundles
        let first = try Self.object(bundles.make(Self.request())).statement.serial
        try test.store.revoke(.id(LinkID.random()), reason: nil, now: test.now, caller: .daemon)
        let second = try Self.object(bundles.make(Self.request())).statement.serial
        #expect(second > first)
        for since in [first - 1, second + 1, Int64.max, 0] {
            let answer = try Self.object(bundles.make(Self.request(since: since)))
            guard case .full = answer.body else { Issue.record("since \(since) answered \(answer.kindName)"); continue }
        }
        guard case .delta(let changes) = try Self.object(bundles.make(Self.request(since: first))).body else {
            Issue.record("no delta from the first state")
            return
        }
        #expect(changes.addedIDs.count == 1)
        guard case .delta(let none) = try Self.object(bundles.make(Self.request(since: second))).body else {
            Issue.record("no empty delta from the current state")
            return
        }
        #expect(none.isEmpty)
    }

    @Test func aRetireMarkRaisedLeavesTheSerialAlone() throws {
        let test = try TestAuthority()
        let bundles = test.authority.bundles
        let before = try Self.object(bundles.make(Self.request())).statement
        // An issue raises the epoch's retire mark: a key ring change the bundle does not show.
        try test.store.noteIssued(epoch: test.authority.state.signing.epoch, expiresAt: test.now + 86_400 * 30)
        let after = try Self.object(bundles.make(Self.request())).statement
        #expect(test.store.version.serial > before.serial)
        #expect(after.serial == before.serial)
        #expect(after.digest == before.digest)
    }

    @Test func ifNoneMatchWithTheCurrentSerialIsNotModified() throws {
        let test = try TestAuthority()
        let bundles = test.authority.bundles
        let serial = try Self.object(bundles.make(Self.request())).statement.serial
        for tags in [["\(serial)"], ["*"], ["1", "\(serial)"]] {
            let answer = bundles.make(.init(kind: .bundle(since: nil), json: false, ifNoneMatch: Set(tags)))
            #expect(answer.notModified && answer.bytes.isEmpty, "\(tags)")
        }
        let stale = bundles.make(.init(kind: .bundle(since: nil), json: false, ifNoneMatch: ["\(serial - 1)"]))
        #expect(!stale.notModified)
    }

    @Test func theStatementIsSignedForTheAnswerWithTheConfiguredAge() throws {
        let test = try TestAuthority { $0.bundleMaxAge = 120 }
        let bundles = test.authority.bundles
        let first = try Self.object(bundles.make(Self.request())).statement
        #expect(first.notAfter == first.issuedAt + 120)
        test.now += 50
        let fresh = try Self.object(bundles.make(.init(kind: .freshness, json: false, ifNoneMatch: nil)))
        #expect(fresh.statement.issuedAt == first.issuedAt + 50)
        #expect(fresh.statement.serial == first.serial && fresh.statement.digest == first.digest)
        let key = try #require(test.authority.state.keyRing.verificationKey(epoch: fresh.statement.epoch)?.key)
        #expect(key.isValidSignature(fresh.signature, for: fresh.statement.message))
    }
}
