import AuthorityStore
import Logging
import ServiceLifecycle

/// Writes what the checks saw (`Checker.activity`) to the links' records about once a second, on
/// the write pool: a check writes nothing itself. A link's first allowed check without a use
/// limit becomes its `first_used` event here; the last flush runs at shutdown (`Authority`).
public struct ActivityService: Service, CustomStringConvertible {
    let authority: Authority
    public var description: String { "ActivityService" }

    public init(authority: Authority) { self.authority = authority }

    public func run() async throws {
        await runEvery(.seconds(1)) { await tick() }
    }

    /// One flush; tests call it directly.
    public func tick() async {
        let runtime = authority.runtime
        do {
            try await runtime.pools.writes.runIfActive { [authority] in try authority.flushActivity() }
        } catch {
            if authority.errors.storageTrouble(error) == nil {
                runtime.logger.error("the checks' activity could not be recorded", metadata: ["error": "\(error)"])
            }
        }
    }
}

extension Authority {
    /// Writes the activity noted since the last flush (blocking: on the write pool, or at shutdown).
    /// What a failed write held is lost: it told of checks, it was never an acknowledged write.
    func flushActivity() throws {
        // In the order of the first allowed checks (`take`), so the writes and their first_used
        // events follow the uses.
        let (activity, dropped) = checker.activity.take()
        if dropped > 0 {
            runtime.logger.warning(
                "more links were checked within a second than the activity log holds; some checks were not noted",
                metadata: ["checks.not_noted": "\(dropped)", "log.limit": "\(checker.activity.limit)"])
        }
        // In writes of at most 1,000 links each: in fleet mode a write holds the commit lock that
        // every daemon's uses, issues and revocations wait for.
        for write in activity.chunks(of: 1_000) { try store.recordActivity(Array(write)) }
        let refs = checker.refs
        let notHeld = refs.prune(now: runtime.clock())
        if notHeld > 0 {
            runtime.logger.warning(
                "more live links have a ref than the ref book holds; the answers of those it does not hold (the soonest to expire) lack X-Authority-Ref",
                metadata: ["links.not_held": "\(notHeld)", "book.limit": "\(refs.limit)"])
        }
        // A fleet's links issued by other daemons: their refs, once they were checked here.
        guard store.secondsSinceSync != nil else { return }
        let missing = refs.missing(activity.map(\.id))
        for chunk in missing.chunks(of: 500) {
            let asked = Array(chunk)
            let found = try store.refs(of: asked, now: runtime.clock(), limit: asked.count)
            refs.add(found)
            // No record here, or expired: not asked about again until the book forgets them.
            let answered = Set(found.map(\.id))
            refs.noteAbsent(asked.filter { !answered.contains($0) })
        }
    }
}
