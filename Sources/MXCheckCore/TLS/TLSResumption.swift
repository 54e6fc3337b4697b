import COpenSSL
import FoundationEssentials
import Glibc

/// A TLS session the main connection established, for the injection probe to resume: the probe then needs
/// neither the server's certificate chain nor its signature, which saves the client's and the server's CPU.
public final class TLSSessionTicket: @unchecked Sendable {  // an SSL_SESSION is reference-counted and safe to share for resumption
    let session: OpaquePointer

    /// Takes one reference to `session`; nil (and the reference released) when the session is not resumable.
    init?(takingResumable session: OpaquePointer) {
        guard SSL_SESSION_is_resumable(session) == 1 else {
            SSL_SESSION_free(session)
            return nil
        }
        self.session = session
    }

    deinit { SSL_SESSION_free(session) }
}

/// Hands the main connection's session to the injection probe, which waits for it (bounded) before its handshake.
final class SessionHandoff: @unchecked Sendable {  // `ticket` and `settled` are guarded by `condition`
    private let condition = ConditionLock()
    private var ticket: TLSSessionTicket?
    private var settled = false

    /// The main connection's session, or nil when it has none to give; later calls change nothing.
    func offer(_ ticket: TLSSessionTicket?) {
        condition.lock()
        defer { condition.unlock() }
        guard !settled else { return }
        self.ticket = ticket
        settled = true
        condition.broadcast()
    }

    /// A new session of the main connection, from the context's callback inside OpenSSL (which keeps its own
    /// reference): offered when resumable.
    func offer(newSession session: OpaquePointer) {
        guard SSL_SESSION_up_ref(session) == 1, let ticket = TLSSessionTicket(takingResumable: session) else { return }
        offer(ticket)
    }

    /// The session once offered, or nil when there is none or the deadline passed first.
    func wait(until deadline: Deadline) -> TLSSessionTicket? {
        condition.lock()
        defer { condition.unlock() }
        while !settled {
            if deadline.hasPassed { return nil }
            _ = condition.wait(until: Date(timeIntervalSinceNow: Double(max(1, deadline.remainingMilliseconds)) / 1000))
        }
        return ticket
    }
}
