import AuthorityTesting
import CEpoll
import Foundation
import Glibc

/// How a run paces its requests.
enum Pacing {
    /// Every connection sends its next request as soon as the previous answer is in.
    case closedLoop
    /// Requests are due at a fixed rate (per second) across all connections; latency counts from
    /// the moment a request was due, so a stalled server cannot hide its queue (no coordinated
    /// omission).
    case rate(Double)
}

/// What one run measured on the client side.
struct RunResult {
    var completed = 0
    var seconds = 0.0
    /// Nanoseconds per answer, unsorted.
    var latencies: [UInt64] = []
    var failures = 0
    var firstFailure: String?

    var throughput: Double { seconds > 0 ? Double(completed) / seconds : 0 }

    /// The `q` quantile (0...1) of the latencies, in milliseconds.
    func latency(_ q: Double, sorted: [UInt64]) -> Double {
        quantile(q, of: sorted).map { Double($0) / 1e6 } ?? 0
    }
}

/// The `q` quantile (0...1) of ascending `values` (nearest rank), nil when there are none.
func quantile<T>(_ q: Double, of sorted: [T]) -> T? {
    guard !sorted.isEmpty else { return nil }
    return sorted[max(0, min(sorted.count - 1, Int((Double(sorted.count) * q).rounded(.up)) - 1))]
}

/// An HTTP/1.1 answer as the driver sees it: status and body bytes.
struct Answer {
    var status: Int
    var body: ArraySlice<UInt8>
    var text: String { String(decoding: body, as: UTF8.self) }
}

enum DriverError: Error, CustomStringConvertible {
    case system(String, Int32)
    case closed(String)
    case timedOut(outstanding: Int)

    var description: String {
        switch self {
        case .system(let call, let code): "\(call): \(String(cString: strerror(code)))"
        case .closed(let why): "the server closed a connection: \(why)"
        case .timedOut(let outstanding): "\(outstanding) answers did not arrive within 30 s"
        }
    }
}

/// A load generator for one Unix socket: `connections` keep-alive connections driven by one
/// thread through epoll, so the client spends a few microseconds of CPU per request and the
/// server's figures are not drowned by the client's. Requests are pre-encoded bytes; every answer
/// is parsed (status line, Content-Length) and checked by the caller's `check`.
final class LoadDriver {
    let socketPath: String
    let connections: Int

    init(socketPath: String, connections: Int) {
        self.socketPath = socketPath
        self.connections = connections
    }

    private struct Connection {
        var fd: Int32
        var input: [UInt8] = []
        var pending: [UInt8] = []
        var dueAt: UInt64 = 0
        var busy = false
    }

    /// Sends `request(i)` for i in 0..<count (or until `seconds` pass, whichever comes first),
    /// and hands every answer to `check`, which returns nil or why the answer is wrong.
    func run(
        count: Int, seconds: Double, pacing: Pacing = .closedLoop,
        request: (Int) -> [UInt8], check: (Int, Answer) -> String?
    ) throws -> RunResult {
        var result = RunResult()
        result.latencies.reserveCapacity(min(count, 2_000_000))
        let epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epoll >= 0 else { throw DriverError.system("epoll_create1", errno) }
        defer { close(epoll) }
        let timer = timerfd_create(CLOCK_MONOTONIC, Int32(TFD_CLOEXEC | TFD_NONBLOCK))
        guard timer >= 0 else { throw DriverError.system("timerfd_create", errno) }
        defer { close(timer) }
        try add(timer, token: UInt64(UInt32.max), to: epoll)

        var pool: [Connection] = []
        defer { for connection in pool { close(connection.fd) } }
        for index in 0..<connections {
            let fd = try connect(socketPath)
            pool.append(Connection(fd: fd))
            try add(fd, token: UInt64(index), to: epoll)
        }
        // Which request each connection carries, for `check`.
        var carried = [Int](repeating: -1, count: connections)

        let started = now()
        let deadline = started + UInt64(seconds * 1e9)
        var sent = 0
        var idle = Array((0..<connections).reversed())
        let interval: UInt64? = if case .rate(let perSecond) = pacing { UInt64(1e9 / perSecond) } else { nil }

        func due(_ k: Int) -> UInt64 { interval.map { started + UInt64(k) * $0 } ?? 0 }

        func send(on index: Int) throws {
            let bytes = request(sent)
            carried[index] = sent
            pool[index].dueAt = interval == nil ? now() : due(sent)
            pool[index].busy = true
            sent += 1
            let written = bytes.withUnsafeBytes { Glibc.send(pool[index].fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written < 0 && errno != EAGAIN { throw DriverError.system("write", errno) }
            let done = max(written, 0)
            if done < bytes.count {
                pool[index].pending = Array(bytes[done...])
                try modify(pool[index].fd, token: UInt64(index), events: EPOLLIN.rawValue | EPOLLOUT.rawValue, in: epoll)
            }
        }

        /// Starts requests on idle connections while some are due (or at once, closed loop).
        func dispatch() throws {
            while sent < count, let index = idle.last {
                let t = now()
                if t >= deadline { return }
                if interval != nil, due(sent) > t {
                    try arm(timer, at: due(sent))
                    return
                }
                idle.removeLast()
                try send(on: index)
            }
        }

        try dispatch()
        var events = [epoll_event](repeating: epoll_event(), count: 128)
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var outstanding: Int { connections - idle.count }
        var lastProgress = now()
        while outstanding > 0 || (sent < count && now() < deadline) {
            let ready = epoll_wait(epoll, &events, Int32(events.count), 1_000)
            if ready < 0 {
                if errno == EINTR { continue }
                throw DriverError.system("epoll_wait", errno)
            }
            if ready == 0, now() - lastProgress > 30_000_000_000 { throw DriverError.timedOut(outstanding: outstanding) }
            for event in events[0..<Int(ready)] {
                let token = event.data.u64
                if token == UInt64(UInt32.max) {
                    var expirations: UInt64 = 0
                    _ = read(timer, &expirations, 8)
                    continue
                }
                let index = Int(token)
                if event.events & EPOLLOUT.rawValue != 0, !pool[index].pending.isEmpty {
                    let pending = pool[index].pending
                    let written = pending.withUnsafeBytes { Glibc.send(pool[index].fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                    if written < 0 && errno != EAGAIN { throw DriverError.system("write", errno) }
                    pool[index].pending.removeFirst(max(written, 0))
                    if pool[index].pending.isEmpty {
                        try modify(pool[index].fd, token: token, events: EPOLLIN.rawValue, in: epoll)
                    }
                }
                guard event.events & (EPOLLIN.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0 else { continue }
                let got = buffer.withUnsafeMutableBytes { read(pool[index].fd, $0.baseAddress, $0.count) }
                if got < 0 {
                    if errno == EAGAIN || errno == EINTR { continue }
                    throw DriverError.system("read", errno)
                }
                if got == 0 {
                    throw DriverError.closed(String(decoding: pool[index].input.prefix(300), as: UTF8.self))
                }
                pool[index].input.append(contentsOf: buffer[0..<got])
                while let (answer, length) = try Self.parse(pool[index].input) {
                    guard pool[index].busy else { throw DriverError.closed("an answer nobody asked for") }
                    let finished = now()
                    lastProgress = finished
                    result.latencies.append(finished &- pool[index].dueAt)
                    result.completed += 1
                    if let problem = check(carried[index], answer) {
                        result.failures += 1
                        if result.firstFailure == nil { result.firstFailure = problem }
                    }
                    pool[index].input.removeFirst(length)
                    pool[index].busy = false
                    idle.append(index)
                }
            }
            try dispatch()
        }
        result.seconds = Double(now() - started) / 1e9
        return result
    }

    /// One complete answer at the start of `bytes` and its length, or nil when more is needed.
    static func parse(_ bytes: [UInt8]) throws -> (Answer, Int)? {
        let parsed: HTTPResponseHead?
        do {
            parsed = try HTTPResponseHead.parse(bytes)
        } catch {
            throw DriverError.closed("not an HTTP/1.1 answer: \(String(decoding: bytes.prefix(100), as: UTF8.self))")
        }
        guard let head = parsed else { return nil }
        let total = head.length + (head.header("Content-Length").flatMap { Int($0) } ?? 0)
        guard bytes.count >= total else { return nil }
        return (Answer(status: head.status, body: bytes[head.length..<total]), total)
    }
}

/// CLOCK_MONOTONIC in nanoseconds.
func now() -> UInt64 {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
}

/// A connected, non-blocking Unix stream socket.
func connect(_ path: String) throws -> Int32 {
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { throw DriverError.system("socket", errno) }
    guard let rc = withUnixSocketAddress(path, { Glibc.connect(fd, $0, $1) }) else {
        close(fd)
        throw DriverError.system("socket path too long", ENAMETOOLONG)
    }
    guard rc == 0 else {
        let code = errno
        close(fd)
        throw DriverError.system("connect \(path)", code)
    }
    _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    return fd
}

private func add(_ fd: Int32, token: UInt64, to epoll: Int32) throws {
    var event = epoll_event(events: EPOLLIN.rawValue, data: epoll_data_t(u64: token))
    guard epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event) == 0 else { throw DriverError.system("epoll_ctl", errno) }
}

private func modify(_ fd: Int32, token: UInt64, events: UInt32, in epoll: Int32) throws {
    var event = epoll_event(events: events, data: epoll_data_t(u64: token))
    guard epoll_ctl(epoll, EPOLL_CTL_MOD, fd, &event) == 0 else { throw DriverError.system("epoll_ctl", errno) }
}

/// Arms the timer to fire once at the monotonic time `at` (ns).
private func arm(_ timer: Int32, at: UInt64) throws {
    var spec = itimerspec()
    spec.it_value.tv_sec = Int(at / 1_000_000_000)
    spec.it_value.tv_nsec = Int(at % 1_000_000_000)
    guard timerfd_settime(timer, Int32(TFD_TIMER_ABSTIME), &spec, nil) == 0 else {
        throw DriverError.system("timerfd_settime", errno)
    }
}
