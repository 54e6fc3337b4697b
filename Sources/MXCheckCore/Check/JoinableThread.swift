import FoundationEssentials
import Glibc

/// A POSIX thread that can be joined. Joining guarantees the body and everything it captured are gone
/// before the caller goes on, so no OpenSSL object is freed on another thread while the process exits
/// (Foundation's Thread cannot be joined).
final class JoinableThread: @unchecked Sendable {
    private var thread = pthread_t()
    private var joined = false
    private let lock = MutexLock()

    init(stackSize: Int = 1 << 20, _ body: @escaping @Sendable () -> Void) {
        if let started = startThread(stackSize: stackSize, detached: false, body) {
            thread = started
        } else {
            joined = true
        }
    }

    /// Waits for the thread to end; later calls return at once.
    func join() {
        lock.withLock {
            guard !joined else { return }
            joined = true
            pthread_join(thread, nil)
        }
    }
}

/// A POSIX thread nobody waits for (a lookup abandoned at its deadline): its resources go when it ends.
public enum DetachedThread {
    public static func start(stackSize: Int, _ body: @escaping @Sendable () -> Void) {
        _ = startThread(stackSize: stackSize, detached: true, body)
    }
}

private final class ThreadBody {
    let run: @Sendable () -> Void
    init(_ run: @escaping @Sendable () -> Void) { self.run = run }
}

/// Runs `body` on a new thread with a stack of `stackSize` bytes. Nil when no thread could be made: the body
/// then ran here, rather than the work being lost.
private func startThread(stackSize: Int, detached: Bool, _ body: @escaping @Sendable () -> Void) -> pthread_t? {
    var attributes = pthread_attr_t()
    pthread_attr_init(&attributes)
    defer { pthread_attr_destroy(&attributes) }
    pthread_attr_setstacksize(&attributes, stackSize)
    if detached { pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED)) }
    let context = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
    var thread = pthread_t()
    let status = pthread_create(&thread, &attributes, { context in
        Unmanaged<ThreadBody>.fromOpaque(context!).takeRetainedValue().run()
        return nil
    }, context)
    guard status == 0 else {
        Unmanaged<ThreadBody>.fromOpaque(context).takeRetainedValue().run()
        return nil
    }
    return thread
}
