import FoundationEssentials
import Glibc

/// A value behind a lock. A POSIX mutex (MutexLock) rather than Synchronization's Mutex: ThreadSanitizer understands
/// pthread mutexes, not Mutex's futex, and would report every access as a race.
public final class Locked<Value>: @unchecked Sendable {  // `value` is only touched under `lock`
    private let lock = MutexLock()
    private var value: Value

    public init(_ value: Value) {
        self.value = value
    }

    public func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
