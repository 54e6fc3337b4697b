import FoundationEssentials

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A POSIX mutex, in place of Foundation's NSLock: the library imports FoundationEssentials only (full
/// Foundation brings ICU and tens of megabytes that every start would map). ThreadSanitizer understands it.
public final class MutexLock: @unchecked Sendable {  // the mutex is only touched through pthread calls
    fileprivate let mutex: UnsafeMutablePointer<pthread_mutex_t>

    public init() {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deinitialize(count: 1)
        mutex.deallocate()
    }

    public func lock() { pthread_mutex_lock(mutex) }

    public func unlock() { pthread_mutex_unlock(mutex) }

    public func withLock<Result>(_ body: () throws -> Result) rethrows -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }
}

/// A mutex with its condition variable, in place of Foundation's NSCondition (same calls).
public final class ConditionLock: @unchecked Sendable {  // mutex and condition are only touched through pthread calls
    private let mutex = MutexLock()
    private let condition: UnsafeMutablePointer<pthread_cond_t>

    public init() {
        condition = .allocate(capacity: 1)
        condition.initialize(to: pthread_cond_t())
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_cond_destroy(condition)
        condition.deinitialize(count: 1)
        condition.deallocate()
    }

    public func lock() { mutex.lock() }

    public func unlock() { mutex.unlock() }

    public func withLock<Result>(_ body: () throws -> Result) rethrows -> Result {
        try mutex.withLock(body)
    }

    /// Waits for a signal; the caller holds the lock.
    public func wait() { pthread_cond_wait(condition, mutex.mutex) }

    /// Waits for a signal until `limit` (wall clock, as NSCondition); false when the time ran out.
    @discardableResult
    public func wait(until limit: Date) -> Bool {
        let seconds = max(0, limit.timeIntervalSince1970)
        guard seconds.isFinite, seconds < 1e12 else {
            wait()
            return true
        }
        let whole = seconds.rounded(.down)
        var time = timespec(tv_sec: Int(whole), tv_nsec: Int(min(999_999_999, max(0, (seconds - whole) * 1_000_000_000))))
        return pthread_cond_timedwait(condition, mutex.mutex, &time) == 0
    }

    public func signal() { pthread_cond_signal(condition) }

    public func broadcast() { pthread_cond_broadcast(condition) }
}
