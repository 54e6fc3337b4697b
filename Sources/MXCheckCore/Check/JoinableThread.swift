import FoundationEssentials
import Glibc

/// A POSIX thread that can be joined. Joining guarantees the body and everything it captured are gone
/// before the caller goes on, so no OpenSSL object is freed on another thread while the process exits
/// (Foundation's Thread cannot be joined).
final class JoinableThread: @unchecked Sendable {
    private final class Body {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }

    private var thread = pthread_t()
    private var joined = false
    private let lock = MutexLock()

    init(stackSize: Int = 1 << 20, _ body: @escaping @Sendable () -> Void) {
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setstacksize(&attributes, stackSize)
        let context = Unmanaged.passRetained(Body(body)).toOpaque()
        let status = pthread_create(&thread, &attributes, { context in
            let body = Unmanaged<Body>.fromOpaque(context!).takeRetainedValue()
            body.run()
            return nil
        }, context)
        if status != 0 {
            // No thread: run it here rather than lose the work.
            joined = true
            Unmanaged<Body>.fromOpaque(context).takeRetainedValue().run()
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
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setstacksize(&attributes, stackSize)
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        final class Body {
            let run: @Sendable () -> Void
            init(_ run: @escaping @Sendable () -> Void) { self.run = run }
        }
        let context = Unmanaged.passRetained(Body(body)).toOpaque()
        var thread = pthread_t()
        let status = pthread_create(&thread, &attributes, { context in
            Unmanaged<Body>.fromOpaque(context!).takeRetainedValue().run()
            return nil
        }, context)
        if status != 0 {
            // No thread: run it here rather than lose the work.
            Unmanaged<Body>.fromOpaque(context).takeRetainedValue().run()
        }
    }
}
