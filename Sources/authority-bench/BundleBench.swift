import ArgumentParser
import AuthorityCore
import AuthorityEdge
import AuthorityTesting
import Foundation
import Glibc

/// `--bundle-sizes 0,1000,10000`: revoked-id counts for the bundle scenarios, ascending and at
/// least 100 apart (each size's delta adds 100 revocations before the next fill).
struct BundleSizes: ExpressibleByArgument, Equatable {
    var sizes: [Int]

    init(_ sizes: [Int]) { self.sizes = sizes }

    /// Comma-separated counts (spaces allowed), 0 to 10^7, each at least 100 above the one
    /// before; nil otherwise.
    init?(argument: String) {
        let parts = argument.split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        var sizes: [Int] = []
        for part in parts {
            guard let size = Int(part), (0...10_000_000).contains(size), size >= (sizes.last.map { $0 + 100 } ?? 0) else {
                return nil
            }
            sizes.append(size)
        }
        guard !sizes.isEmpty else { return nil }
        self.sizes = sizes
    }
}

/// The revocations to add to reach `target` revoked ids: the ids missing, and prefix revocations
/// (under `/bench/revoked/`) up to 1 % of the target, as the check scenarios' fill has.
struct BundleFillPlan: Equatable {
    var ids: Int
    var prefixes: Int

    init(haveIDs: Int, havePrefixes: Int, target: Int) {
        ids = max(0, target - haveIDs)
        prefixes = max(0, target / 100 - havePrefixes)
    }
}

/// The median of `values` (the mean of the middle two for an even count); 0 for none.
func median(_ values: [Double]) -> Double {
    guard !values.isEmpty else { return 0 }
    let sorted = values.sorted()
    let middle = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

/// What the bundle scenarios measured at one size.
struct BundleFigures {
    /// Revoked ids and prefix rules in the full bundle.
    var ids = 0
    var rules = 0
    /// The fill through `POST /v1/revocations` that brought the daemon to this size.
    var filled = 0
    var fillSeconds = 0.0
    var fullBytes = 0
    /// Wall seconds of the first `GET /v1/revocations/bundle` after the fill: the daemon encodes
    /// and hashes the content, signs, and sends; and the daemon's CPU for it.
    var buildSeconds = 0.0
    var buildCPUSeconds = 0.0
    /// The same again (content cached: sign and send only), median wall seconds and mean CPU.
    var cachedSeconds = 0.0
    var cachedCPUSeconds = 0.0
    var jsonBytes = 0
    var jsonSeconds = 0.0
    /// `?since=<serial of the full bundle>` after 100 more revocations by id.
    var deltaAdded = 0
    var deltaBytes = 0
    var deltaJSONBytes = 0
    /// The first delta answer (the new content is encoded and hashed for its digest) and a second.
    var deltaSeconds = 0.0
    var deltaCachedSeconds = 0.0
    var freshnessBytes = 0
    var freshnessJSONBytes = 0
    var freshnessSeconds = 0.0
    /// In process, at the edge: `BundleObject(binary:)`, `BundleHolder.accept` of the full bundle
    /// and of the delta.
    var parseSeconds = 0.0
    var acceptSeconds = 0.0
    var deltaAcceptSeconds = 0.0
    /// `Held.isRevoked(id:)`, nanoseconds per lookup (median of the rounds), and how many.
    var lookupNanoseconds = 0.0
    var lookups = 0
    /// `BundleHolder.check` of a link the daemon issued (Ed25519 verify included), seconds per
    /// check (median of the rounds), and how many.
    var checkSeconds = 0.0
    var checks = 0
    var rounds = 0
}

/// The revocation bundle's scenarios (issue #15): a daemon of its own, filled through the API to
/// each size in turn; at each size the full bundle (first answer, cached answer, JSON twin), a
/// delta of 100 revocations, the freshness object, and the edge's costs in this process (parse,
/// accept, lookup, check). Every answer is checked; a wrong one fails the run.
struct BundleBench {
    let daemon: BenchDaemon
    let connections: Int
    let sizes: [Int]
    /// `isRevoked` calls and `check` calls per size and round; rounds alternate over the sizes.
    let lookups: Int
    let checks: Int
    let rounds: Int

    func log(_ text: String) {
        FileHandle.standardError.write(Data("authority-bench: bundle: \(text)\n".utf8))
    }

    /// What the edge keeps of one size for the lookup and check rounds at the end.
    private struct Held {
        var holder: BundleHolder
        /// The clock the edge checks at: the bundle's `issued_at`, so that it is fresh however
        /// long the later sizes take.
        var at: Int64
        /// The first `ids` of `revoked` are in the bundle.
        var ids: Int
    }

    func run(into report: inout Report) throws {
        try FileManager.default.createDirectory(atPath: daemon.directory, withIntermediateDirectories: true)
        try daemon.start()
        defer { try? daemon.stop() }
        let client = UnixHTTPClient(path: daemon.socketPath, timeout: 300)
        let keys = try JSONWebKeys(json: try expect(client.get("/v1/keys"), 200, "GET /v1/keys").body)
        // Two links issued before any revocation (so the revocations are kept: a revocation lives
        // as long as a link of its epoch can): `good` is never revoked; `doomed` is the first id
        // revoked, from the first size above 0 on.
        let good = try issue(client, resource: "/bench/bundle/good")
        let doomed = try issue(client, resource: "/bench/bundle/doomed")

        var revoked: [LinkID] = []
        var prefixes = 0
        var held: [Held] = []
        for size in sizes {
            log("\(size) revoked ids")
            var figures = BundleFigures()
            let plan = BundleFillPlan(haveIDs: revoked.count, havePrefixes: prefixes, target: size)
            let first = revoked.count
            for _ in 0..<plan.ids { revoked.append(revoked.isEmpty ? doomed.id : LinkID.random()) }
            let firstPrefix = prefixes
            figures.filled = plan.ids + plan.prefixes
            figures.fillSeconds = try revoke(
                count: plan.ids + plan.prefixes,
                request: { index in
                    index < plan.prefixes
                        ? Requests.revoke(prefix: "/bench/revoked/\(firstPrefix + index)/")
                        : Requests.revoke(id: revoked[first + index - plan.prefixes].description)
                }, what: "filling to \(size)")
            prefixes += plan.prefixes

            // The full bundle, twice (built, then cached), and its JSON twin.
            let pid = try daemon.pid
            let cpuBefore = try ProcessSample.of(pid).cpuSeconds
            let (full, buildSeconds) = try timed { try get(client, "/v1/revocations/bundle") }
            figures.buildCPUSeconds = try ProcessSample.of(pid).cpuSeconds - cpuBefore
            figures.buildSeconds = buildSeconds
            figures.fullBytes = full.count
            var cachedWalls: [Double] = []
            let cachedCPUBefore = try ProcessSample.of(pid).cpuSeconds
            for _ in 0..<5 {
                let (again, seconds) = try timed { try get(client, "/v1/revocations/bundle") }
                cachedWalls.append(seconds)
                guard again.count == full.count, again[..<9] == full[..<9], again[17..<25] == full[17..<25] else {
                    throw BenchError.scenario("bundle at \(size): a second answer differs in kind, serial or size")
                }
            }
            figures.cachedCPUSeconds = (try ProcessSample.of(pid).cpuSeconds - cachedCPUBefore) / 5
            figures.cachedSeconds = median(cachedWalls)
            let (json, jsonSeconds) = try timed { try get(client, "/v1/revocations/bundle?format=json") }
            figures.jsonBytes = json.count
            figures.jsonSeconds = jsonSeconds

            // The edge: parse, accept, and check what it holds against what was revoked.
            let (object, parseSeconds) = try timed { try BundleObject(binary: full) }
            figures.parseSeconds = parseSeconds
            guard object.kind == 1, full[8] == 1, case .full(let content) = object.body else {
                throw BenchError.scenario("bundle at \(size): kind \(full[8]), not a full bundle")
            }
            figures.ids = content.ids.count
            figures.rules = content.rules.count
            guard content.ids.count == size, content.rules.count == prefixes else {
                throw BenchError.scenario(
                    "bundle at \(size): \(content.ids.count) ids and \(content.rules.count) rules, wanted \(size) and \(prefixes)")
            }
            let twin = try BundleObject(json: Data(json))
            // Signed for each answer: the two may be a second apart, so compare what they state.
            guard Self.sameState(twin, object) else {
                throw BenchError.scenario("bundle at \(size): the JSON twin differs from the binary form")
            }
            let at = object.statement.issuedAt
            var holder = BundleHolder()
            let (_, acceptSeconds) = try timed {
                try holder.accept(object, key: keys.bundleKey(epoch: object.statement.epoch), now: at)
            }
            figures.acceptSeconds = acceptSeconds
            guard let state = holder.held else { throw BenchError.scenario("bundle at \(size): accepted, but nothing held") }
            if let missing = revoked.prefix(size).first(where: { !state.isRevoked(id: $0) }) {
                throw BenchError.scenario("bundle at \(size): revoked id \(missing) is not in the bundle")
            }
            if let found = (0..<1_000).lazy.map({ _ in LinkID.random() }).first(where: { state.isRevoked(id: $0) }) {
                throw BenchError.scenario("bundle at \(size): random id \(found) is in the bundle")
            }
            try checkLinks(holder, keys: keys, at: at, good: good, doomed: doomed, doomedRevoked: size > 0, size: size)
            held.append(Held(holder: holder, at: at, ids: size))

            // A delta of 100 revocations by id.
            let base = revoked.count
            for _ in 0..<100 { revoked.append(revoked.isEmpty ? doomed.id : LinkID.random()) }
            let added = Array(revoked[base...])
            _ = try revoke(count: added.count, request: { Requests.revoke(id: added[$0].description) }, what: "the delta's 100")
            let since = "/v1/revocations/bundle?since=\(object.statement.serial)"
            let (delta, deltaSeconds) = try timed { try get(client, since) }
            let (_, deltaCachedSeconds) = try timed { try get(client, since) }
            let deltaJSON = try get(client, since + "&format=json")
            figures.deltaBytes = delta.count
            figures.deltaJSONBytes = deltaJSON.count
            figures.deltaSeconds = deltaSeconds
            figures.deltaCachedSeconds = deltaCachedSeconds
            let deltaObject = try BundleObject(binary: delta)
            guard delta[8] == 2, case .delta(let changes) = deltaObject.body else {
                throw BenchError.scenario("delta at \(size): kind \(delta[8]), not a delta (2)")
            }
            figures.deltaAdded = changes.addedIDs.count
            guard changes.baseSerial == object.statement.serial, Set(changes.addedIDs) == Set(added), changes.removedIDs.isEmpty,
                changes.setRules.isEmpty, changes.removedRules.isEmpty
            else {
                throw BenchError.scenario(
                    "delta at \(size): base \(changes.baseSerial), \(changes.addedIDs.count) ids added, wanted the 100 revoked")
            }
            guard Self.sameState(try BundleObject(json: Data(deltaJSON)), deltaObject) else {
                throw BenchError.scenario("delta at \(size): the JSON twin differs from the binary form")
            }
            var next = holder
            let (_, deltaAcceptSeconds) = try timed {
                try next.accept(deltaObject, key: keys.bundleKey(epoch: deltaObject.statement.epoch), now: deltaObject.statement.issuedAt)
            }
            figures.deltaAcceptSeconds = deltaAcceptSeconds
            guard let after = next.held, after.content.ids.count == size + 100, added.allSatisfy(after.isRevoked(id:)) else {
                throw BenchError.scenario("delta at \(size): the held state after it lacks the 100 ids")
            }

            // Freshness: the statement alone.
            var freshnessWalls: [Double] = []
            var freshness: [UInt8] = []
            for _ in 0..<21 {
                let (answer, seconds) = try timed { try get(client, "/v1/revocations/bundle/freshness") }
                freshness = answer
                freshnessWalls.append(seconds)
            }
            figures.freshnessSeconds = median(freshnessWalls)
            figures.freshnessBytes = freshness.count
            figures.freshnessJSONBytes = try get(client, "/v1/revocations/bundle/freshness?format=json").count
            let fresh = try BundleObject(binary: freshness)
            guard freshness[8] == 3, fresh.statement.serial == deltaObject.statement.serial,
                fresh.statement.digest == deltaObject.statement.digest,
                try next.accept(fresh, key: keys.bundleKey(epoch: fresh.statement.epoch), now: fresh.statement.issuedAt) == .ok
            else {
                throw BenchError.scenario("freshness at \(size): kind \(freshness[8]), serial \(fresh.statement.serial), not the delta's state")
            }
            report.bundles.append(figures)
        }
        try daemon.stop()

        // The edge's lookup and check, in rounds over every size in turn, so that the machine's
        // drift falls on every size alike; medians of the rounds.
        log("edge lookups and checks, \(rounds) rounds over \(sizes.count) sizes")
        var lookupRounds = [[Double]](repeating: [], count: held.count)
        var checkRounds = [[Double]](repeating: [], count: held.count)
        let queries = held.map { Self.queries(count: lookups, present: revoked.prefix($0.ids)) }
        let request = LinkRequest(target: good.url)
        for _ in 0..<rounds {
            for (index, state) in held.enumerated() {
                lookupRounds[index].append(try Self.lookupNanoseconds(state.holder.held!, queries[index]))
                checkRounds[index].append(try Self.checkSeconds(state.holder, request, keys: keys, at: state.at, count: checks))
            }
        }
        for index in held.indices {
            report.bundles[index].lookupNanoseconds = median(lookupRounds[index])
            report.bundles[index].lookups = lookups * rounds
            report.bundles[index].checkSeconds = median(checkRounds[index])
            report.bundles[index].checks = checks * rounds
            report.bundles[index].rounds = rounds
        }
    }

    private struct IssuedLink {
        var url: String
        var id: LinkID
    }

    private func issue(_ client: UnixHTTPClient, resource: String) throws -> IssuedLink {
        let body = Data("{\"resource\":\"\(resource)\",\"ttl\":86400}".utf8)
        let answer = try expect(
            client.request("POST", "/v1/links", body: body, headers: [("Content-Type", "application/json")]), 201, "issue")
        guard let url = Requests.member("url", in: answer.text), let id = Requests.member("id", in: answer.text).flatMap(LinkID.init)
        else { throw BenchError.scenario("issue answered \(answer.text.prefix(200))") }
        return IssuedLink(url: url, id: id)
    }

    /// Revocations through the load driver; the wall seconds they took.
    private func revoke(count: Int, request: (Int) -> [UInt8], what: String) throws -> Double {
        guard count > 0 else { return 0 }
        let driver = LoadDriver(socketPath: daemon.socketPath, connections: min(connections, count))
        let run = try driver.run(count: count, seconds: 3_600, request: request) { _, answer in
            answer.status == 201 ? nil : "revoke answered \(answer.status): \(answer.text.prefix(200))"
        }
        guard run.failures == 0, run.completed == count else {
            throw BenchError.scenario("\(what): \(run.completed) of \(count) revocations, \(run.failures) refused (\(run.firstFailure ?? ""))")
        }
        return run.seconds
    }

    private func get(_ client: UnixHTTPClient, _ target: String) throws -> [UInt8] {
        let response: HTTPResponse
        do { response = try client.get(target) } catch { throw BenchError.scenario("GET \(target): \(error)") }
        return Array(try expect(response, 200, "GET \(target)").body)
    }

    private func expect(_ response: HTTPResponse, _ status: Int, _ what: String) throws -> HTTPResponse {
        guard response.status == status else {
            throw BenchError.scenario("\(what) answered \(response.status), not \(status): \(response.text.prefix(200))")
        }
        return response
    }

    /// The edge's reasons: the good link passes; the doomed one is `revoked` once its id is in.
    private func checkLinks(
        _ holder: BundleHolder, keys: JSONWebKeys, at: Int64, good: IssuedLink, doomed: IssuedLink, doomedRevoked: Bool,
        size: Int
    ) throws {
        let passed = holder.check(LinkRequest(target: good.url), keys: keys, now: at)
        let refused = holder.check(LinkRequest(target: doomed.url), keys: keys, now: at)
        guard passed.reason == .link(.ok), refused.reason == EdgeVerdict.Reason.link(doomedRevoked ? .revoked : .ok) else {
            throw BenchError.scenario(
                "edge check at \(size): good link \(passed.reason.code), revoked link \(refused.reason.code) (wanted ok, \(doomedRevoked ? "revoked" : "ok"))")
        }
    }

    /// `count` ids to look up: one in eight from `present` (when there are any), the rest random.
    /// The same state in both: kind, body, serial, digest and signing epoch (the times and the
    /// signature belong to each answer).
    static func sameState(_ one: BundleObject, _ other: BundleObject) -> Bool {
        one.body == other.body && one.statement.serial == other.statement.serial
            && one.statement.digest == other.statement.digest && one.statement.epoch == other.statement.epoch
    }

    static func queries(count: Int, present: ArraySlice<LinkID>) -> (ids: [LinkID], hits: Int) {
        var ids: [LinkID] = []
        ids.reserveCapacity(count)
        var hits = 0
        var generator = SystemRandomNumberGenerator()
        for index in 0..<count {
            if !present.isEmpty, index % 8 == 0 {
                ids.append(present[present.startIndex + Int.random(in: 0..<present.count, using: &generator)])
                hits += 1
            } else {
                ids.append(LinkID(high: generator.next(), low: generator.next()))
            }
        }
        return (ids, hits)
    }

    /// CPU nanoseconds (this thread's, as for raw libsodium: time the machine gives to others
    /// is not counted) per `isRevoked`; throws unless exactly the present ids were found.
    static func lookupNanoseconds(_ held: BundleHolder.Held, _ queries: (ids: [LinkID], hits: Int)) throws -> Double {
        let started = threadCPUSeconds()
        var hits = 0
        for id in queries.ids where held.isRevoked(id: id) { hits += 1 }
        let elapsed = (threadCPUSeconds() - started) * 1e9
        guard hits == queries.hits else {
            throw BenchError.scenario("edge lookup with \(held.content.ids.count) ids: \(hits) found, wanted \(queries.hits)")
        }
        return elapsed / Double(max(queries.ids.count, 1))
    }

    /// CPU seconds (this thread's) per `BundleHolder.check` of a valid link; throws unless every
    /// check passes.
    static func checkSeconds(_ holder: BundleHolder, _ request: LinkRequest, keys: JSONWebKeys, at: Int64, count: Int) throws -> Double {
        let started = threadCPUSeconds()
        var passed = 0
        for _ in 0..<count where holder.check(request, keys: keys, now: at).isValid { passed += 1 }
        let elapsed = threadCPUSeconds() - started
        guard passed == count else { throw BenchError.scenario("edge check: \(passed) of \(count) passed") }
        return elapsed / Double(max(count, 1))
    }
}

/// `body()` and its wall seconds.
func timed<T>(_ body: () throws -> T) rethrows -> (T, Double) {
    let started = now()
    let value = try body()
    return (value, Double(now() - started) / 1e9)
}
