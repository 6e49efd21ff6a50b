import AuthorityAPI
import AuthorityStore
import NIOCore
import Synchronization

/// What `GET /v1/events` streams (Server-Sent Events): from which serial, whose links.
public struct EventFeed: Sendable {
    /// Stream the events after this serial; nil: from the oldest kept.
    var after: Int64?
    /// Only the events of this issuer's links; nil: every link's (admin).
    var issuer: UInt32?
    let hub: EventHub
}

/// Every open event stream of the daemon, woken at each commit of this daemon's store (an event
/// is on its stream as soon as its write is durable) and, for what other daemons of a fleet
/// commit, by each stream's poll. A stream reads the store itself, on the reads pool, so a
/// stream that falls behind never holds events in memory: it reads on from its last serial.
public final class EventHub: Sendable {
    let store: any Store
    let runtime: Runtime
    /// How often each stream polls the store (fleet commits, storage trouble) and, every
    /// `heartbeatTicks`, writes a comment so that proxies and clients see it is alive.
    let pollInterval: TimeAmount
    let heartbeatTicks = 15
    /// Events read per store read.
    let pageSize = 200
    /// Each open stream's wake-up and end, called from any thread (they hop to its event loop).
    private let streams = Mutex<[ObjectIdentifier: (wake: @Sendable () -> Void, end: @Sendable () -> Void)]>([:])
    /// The shortest time between two reads of one stream woken by commits: a busy store's commits
    /// cost each stream at most one read per interval.
    let wakeInterval: TimeAmount = .milliseconds(50)

    init(store: any Store, runtime: Runtime, pollInterval: TimeAmount = .seconds(1)) {
        self.store = store
        self.runtime = runtime
        self.pollInterval = pollInterval
        store.observeCommits { [weak self] _ in self?.wakeAll() }
    }

    /// Open streams, for `/metrics` and the tests.
    var streamCount: Int { streams.withLock { $0.count } }

    func register(_ id: ObjectIdentifier, wake: @escaping @Sendable () -> Void, end: @escaping @Sendable () -> Void) {
        streams.withLock { $0[id] = (wake, end) }
        runtime.metrics.eventStreams.set(Int64(streamCount))
    }

    func unregister(_ id: ObjectIdentifier) {
        streams.withLock { _ = $0.removeValue(forKey: id) }
        runtime.metrics.eventStreams.set(Int64(streamCount))
    }

    private func wakeAll() {
        for stream in streams.withLock({ Array($0.values) }) { stream.wake() }
    }

    /// Ends every stream (the policy changed): each client reconnects and is filtered anew.
    func endAll() {
        for stream in streams.withLock({ Array($0.values) }) { stream.end() }
    }

    /// One SSE frame: `id` (the serial, what `Last-Event-ID` resumes from), `event` (the kind),
    /// `data` (the event's JSON, one line: JSON escapes every line break).
    static func frame(_ event: LinkEvent, into buffer: inout ByteBuffer) {
        buffer.writeString("id: \(event.serial)\nevent: \(event.kind.rawValue)\ndata: ")
        var json = APIResponse.json(LinkEventBody(event)).body
        buffer.writeBuffer(&json)
        buffer.writeString("\n\n")
    }
}
