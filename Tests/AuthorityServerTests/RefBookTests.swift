import AuthorityCore
import Testing

@testable import AuthorityServer

/// The refs behind `X-Authority-Ref`: bounded, pruned by expiry minute, and a link known to have
/// no ref is held as such (so a fleet daemon does not look it up at every flush).
@Suite struct RefBookTests {
    let t0: Int64 = 1_800_000_000

    @Test func expiredLinksArePrunedAndLaterOnesKept() {
        let book = RefBook()
        let (soon, later, none) = (LinkID.random(), LinkID.random(), LinkID.random())
        book.add(soon, ref: "a", expiresAt: t0 + 30)
        book.add(later, ref: "b", expiresAt: t0 + 600)
        book.add(none, ref: nil, expiresAt: t0 + 600)
        #expect(book.ref(for: soon) == "a" && book.ref(for: none) == nil && book.count == 3)
        #expect(book.missing([soon, none, .random()]).count == 1)  // held without a ref is not missing
        book.prune(now: t0 + 10)
        #expect(book.count == 3)
        book.prune(now: t0 + 120)
        #expect(book.ref(for: soon) == nil && book.ref(for: later) == "b" && book.count == 2)
        // Held again with a later expiry: the earlier minute's pruning leaves it.
        book.add(later, ref: "b", expiresAt: t0 + 7_200)
        book.prune(now: t0 + 700)
        #expect(book.ref(for: later) == "b" && book.count == 1)
        book.prune(now: t0 + 7_300)
        #expect(book.count == 0)
    }

    @Test func aFullBookHoldsNoMoreAndSaysHowManyItRefused() {
        let book = RefBook(limit: 2)
        let held = [LinkID.random(), LinkID.random()]
        book.add(held.map { ($0, "r", t0 + 60) })
        let refused = LinkID.random()
        book.add(refused, ref: "x", expiresAt: t0 + 60)
        book.add(held[0], ref: "again", expiresAt: t0 + 90)  // one it holds: updated, not refused
        #expect(book.count == 2 && book.ref(for: refused) == nil && book.ref(for: held[0]) == "again")
        #expect(book.prune(now: t0) == 1 && book.prune(now: t0) == 0)
        book.prune(now: t0 + 200)
        book.add(refused, ref: "x", expiresAt: t0 + 600)  // room again
        #expect(book.ref(for: refused) == "x")
    }
}
