import AuthorityAPI
import AuthorityTesting
import Foundation
import Glibc

/// Event delivery (issue #18, docs/events.md): how long after a use is acknowledged its `used_up`
/// frame reaches a reader of `GET /v1/events` as Server-Sent Events. One stream, opened after the
/// last event kept; `links` use-limited links (one use each) issued beforehand in bulk, then
/// checked one at a time on a keep-alive connection of their own, a check every `interval` (or
/// right after the previous answer, when that is later): latency, not throughput. The checks do
/// not wait for their frames: a daemon that only delivers at a periodic poll would make every
/// check start right after a poll, and wait a whole period (and a second per link). One thread
/// polls both connections and notes when the read that completed the answer, and the one that
/// completed the frame, returned. A daemon without `/v1/events` (404) skips the scenario.
struct EventBench {
    let daemon: BenchDaemon
    /// Connections for the bulk issue.
    let connections: Int
    let links: Int
    /// Seconds the frames may take after the last answer before the missing ones count as missing.
    var frameTimeout = 10.0

    /// Seconds from one check's start to the next's (or its answer, when later): one at a time, at
    /// phases that fall evenly over any periodic work of the daemon (the streams' 1 s poll).
    static let interval = 0.01

    /// What a use of a one-use link writes (docs/events.md), each once.
    static let kindsPerUse = ["first_used", "used", "used_up"]

    func log(_ text: String) { FileHandle.standardError.write(Data("authority-bench: events: \(text)\n".utf8)) }

    func run(into report: inout Report) throws {
        var figures = EventFigures(links: links)
        let client = UnixHTTPClient(path: daemon.socketPath, timeout: 30)
        let probe = try client.get("/v1/events?limit=1")
        if probe.status == 404 {
            log("GET /v1/events answered 404: skipped")
            figures.skipped = "GET /v1/events answered 404 (a daemon without lifecycle events)"
            report.events = figures
            return
        }
        guard probe.status == 200 else { throw BenchError.scenario("GET /v1/events answered \(probe.status): \(probe.text.prefix(200))") }

        log("issue \(links) one-use links")
        var issued: [(url: String, id: String)] = []
        issued.reserveCapacity(links)
        let issue = try LoadDriver(socketPath: daemon.socketPath, connections: min(connections, links)).run(
            count: links, seconds: 3_600,
            request: { Requests.post("/v1/links", json: "{\"resource\":\"/bench/e/\($0)\",\"ttl\":600,\"max_uses\":1}") }
        ) { _, answer in
            guard answer.status == 201, let url = Requests.member("url", in: answer.text), let id = Requests.member("id", in: answer.text)
            else { return "issue answered \(answer.status): \(answer.text.prefix(200))" }
            issued.append((url, id))
            return nil
        }
        guard issue.failures == 0, issued.count == links else {
            throw BenchError.scenario("issuing one-use links: \(issue.firstFailure ?? "\(issued.count) of \(links)")")
        }
        var index: [String: Int] = [:]
        for (position, link) in issued.enumerated() { index[link.id] = position }

        let last = try lastSerial(client)
        figures.startSerial = last
        log("stream from Last-Event-ID \(last); \(links) checks, one at a time")
        let stream = try RawConnection(socket: daemon.socketPath)
        defer { stream.close() }
        try stream.send(Requests.get("/v1/events", headers: [("Accept", "text/event-stream"), ("Last-Event-ID", "\(last)")]))
        var decoder = try openStream(stream)
        let checks = try RawConnection(socket: daemon.socketPath)
        defer { checks.close() }

        // Per link: when its answer and its used_up frame arrived (ns, monotonic), the frames it got.
        var answeredAt = [UInt64?](repeating: nil, count: links)
        var usedUpAt = [UInt64?](repeating: nil, count: links)
        var frames = [[String]](repeating: [], count: links)
        var received = 0
        var checkInput: [UInt8] = []
        var roundTrips: [UInt64] = []
        roundTrips.reserveCapacity(links)
        var currentLink = 0

        /// Reads what either connection has within `milliseconds`; returns the answer if one completed.
        func pump(milliseconds: Int32) throws -> Answer? {
            var entries = [pollfd(fd: stream.fd, events: Int16(POLLIN), revents: 0), pollfd(fd: checks.fd, events: Int16(POLLIN), revents: 0)]
            let ready = poll(&entries, 2, milliseconds)
            if ready < 0 {
                if errno == EINTR { return nil }
                throw DriverError.system("poll", errno)
            }
            var answer: Answer?
            if entries[1].revents != 0 {
                guard let (bytes, at) = try checks.receive() else { throw BenchError.scenario("the daemon closed the check connection") }
                checkInput += bytes
                if let (complete, length) = try LoadDriver.parse(checkInput) {
                    checkInput.removeFirst(length)
                    answer = complete
                    answeredAt[currentLink] = at
                }
            }
            if entries[0].revents != 0 {
                guard let (bytes, at) = try stream.receive() else { throw BenchError.scenario("the event stream closed") }
                for frame in try decoder.feed(bytes) {
                    guard let id = Requests.member("link_id", in: frame.data), let link = index[id] else { continue }
                    received += 1
                    frames[link].append(frame.event ?? "")
                    if frame.event == "used_up", usedUpAt[link] == nil { usedUpAt[link] = at }
                }
                if decoder.ended { throw BenchError.scenario("the event stream ended") }
            }
            return answer
        }

        let pid = try daemon.pid
        let before = try ProcessSample.of(pid)
        let started = now()
        var sentAt = [UInt64](repeating: 0, count: links)
        var due = started
        for link in 0..<links {
            // The stream is read while the next check waits for its slot.
            while true {
                let t = now()
                guard t < due else { break }
                _ = try pump(milliseconds: Int32((due - t) / 1_000_000) + 1)
            }
            currentLink = link
            let request = Requests.check(url: issued[link].url)
            sentAt[link] = now()
            try checks.send(request)
            var answer: Answer?
            while answer == nil {
                answer = try pump(milliseconds: 1_000)
                if answer == nil, now() - sentAt[link] > 30_000_000_000 { throw BenchError.scenario("no answer to a check within 30 s") }
            }
            guard let answer, let answered = answeredAt[link] else { continue }
            roundTrips.append(answered - sentAt[link])
            guard answer.status == 200, answer.text.contains("\"valid\":true"), answer.text.contains("\"remaining_uses\":0") else {
                throw BenchError.scenario("the use of a one-use link answered \(answer.status): \(answer.text.prefix(200))")
            }
            due = sentAt[link] + UInt64(Self.interval * 1e9)
        }
        // Every link's frames, or `frameTimeout` after the last answer.
        let lastAnswer = answeredAt.compactMap { $0 }.max() ?? now()
        while frames.contains(where: { $0.count < Self.kindsPerUse.count }), now() - lastAnswer < UInt64(frameTimeout * 1e9) {
            _ = try pump(milliseconds: 100)
        }
        figures.seconds = Double(now() - started) / 1e9
        let after = try ProcessSample.of(pid)
        // Late or duplicate frames: a short look after the last one.
        let drainUntil = now() + 500_000_000
        while now() < drainUntil { _ = try pump(milliseconds: 50) }

        figures.checked = roundTrips.count
        figures.cpuPerUse = (after.cpuSeconds - before.cpuSeconds) / Double(max(roundTrips.count, 1))
        figures.roundTrips = roundTrips
        figures.received = received
        figures.expected = links * Self.kindsPerUse.count
        figures.usedUpReceived = usedUpAt.compactMap { $0 }.count
        figures.overlapping = (0..<(links - 1)).filter { link in usedUpAt[link].map { $0 > sentAt[link + 1] } ?? false }.count
        figures.delivery = (0..<links).compactMap { link in
            guard let answered = answeredAt[link], let frame = usedUpAt[link] else { return nil }
            return Int64(bitPattern: frame) - Int64(bitPattern: answered)
        }
        let wrong = frames.enumerated().filter { $0.element.sorted() != Self.kindsPerUse.sorted() }
        if figures.received != figures.expected || figures.usedUpReceived != links || !wrong.isEmpty {
            let example = wrong.first.map { "; link \($0.offset) got [\($0.element.joined(separator: ", "))]" } ?? ""
            report.failures.append(
                "event delivery: \(figures.received) of \(figures.expected) events, \(figures.usedUpReceived) of \(links) used_up frames, "
                    + "\(wrong.count) links without exactly \(Self.kindsPerUse.joined(separator: ", "))\(example)")
        }
        report.events = figures
    }

    /// The highest serial the caller can read (0 without events): the smallest `after` whose page
    /// is empty (or past the newest event), by doubling then bisecting (a few dozen one-event pages, whatever the table holds).
    func lastSerial(_ client: UnixHTTPClient) throws -> Int64 {
        func hasEvents(after serial: Int64) throws -> Bool {
            let page = try client.get("/v1/events?after=\(serial)&limit=1")
            // Past the newest serial the store has given: 410 events.ahead.
            if page.status == 410, page.text.contains("events.ahead") { return false }
            guard page.status == 200, let object = try JSONSerialization.jsonObject(with: page.body) as? [String: Any],
                let events = object["events"] as? [Any]
            else { throw BenchError.scenario("GET /v1/events?after=\(serial) answered \(page.status): \(page.text.prefix(200))") }
            return !events.isEmpty
        }
        guard try hasEvents(after: 0) else { return 0 }
        var low: Int64 = 0, high: Int64 = 1  // events after `low`, none after `high` once the doubling stops
        while try hasEvents(after: high) {
            low = high
            high *= 2
        }
        while high - low > 1 {
            let middle = low + (high - low) / 2
            if try hasEvents(after: middle) { low = middle } else { high = middle }
        }
        return high
    }

    /// Reads the stream's head (200, chunked) within 10 s; a decoder holding what came after it.
    func openStream(_ stream: RawConnection) throws -> EventStreamDecoder {
        var input: [UInt8] = []
        let deadline = now() + 10_000_000_000
        while now() < deadline {
            var entry = pollfd(fd: stream.fd, events: Int16(POLLIN), revents: 0)
            guard poll(&entry, 1, 100) >= 0 || errno == EINTR else { throw DriverError.system("poll", errno) }
            guard entry.revents != 0 else { continue }
            guard let (bytes, _) = try stream.receive() else { throw BenchError.scenario("the event stream closed before its head") }
            input += bytes
            guard let head = try HTTPResponseHead.parse(input) else { continue }
            guard head.status == 200, head.header("Content-Type")?.hasPrefix("text/event-stream") == true else {
                throw BenchError.scenario("the event stream answered \(head.status): \(String(decoding: input.prefix(300), as: UTF8.self))")
            }
            var decoder = EventStreamDecoder(chunked: head.header("Transfer-Encoding")?.lowercased() == "chunked")
            _ = try decoder.feed(input[head.length...])
            return decoder
        }
        throw BenchError.scenario("the event stream sent no head within 10 s")
    }
}

/// A blocking-free Unix socket connection for the scenario's poll loop.
final class RawConnection {
    let fd: Int32

    init(socket: String) throws { fd = try connect(socket) }

    func close() { Glibc.close(fd) }

    /// Writes all of `bytes`, waiting for room when the socket is full.
    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written < 0 {
                guard errno == EAGAIN || errno == EINTR else { throw DriverError.system("write", errno) }
                var entry = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                _ = poll(&entry, 1, 100)
                continue
            }
            offset += written
        }
    }

    /// What one read returned and when (monotonic ns, right after it); empty when nothing was
    /// there; nil at the end of the connection.
    func receive() throws -> ([UInt8], UInt64)? {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let got = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        let at = now()
        if got < 0 {
            if errno == EAGAIN || errno == EINTR { return ([], at) }
            throw DriverError.system("read", errno)
        }
        return got == 0 ? nil : (Array(buffer[0..<got]), at)
    }
}
