import FoundationEssentials
import Dispatch
import Glibc

/// What the STARTTLS command-injection probe saw.
public enum InjectionProbeResult: Sendable, Equatable {
    /// The server ignored the command pipelined before the handshake.
    case clean
    /// The server answered, inside TLS, a command sent in plaintext before the handshake (CVE-2011-0411).
    case vulnerable(reply: String)
    /// The probe could not reach a verdict (no STARTTLS, refused, rate-limited, handshake failed, time).
    case inconclusive(reason: String)
}

/// CVE-2011-0411: send `STARTTLS` and `NOOP` in one write, complete the handshake, then say QUIT inside TLS.
/// A clean server answers 221; one that kept the plaintext NOOP answers its 250 first, then 221. Sequential
/// replies decide it, so no timing window is involved, and the dialogue inside TLS is one round trip.
final class InjectionProbe: @unchecked Sendable {
    struct Outcome {
        var result: InjectionProbeResult
        var connected: Bool
    }

    private let lock = MutexLock()
    private var outcome = Outcome(result: .inconclusive(reason: "the probe did not finish"), connected: false)
    private var thread: JoinableThread?

    /// Starts the probe on a thread of its own, bound by the check's `deadline`; the time it waits for a slot
    /// of `gate` is added to that bound, since waiting for one's turn is no fault of the server.
    static func start(
        checker: Checker, endpoint: Endpoint, deadline checkDeadline: Deadline, transcript: (@Sendable (String) -> Void)?,
        gate: ConnectionGate?, handoff: SessionHandoff? = nil
    ) -> InjectionProbe {
        let probe = InjectionProbe()
        probe.thread = JoinableThread(stackSize: 512 << 10) {
            defer { releaseOpenSSLThreadState() }
            let waitStarted = DispatchTime.now().uptimeNanoseconds
            if let gate, !gate.acquire(before: Deadline(secondsFromNow: checker.settings.timeout, stop: checkDeadline.stop)) {
                probe.lock.withLock { probe.outcome = Outcome(result: .inconclusive(reason: "no connection slot within the time bound"), connected: false) }
                return
            }
            defer { gate?.release() }
            let waited = DispatchTime.now().uptimeNanoseconds - waitStarted
            let deadline = Deadline(uptimeNanoseconds: checkDeadline.uptimeNanoseconds &+ waited, stop: checkDeadline.stop)
            var connected = false
            let result = probe.run(checker: checker, endpoint: endpoint, deadline: deadline, handoff: handoff, connected: &connected) { line in
                transcript?(Transcript.tagged(Transcript.injectionConnection, line))
            }
            probe.lock.withLock { probe.outcome = Outcome(result: result, connected: connected) }
        }
        return probe
    }

    /// Joins the probe's thread: its every wait is bounded by the check's deadline.
    func wait() -> Outcome {
        thread?.join()
        return lock.withLock { outcome }
    }

    private func run(
        checker: Checker, endpoint: Endpoint, deadline: Deadline, handoff: SessionHandoff?, connected: inout Bool, record: @escaping (String) -> Void
    ) -> InjectionProbeResult {
        let connection: TCPConnection
        do { connection = try checker.connect(endpoint, deadline: deadline) } catch {
            return .inconclusive(reason: "cannot connect")
        }
        connected = true
        defer { connection.close() }
        var scratch = Observation(endpoint: endpoint)
        let dialog = SMTPDialog(stream: PlainStream(connection: connection), record: record)
        do {
            try checker.greetAndHello(dialog, ehloName: checker.ehloName(for: connection), deadline: deadline, observation: &scratch)
            guard Capabilities(lines: scratch.ehloCapabilities).contains("STARTTLS") else {
                checker.quit(dialog, deadline: deadline)
                return .inconclusive(reason: "STARTTLS not offered")
            }
            try dialog.sendTogether(["STARTTLS", "NOOP"], deadline: deadline, phase: "sending STARTTLS and NOOP together")
            let answer = try dialog.readReply(deadline: deadline, phase: "waiting for the answer to STARTTLS")
            guard answer.code == 220 else { return .inconclusive(reason: "STARTTLS answered \(answer.code)") }
            // A server may answer the NOOP in plaintext before the handshake: ordinary pipelining, not the flaw.
            dialog.discardUnconsumed()
            // Waiting for the main connection's session is bounded; without one the handshake is a full one.
            let ticket = handoff?.wait(until: deadline.capped(atSecondsFromNow: checker.settings.timeout / 4))
            let session = try checker.handshake(connection: connection, endpoint: endpoint, deadline: deadline, observation: &scratch, record: record, resuming: ticket)
            defer { session.shutdown() }
            dialog.stream = TLSStream(session: session)
            try dialog.send("QUIT", deadline: deadline, phase: "sending QUIT inside TLS")
            let first = try dialog.readReply(deadline: deadline, phase: "waiting for the QUIT reply inside TLS")
            if first.code == 221 { return .clean }
            if first.code == 250 {
                // The answer to the NOOP sent before the handshake; QUIT's own 221 follows.
                _ = try? dialog.readReply(deadline: deadline.capped(atSecondsFromNow: 1), phase: "waiting for the QUIT reply inside TLS")
                return .vulnerable(reply: first.firstLine)
            }
            return .inconclusive(reason: "unexpected reply \(first.code) to QUIT")
        } catch {
            return .inconclusive(reason: Rules.finding(for: error, endpoint: endpoint).message)
        }
    }
}
