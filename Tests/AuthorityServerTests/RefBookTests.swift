import AuthorityCore
import Testing

@testable import AuthorityServer

/// The refs behind `X-Authority-Ref`: bounded (the soonest to expire make room), pruned by expiry
/// minute, and links looked up without a ref to hold remembered apart for a while (so a fleet
/// daemon does not ask the store about them at every flush).
@Suite struct RefBookTests {
    let t0: Int64 = 1_800_000_000

    @Test func expiredLinksArePrunedAndLaterOnesKept() {
        let book = RefBook()
        let (soon, later, none) = (LinkID.random(), LinkID.random(), LinkID.random())
        book.add(soon, ref: "a", expiresAt: t0 + 30)
        book.add(later, ref: "b", expiresAt: t0 + 600)
        book.add(none, ref: nil, expiresAt: t0 + 600)
        #expect(book.ref(for: soon) == "a" && book.ref(for: none) == nil && book.count == 2)
        #expect(book.missing([soon, none, .random()]).count == 1)  // known to have none: not missing
        book.prune(now: t0 + 10)
        #expect(book.count == 2)
        book.prune(now: t0 + 120)
        #expect(book.ref(for: soon) == nil && book.ref(for: later) == "b" && book.count == 1)
        // Held again with a later expiry: the earlier minute's pruning leaves it.
        book.add(later, ref: "b", expiresAt: t0 + 7_200)
        book.prune(now: t0 + 700)
        #expect(book.ref(for: later) == "b" && book.count == 1)
        // A link added after its minute was pruned is dropped at the next prune.
        let late = LinkID.random()
        book.add(late, ref: "c", expiresAt: t0 + 650)
        book.prune(now: t0 + 780)
        #expect(book.ref(for: late) == nil)
        book.prune(now: t0 + 7_300)
        #expect(book.count == 0)
        // What it remembered as without a ref is forgotten after `absentFor`: asked about again.
        #expect(book.missing([none]) == [none])
    }

    @Test func aFullBookDropsTheSoonestToExpireAndSaysHowMany() {
        let book = RefBook(limit: 2)
        let (early, late) = (LinkID.random(), LinkID.random())
        book.add([(early, "e", t0 + 60), (late, "l", t0 + 6_000)])
        let newer = LinkID.random()
        book.add(newer, ref: "n", expiresAt: t0 + 3_000)  // takes the place of the soonest
        #expect(book.count == 2 && book.ref(for: early) == nil && book.ref(for: newer) == "n" && book.ref(for: late) == "l")
        let sooner = LinkID.random()
        book.add(sooner, ref: "s", expiresAt: t0 + 10)  // expires before every held one: not taken in
        #expect(book.ref(for: sooner) == nil && book.missing([sooner]).isEmpty)
        book.add(late, ref: "again", expiresAt: t0 + 6_000)  // one it holds: updated in place
        #expect(book.ref(for: late) == "again")
        #expect(book.prune(now: t0) == 2 && book.prune(now: t0) == 0)
    }

    @Test func linksLookedUpWithoutARefAreNotAskedAgainForAWhile() {
        let book = RefBook(limit: 3)
        let ids = (0..<3).map { _ in LinkID.random() }
        book.prune(now: t0)
        book.noteAbsent(ids)
        #expect(book.missing(ids).isEmpty)
        book.prune(now: t0 + 599)
        #expect(book.missing(ids).isEmpty)
        book.prune(now: t0 + 600)
        #expect(book.missing(ids) == ids)
        // Bounded: past `limit` remembered ids it starts again.
        book.noteAbsent(ids + [.random()])
        #expect(book.missing(ids).count == 3)
    }
}
