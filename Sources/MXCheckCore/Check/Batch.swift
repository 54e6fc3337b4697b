import FoundationEssentials
import Glibc

/// Runs blocking checks on up to `concurrency` threads and hands each result over as soon as it is done.
public enum Batch {
    public static func run<Item: Sendable, Result: Sendable>(
        _ items: [Item], concurrency: Int, work: @escaping @Sendable (Item) -> Result,
        onResult: @escaping @Sendable (Result) -> Void
    ) {
        guard !items.isEmpty else { return }
        let queue = WorkQueue(items)
        let lock = MutexLock()
        let count = max(1, min(concurrency, items.count))
        let workers = (0..<count).map { _ in
            JoinableThread {
                while let item = queue.next() {
                    let result = work(item)
                    lock.withLock { onResult(result) }
                }
                releaseOpenSSLThreadState()
            }
        }
        workers.forEach { $0.join() }
    }

    private final class WorkQueue<Item>: @unchecked Sendable {
        private var items: [Item]
        private var index = 0
        private let lock = MutexLock()

        init(_ items: [Item]) {
            self.items = items
        }

        func next() -> Item? {
            lock.withLock {
                guard index < items.count else { return nil }
                defer { index += 1 }
                return items[index]
            }
        }
    }
}
