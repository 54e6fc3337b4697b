import FoundationEssentials
import Dispatch
import Glibc

/// What a check needs besides the endpoint.
public struct CheckSettings: Sendable {
    /// The name sent in EHLO.
    public var ehloName: String?
    /// Bound on the whole dialog with one endpoint, in seconds.
    public var timeout: Double
    /// Run the STARTTLS command-injection probe (CVE-2011-0411) on a second connection.
    public var injectionTest = true
    /// Run that probe beside the main dialog (two connections at once) rather than after it.
    public var injectionProbeInParallel = true

    public init(ehloName: String?, timeout: Double) {
        self.ehloName = ehloName
        self.timeout = timeout
    }
}

/// Runs the SMTP/TLS dialog with one endpoint: one connection, and for STARTTLS a second one beside it for
/// the injection probe. Never MAIL, RCPT, DATA, VRFY or EXPN.
public struct Checker: Sendable {
    public let context: TLSClientContext
    public let trustStore: TrustStore
    public let settings: CheckSettings

    public init(context: TLSClientContext, trustStore: TrustStore, settings: CheckSettings) {
        self.context = context
        self.trustStore = trustStore
        self.settings = settings
    }

    /// Observes an endpoint; `transcript` receives each C:/S: line as it happens. Each connection first takes
    /// a slot of `gate` (shared by everything that talks to the address) and gives it back when it closes;
    /// a raised `stop` ends every wait at once.
    public func observe(
        _ endpoint: Endpoint, now: Date, transcript: (@Sendable (String) -> Void)? = nil, gate: ConnectionGate? = nil,
        stop: StopSignal? = nil
    ) -> Observation {
        let started = DispatchTime.now().uptimeNanoseconds
        var observation = Observation(endpoint: endpoint)
        // The time bound starts once a slot is ours: waiting for one's turn is no fault of the server.
        if let gate, !gate.acquire(before: Deadline(secondsFromNow: settings.timeout, stop: stop)) {
            observation.failure = .timeout(phase: "waiting for a connection slot to \(endpoint.address)")
            return observation
        }
        let deadline = Deadline(secondsFromNow: settings.timeout, stop: stop)
        let record: (String) -> Void = { block in transcript?(Transcript.tagged(Transcript.mainConnection, block)) }
        // The injection probe starts once the main connection was greeted with 220, so a server that refuses
        // (421, 554) or does not answer sees one connection; it then runs beside the rest of the dialog (after
        // it, when only one connection at a time to the address is allowed).
        let wantProbe = settings.injectionTest && endpoint.tls == .starttls
        var probe: InjectionProbe?
        var greeted = false
        // The probe resumes the main connection's session: no second certificate chain to send or to parse.
        let handoff = wantProbe ? SessionHandoff() : nil
        // The certificates as the handshake decoded them: facts and verification need no second decoding.
        let peerChain = PeerChain()
        let startProbe = { () -> InjectionProbe in
            InjectionProbe.start(checker: self, endpoint: endpoint, deadline: deadline, transcript: transcript, gate: gate, handoff: handoff)
        }
        do {
            try run(endpoint, deadline: deadline, into: &observation, record: record, handoff: handoff, peerChain: peerChain) {
                greeted = true
                if wantProbe && settings.injectionProbeInParallel { probe = startProbe() }
            }
        } catch {
            observation.failure = error
        }
        handoff?.offer(nil)
        gate?.release()
        if wantProbe && greeted && probe == nil && !(stop?.isRaised ?? false) {
            probe = startProbe()
        }
        if let probe {
            let outcome = probe.wait()
            observation.injection = outcome.result
            if outcome.connected { observation.connections += 1 }
        }
        if let tls = observation.tls {
            let decoded = peerChain.certificates.count == tls.chainDER.count ? peerChain.certificates : nil
            for (index, der) in tls.chainDER.enumerated() {
                do throws(CertificateParseError) {
                    if let decoded {
                        observation.chain.append(try CertificateFacts(certificate: decoded[index], der: der))
                    } else {
                        observation.chain.append(try CertificateFacts(der: der))
                    }
                } catch {
                    observation.chainParseErrors.append(error.description)
                }
            }
            if !tls.chainDER.isEmpty {
                observation.verification = decoded.map { trustStore.verify(chain: $0, at: now) }
                    ?? trustStore.verify(chainDER: tls.chainDER, at: now)
            }
        }
        observation.durationMilliseconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1_000_000
        return observation
    }

    /// Opens a connection to the endpoint and brings it to the point where the client's first TLS
    /// record goes next: after the 220 to STARTTLS, or at once for implicit TLS. The caller owns the
    /// connection. For probes that send their own ClientHello.
    public func openForTLS(_ endpoint: Endpoint, deadline: Deadline) throws(DialogFailure) -> TCPConnection {
        var observation = Observation(endpoint: endpoint)
        let connection = try connect(endpoint, deadline: deadline)
        if endpoint.tls == .starttls {
            let dialog = SMTPDialog(stream: PlainStream(connection: connection), record: { _ in })
            try negotiateStartTLS(dialog, connection: connection, deadline: deadline, observation: &observation, record: { _ in })
        }
        return connection
    }

    func connect(_ endpoint: Endpoint, deadline: Deadline) throws(DialogFailure) -> TCPConnection {
        do {
            return try TCPConnection.connect(address: endpoint.address, port: endpoint.port, deadline: deadline)
        } catch {
            throw Checker.connectFailure(error)
        }
    }

    func ehloName(for connection: TCPConnection) -> String {
        settings.ehloName ?? connection.localAddressLiteral() ?? "[127.0.0.1]"
    }

    /// `greeted`: called once the server's greeting was 220 and the EHLO is sent.
    private func run(
        _ endpoint: Endpoint, deadline: Deadline, into observation: inout Observation, record: @escaping (String) -> Void,
        handoff: SessionHandoff?, peerChain: PeerChain, greeted: () -> Void
    ) throws(DialogFailure) {
        observation.connections += 1
        let connection = try connect(endpoint, deadline: deadline)
        defer { connection.close() }
        let dialog = SMTPDialog(stream: PlainStream(connection: connection), record: record)
        let ehloName = ehloName(for: connection)

        if endpoint.tls == .implicit {
            let session = try handshake(
                connection: connection, endpoint: endpoint, deadline: deadline, observation: &observation, record: record, peerChain: peerChain)
            defer { session.shutdown() }
            dialog.stream = TLSStream(session: session)
            try greetAndHello(dialog, ehloName: ehloName, deadline: deadline, observation: &observation, greeted: greeted)
            observation.starttlsOffered = Capabilities(lines: observation.ehloCapabilities).contains("STARTTLS")
            quit(dialog, deadline: deadline)
            return
        }

        try negotiateStartTLS(dialog, connection: connection, deadline: deadline, observation: &observation, record: record, greeted: greeted)
        let session = try handshake(
            connection: connection, endpoint: endpoint, deadline: deadline, observation: &observation, record: record, peerChain: peerChain,
            offeringSessionsTo: handoff)
        defer { session.shutdown() }
        dialog.stream = TLSStream(session: session)
        // A careful client says EHLO again inside TLS (RFC 3207 §4.2); failures here do not undo the TLS facts.
        do {
            try dialog.send("EHLO \(ehloName)", deadline: deadline, phase: "sending EHLO inside TLS")
            let reply = try dialog.readReply(deadline: deadline, phase: "waiting for the EHLO reply inside TLS")
            if reply.isPositiveCompletion { observation.ehloCapabilitiesTLS = Capabilities(ehloReply: reply).lines }
            // The session went to the probe as the server's ticket was read; if it was not resumable then, it
            // is not now either, and the probe stops waiting.
            handoff?.offer(session.ticket())
        } catch {
            switch error {
            case .protocolError, .timeout, .closed: throw error
            default: return
            }
        }
        quit(dialog, deadline: deadline)
    }

    /// Greeting, EHLO, STARTTLS and its 220; bytes the server sends after the 220 are recorded and
    /// consumed, never read as TLS.
    private func negotiateStartTLS(
        _ dialog: SMTPDialog, connection: TCPConnection, deadline: Deadline, observation: inout Observation, record: (String) -> Void,
        greeted: () -> Void = {}
    ) throws(DialogFailure) {
        try greetAndHello(dialog, ehloName: ehloName(for: connection), deadline: deadline, observation: &observation, greeted: greeted)
        let offered = Capabilities(lines: observation.ehloCapabilities).contains("STARTTLS")
        observation.starttlsOffered = offered
        guard offered else {
            quit(dialog, deadline: deadline)
            throw .starttlsMissing
        }
        try dialog.send("STARTTLS", deadline: deadline, phase: "sending STARTTLS")
        let answer = try dialog.readReply(deadline: deadline, phase: "waiting for the answer to STARTTLS")
        if answer.code == 421 { throw .rateLimited(answer, phase: "STARTTLS") }
        guard answer.code == 220 else {
            quit(dialog, deadline: deadline)
            throw .starttlsRejected(answer)
        }
        // Bytes already read past the 220 are response injection; more may follow before the ServerHello,
        // and the handshake screens those.
        let injected = Array(dialog.unconsumed)
        dialog.discardUnconsumed()
        if !injected.isEmpty {
            record("S: (plaintext after 220) \(SMTPReplyParser.printable(injected.prefix(200)))")
            observation.plaintextAfter220 = injected
        }
    }

    func greetAndHello(
        _ dialog: SMTPDialog, ehloName: String, deadline: Deadline, observation: inout Observation, greeted: () -> Void = {}
    ) throws(DialogFailure) {
        // The whole greeting, every 220- line, before a single byte is sent (postscreen drops early talkers).
        let greeting: SMTPReply
        do {
            greeting = try dialog.readReply(deadline: deadline, phase: "waiting for the greeting")
        } catch .timeout(let phase) where observation.endpoint.tls == .starttls && dialog.unconsumed.isEmpty {
            // Not one byte: an implicit-TLS port waits silently for a ClientHello (servers may also greet slowly
            // on purpose, so the wait stays --timeout).
            throw .timeout(phase: "\(phase): the server sent nothing; a server silent on port \(observation.endpoint.port) may expect implicit TLS: try --tls implicit")
        }
        observation.banner = greeting.firstLine
        switch greeting.code {
        case 220: break
        case 421: throw .rateLimited(greeting, phase: "the connection")
        case 554:
            quit(dialog, deadline: deadline)
            throw .refused(greeting)
        default: throw .protocolError("unexpected greeting '\(greeting.firstLine)'")
        }
        // `greeted` (which starts the injection probe's thread) runs once the EHLO is on its way, so that the
        // thread's start does not hold it back.
        do {
            defer { greeted() }
            try dialog.send("EHLO \(ehloName)", deadline: deadline, phase: "sending EHLO")
        }
        let ehlo = try dialog.readReply(deadline: deadline, phase: "waiting for the EHLO reply")
        if ehlo.code == 421 { throw .rateLimited(ehlo, phase: "EHLO") }
        guard ehlo.code == 250 else {
            quit(dialog, deadline: deadline)
            throw .ehloRejected(ehlo)
        }
        let capabilities = Capabilities(ehloReply: ehlo)
        if observation.tls != nil, observation.endpoint.tls == .implicit {
            observation.ehloCapabilitiesTLS = capabilities.lines
        }
        observation.ehloCapabilities = capabilities.lines
    }

    /// `resuming`: a session of the main connection, offered for resumption (the injection probe's).
    func handshake(
        connection: TCPConnection, endpoint: Endpoint, deadline: Deadline, observation: inout Observation, record: (String) -> Void,
        resuming ticket: TLSSessionTicket? = nil, peerChain: PeerChain? = nil, offeringSessionsTo handoff: SessionHandoff? = nil
    ) throws(DialogFailure) -> TLSSession {
        let session: TLSSession
        do {
            session = try TLSSession(context: context, connection: connection, serverName: endpoint.serverName)
        } catch {
            throw .handshakeFailed(error.description)
        }
        if let ticket { session.resume(ticket) }
        if let handoff { session.offerSessions(to: handoff) }
        record("C: (TLS handshake\(endpoint.serverName.map { ", SNI \($0)" } ?? "")\(ticket == nil ? "" : ", resuming the first connection's session"))")
        do {
            var injected: [UInt8] = []
            defer {
                if !injected.isEmpty {
                    record("S: (plaintext after 220) \(SMTPReplyParser.printable(injected.prefix(200)))")
                    observation.plaintextAfter220 += injected
                }
            }
            // The trust store's anchors are parsed while the server answers the ClientHello; a resumed
            // handshake (the injection probe's) comes after a full one that did it.
            try session.handshake(
                deadline: deadline, onPlaintext: endpoint.tls == .starttls ? { injected += $0 } : nil,
                whileServerWorks: ticket == nil ? { trustStore.loadAnchors() } : nil)
        } catch {
            throw failure(error, phase: handshakePhase)
        }
        // A connection resuming a session (the injection probe's) needs no chain: its own was not sent again.
        let certificates = ticket == nil ? session.peerCertificates() : []
        peerChain?.certificates = certificates
        let negotiated = session.negotiated(chain: certificates)
        observation.tls = negotiated
        record("S: (TLS established: \(negotiated.version), \(negotiated.cipher)\(negotiated.group.map { ", \($0)" } ?? "")\(session.resumed ? ", resumed" : ""))")
        return session
    }

    /// QUIT politely, without letting a slow answer stretch the check.
    func quit(_ dialog: SMTPDialog, deadline: Deadline) {
        let short = deadline.capped(atSecondsFromNow: 2)
        do {
            try dialog.send("QUIT", deadline: short, phase: "sending QUIT")
            _ = try dialog.readReply(deadline: short, phase: "waiting for the QUIT reply")
        } catch {}
    }

    static func connectFailure(_ error: ConnectionError) -> DialogFailure {
        failure(error, phase: connectingPhase)
    }
}

/// The main connection's certificates as its handshake decoded them; used on the checking thread only.
final class PeerChain {
    var certificates: [X509Certificate] = []
}
