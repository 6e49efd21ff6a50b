import Foundation

/// Runs `body(index)` on `count` real threads at once and returns their results in index order.
/// Blocking socket clients must not run as tasks: a few of them would occupy the whole
/// cooperative pool (one thread per core) and starve everything else, a killer task included.
func onThreads<T: Sendable>(_ count: Int, _ body: @escaping @Sendable (Int) -> T) -> [T] {
    let results = ResultBox<T>(count: count)
    let done = DispatchGroup()
    for index in 0..<count {
        done.enter()
        let thread = Thread {
            results.set(index, body(index))
            done.leave()
        }
        thread.stackSize = 1 << 20
        thread.start()
    }
    done.wait()
    return results.values()
}

/// `@unchecked Sendable`: every access holds `lock`.
private final class ResultBox<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [T?]
    init(count: Int) { storage = Array(repeating: nil, count: count) }
    func set(_ index: Int, _ value: T) { lock.withLock { storage[index] = value } }
    func values() -> [T] { lock.withLock { storage.map { $0! } } }
}
