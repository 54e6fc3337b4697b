import FoundationEssentials

/// The trust store and the TLS client context, made one after the other on one thread of their own while the
/// caller goes on (it reads the rest of its options, opens its output, starts the run and makes the first
/// connection): OpenSSL's set-up is then off the path to the first connection, and never two set-ups run at
/// once (see TLSClientContext).
public final class TLSSetUp: Sendable {
    /// The client context; the first handshake waits for it.
    public let context: TLSClientContext
    private let store: OneValue<Result<TrustStore, TrustStoreError>>

    /// Starts making the trust store (the system's anchors and `extraCAFile`), then the context.
    public init(extraCAFile: String?) {
        let store = OneValue<Result<TrustStore, TrustStoreError>>()
        self.store = store
        context = TLSClientContext(buildingInBackground: ()) {
            do throws(TrustStoreError) {
                store.set(.success(try TrustStore(extraCAFile: extraCAFile)))
            } catch {
                store.set(.failure(error))
            }
        }
    }

    /// The trust store once made, or why it could not be (an unreadable `--ca-file`).
    public func trustStore() throws(TrustStoreError) -> TrustStore {
        try store.value().get()
    }

    /// Waits for the set-up thread, and for the trust store's own loader if it has one. Call before the process
    /// exits, on every path, so that no thread is left in OpenSSL while its exit handlers run.
    public func finish() {
        context.finishBuilding()
        if case .success(let trustStore) = store.value() { trustStore.finishLoading() }
    }
}

/// A value set once by one thread and waited for by others.
final class OneValue<Value: Sendable>: @unchecked Sendable {  // `stored` is only touched under `condition`
    private let condition = ConditionLock()
    private var stored: Value?

    /// Sets the value (the first call only) and wakes the waiters.
    func set(_ value: Value) {
        condition.withLock {
            guard stored == nil else { return }
            stored = value
            condition.broadcast()
        }
    }

    /// The value, once set.
    func value() -> Value {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let stored { return stored }
            condition.wait()
        }
    }
}
