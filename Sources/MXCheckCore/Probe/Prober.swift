import FoundationEssentials
import Dispatch
import Glibc

/// How `--protocols` / `--ciphers` probe one endpoint.
public struct ProbeSettings: Sendable {
    /// Enumerate suites and groups (`--ciphers`); false: one probe per version (`--protocols`).
    public var ciphers: Bool
    /// Bound on each probe connection, in seconds (`--timeout`).
    public var timeout: Double
    /// Connections at once to the address (`--per-host`).
    public var perHost: Int
    /// Pause between two connection starts (`--delay`).
    public var delayMilliseconds: Int
    /// Pauses after a 421 or a greeting closed on us; one retry per pause, then the run stops as incomplete.
    public var backoffSeconds: [Double]
    /// The most suites one hello offers (servers differ on what they take; 128 is safe for almost all).
    public var maximumSuitesPerHello: Int

    public init(
        ciphers: Bool, timeout: Double = 30, perHost: Int = 2, delayMilliseconds: Int = 0,
        backoffSeconds: [Double] = [1, 2, 4], maximumSuitesPerHello: Int = 128
    ) {
        self.ciphers = ciphers
        self.timeout = timeout
        self.perHost = perHost
        self.delayMilliseconds = delayMilliseconds
        self.backoffSeconds = backoffSeconds
        self.maximumSuitesPerHello = maximumSuitesPerHello
    }
}

/// The enumeration engine: which versions, suites and groups a server accepts, in few connections.
///
/// Per version it offers every candidate suite (at most `maximumSuitesPerHello` a hello), removes the one
/// the server picks and offers the rest again until the server refuses: accepted + 1 connections per batch.
/// One more hello, the accepted suites in reverse, tells whether the server imposes its order. Groups come
/// the same way: TLS 1.3 hellos with an empty key_share make the server name its group in a
/// HelloRetryRequest (so the post-quantum hybrids need no key share); TLS 1.2 hellos with ECDHE suites show
/// the curve in the ServerKeyExchange, and hellos with DHE suites and only RFC 7919 groups the group's prime.
public struct Prober: Sendable {
    public let settings: ProbeSettings
    public let transport: any ProbeTransport
    /// SNI for the hellos.
    public let serverName: String?
    public let gate: ConnectionGate
    /// Random bytes for hello randoms, session ids and the x25519 key share (no key exchange follows).
    public let randomBytes: @Sendable (Int) -> [UInt8]
    /// `-v`: one line per probe connection.
    public var transcript: (@Sendable (String) -> Void)?

    public init(
        settings: ProbeSettings, transport: any ProbeTransport, serverName: String?, gate: ConnectionGate? = nil,
        randomBytes: @escaping @Sendable (Int) -> [UInt8] = Prober.systemRandomBytes
    ) {
        self.settings = settings
        self.transport = transport
        self.serverName = serverName
        self.gate = gate ?? ConnectionGate(limit: settings.perHost, delayMilliseconds: settings.delayMilliseconds)
        self.randomBytes = randomBytes
    }

    /// Probes an endpoint over the real network, each probe with its own SMTP dialog.
    public init(checker: Checker, endpoint: Endpoint, settings: ProbeSettings, gate: ConnectionGate? = nil) {
        self.init(
            settings: settings, transport: SMTPProbeTransport(checker: checker, endpoint: endpoint, timeout: settings.timeout),
            serverName: endpoint.serverName, gate: gate)
    }

    @Sendable public static func systemRandomBytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    /// Runs the probes. `knownAccepted`: the version the basic check negotiated, not probed again
    /// with `--protocols` alone.
    public func run(knownAccepted: ProtocolVersion? = nil) -> ProbeResult {
        let started = DispatchTime.now().uptimeNanoseconds
        let run = ProbeRun(settings: settings)
        let known = knownAccepted
        var versions: [ProtocolVersion] = [.tls12, .tls13, .tls11, .tls10, .sslv3, .sslv2]
        if !settings.ciphers, let known { versions.removeAll { $0 == known } }

        // Versions run side by side, up to the per-host limit; each version's chain is sequential.
        var work: [Work] = versions.map { .version($0) }
        if settings.ciphers, known == .tls13 { work.insert(.groups13, at: 1) }
        let collected = Collected()
        Batch.run(work, concurrency: max(1, settings.perHost), work: { item in
            switch item {
            case .version(let version): return Outcome.version(self.probeVersion(version, run: run))
            case .groups13: return Outcome.groups13(self.enumerateGroups13(run: run))
            }
        }, onResult: { collected.add($0) })

        var outcomes = collected.versions
        var groups13 = collected.groups13
        // The basic check's handshake proves its version, whatever a cut-short probe could tell.
        if let known {
            outcomes[known, default: VersionOutcome(version: known)].accepted = true
        }
        var groups: [KeyExchangeGroup] = []
        if settings.ciphers {
            if groups13 == nil, outcomes[.tls13]?.accepted == true {
                groups13 = enumerateGroups13(run: run)
            }
            let legacyGroups = enumerateGroupsBelow13(outcomes: outcomes, known: groups13 ?? [], run: run)
            groups = ((groups13 ?? []) + legacyGroups).map(KeyExchangeGroup.named)
            for group in enumerateFiniteFieldGroups(outcomes: outcomes, known: groups, run: run) where !groups.contains(group) {
                groups.append(group)
            }
        }
        return run.result(outcomes: outcomes, groups: groups, ciphers: settings.ciphers, started: started)
    }

    private enum Work: Sendable {
        case version(ProtocolVersion)
        case groups13
    }

    private enum Outcome: Sendable {
        case version(VersionOutcome)
        case groups13([NamedGroup])
    }

    private final class Collected: @unchecked Sendable {
        private let lock = MutexLock()
        private var storedVersions: [ProtocolVersion: VersionOutcome] = [:]
        private var storedGroups13: [NamedGroup]?

        func add(_ outcome: Outcome) {
            lock.withLock {
                switch outcome {
                case .version(let result): storedVersions[result.version] = result
                case .groups13(let groups): storedGroups13 = groups
                }
            }
        }

        var versions: [ProtocolVersion: VersionOutcome] { lock.withLock { storedVersions } }
        var groups13: [NamedGroup]? { lock.withLock { storedGroups13 } }
    }

    // MARK: versions and suites

    private func probeVersion(_ version: ProtocolVersion, run: ProbeRun) -> VersionOutcome {
        version == .sslv2 ? probeSSLv2(run: run) : enumerateSuites(version, run: run)
    }

    /// SSLv2's SERVER-HELLO lists every shared cipher kind: one connection says it all.
    private func probeSSLv2(run: ProbeRun) -> VersionOutcome {
        var outcome = VersionOutcome(version: .sslv2)
        let hello = ClientHello(version: .sslv2, suites: CipherSuite.candidates(for: .sslv2), random: randomBytes(32))
        guard let reply = exchange(hello, keyExchange: false, run: run) else { return outcome }
        switch reply {
        case .answer(.sslv2Hello(let serverHello)):
            outcome.suites = serverHello.cipherKinds.compactMap { CipherSuite.sslv2(code: $0) }
            outcome.accepted = !serverHello.cipherKinds.isEmpty
        case .answer(.alert), .answer(.sslv2Error), .answer(.hello), .closed, .unreadable:
            // No SERVER-HELLO: servers without SSLv2 answer its hello with a TLS alert, junk, or nothing.
            outcome.accepted = false
        case .timedOut:
            run.note("SSLv2: no answer within \(Self.seconds(settings.timeout))")
        }
        return outcome
    }

    /// The n+1 chain for one version: offer, take out the chosen suite, offer again until refused.
    private func enumerateSuites(_ version: ProtocolVersion, run: ProbeRun) -> VersionOutcome {
        var outcome = VersionOutcome(version: version)
        var pending = CipherSuite.candidates(for: version)
        // Each turn takes at least one suite out of `pending`, or ends the chain.
        chain: for _ in 0...pending.count {
            guard !pending.isEmpty else { break }
            let offered = Array(pending.prefix(run.suitesPerHello))
            switch probeSuites(version, offered: offered, run: run) {
            case .accepted(let suite, let hello):
                outcome.record(suite, hello: hello)
                pending.removeAll { $0 == suite }
                if !settings.ciphers { return outcome.settled(accepted: true) }
            case .refused(let versionRefused, let refused):
                let refusedSet = Set(refused)
                pending.removeAll { refusedSet.contains($0) }
                if versionRefused || !settings.ciphers {
                    pending.removeAll()
                    break chain
                }
            case .unknown(let reason):
                run.note("\(version.rawValue): \(reason)")
                return outcome.settled(accepted: outcome.suites.isEmpty ? nil : true)
            case .stopped:
                return outcome.settled(accepted: outcome.suites.isEmpty ? nil : true)
            }
        }
        guard pending.isEmpty else {
            run.note("\(version.rawValue): the enumeration did not converge")
            return outcome.settled(accepted: outcome.suites.isEmpty ? nil : true)
        }
        outcome.accepted = !outcome.suites.isEmpty
        if settings.ciphers, outcome.suites.count >= 2 {
            outcome.serverOrder = detectServerOrder(version, accepted: outcome.suites, run: run)
        }
        return outcome
    }

    /// Offers the accepted suites in reverse: a server that does not take the first one offered imposes its order.
    private func detectServerOrder(_ version: ProtocolVersion, accepted: [CipherSuite], run: ProbeRun) -> Bool? {
        let reversed = Array(accepted.prefix(run.suitesPerHello).reversed())
        guard case .accepted(let suite, _) = probeSuites(version, offered: reversed, run: run) else { return nil }
        return suite != reversed.first
    }

    enum Verdict {
        case accepted(CipherSuite, ServerHello)
        /// `versionRefused`: a protocol_version alert, or an answer in a lower version. `suites`: those refused.
        case refused(versionRefused: Bool, suites: [CipherSuite])
        case unknown(String)
        case stopped
    }

    /// One hello of `version` offering `offered`. A hello met with silence is retried once with half the
    /// suites, for servers that drop large hellos; when that is silent too, silence is how this server refuses.
    private func probeSuites(_ version: ProtocolVersion, offered: [CipherSuite], run: ProbeRun) -> Verdict {
        let groups = NamedGroup.offerOrder(for: version)
        let keyShares = version == .tls13 ? [x25519Share()] : []
        let hello = makeHello(version, suites: offered, groups: groups, keyShares: keyShares)
        guard let reply = exchange(hello, keyExchange: true, run: run) else { return .stopped }
        let silent = reply == .closed || reply == .timedOut
        guard silent, offered.count > 32, !run.silenceRefuses else { return verdict(reply, version: version, offered: offered) }
        let half = Array(offered.prefix(offered.count / 2))
        let smaller = makeHello(version, suites: half, groups: groups, keyShares: keyShares)
        guard let retry = exchange(smaller, keyExchange: true, run: run) else { return .stopped }
        if retry == .closed || retry == .timedOut {
            run.learnSilenceRefuses()
            return verdict(reply, version: version, offered: offered)
        }
        run.lowerSuitesPerHello(to: half.count)
        return verdict(retry, version: version, offered: half)
    }

    private func verdict(_ reply: ProbeReply, version: ProtocolVersion, offered: [CipherSuite]) -> Verdict {
        switch reply {
        case .answer(.hello(let hello)):
            guard let negotiated = hello.version else {
                return .unknown("the server answered with version 0x\(String(hello.negotiatedVersion, radix: 16))")
            }
            if negotiated < version { return .refused(versionRefused: true, suites: offered) }
            guard negotiated == version else { return .unknown("the server answered \(negotiated.rawValue) to a \(version.rawValue) hello") }
            guard let suite = offered.first(where: { UInt16(truncatingIfNeeded: $0.code) == hello.cipherSuite }) else {
                return .unknown("the server chose suite 0x\(String(hello.cipherSuite, radix: 16)), which was not offered")
            }
            return .accepted(suite, hello)
        case .answer(.alert(let alert)):
            return .refused(versionRefused: alert.code == TLSAlert.protocolVersion, suites: offered)
        case .answer(.sslv2Hello), .answer(.sslv2Error):
            return .unknown("an SSLv2 answer to a \(version.rawValue) hello")
        case .closed:
            return .refused(versionRefused: false, suites: offered)
        case .timedOut:
            return .unknown("no answer within \(Self.seconds(settings.timeout))")
        case .unreadable(let error):
            return .unknown(error.description)
        }
    }

    // MARK: groups

    /// TLS 1.3: an empty key_share makes the server name its group in a HelloRetryRequest; remove it, repeat.
    private func enumerateGroups13(run: ProbeRun) -> [NamedGroup] {
        var pending = NamedGroup.offerOrder(for: .tls13)
        var found: [NamedGroup] = []
        let suites = CipherSuite.candidates(for: .tls13)
        for _ in 0...pending.count {
            guard !pending.isEmpty else { break }
            let hello = makeHello(.tls13, suites: suites, groups: pending, keyShares: [])
            guard let reply = exchange(hello, keyExchange: false, run: run) else { break }
            guard case .answer(.hello(let answer)) = reply else {
                if case .answer(.alert) = reply { break }
                if reply == .closed { break }
                run.note("groups (TLSv1.3): \(verdictText(reply))")
                break
            }
            guard answer.version == .tls13, let code = answer.keyShareGroup, let group = pending.first(where: { $0.code == code }) else {
                if answer.version != .tls13 { break }
                run.note("groups (TLSv1.3): the server named group 0x\(String(answer.keyShareGroup ?? 0, radix: 16)), which was not offered")
                break
            }
            found.append(group)
            pending.removeAll { $0 == group }
        }
        return found
    }

    /// TLS 1.2 and earlier: ECDHE suites with the curves not seen yet; the ServerKeyExchange names the one chosen.
    private func enumerateGroupsBelow13(outcomes: [ProtocolVersion: VersionOutcome], known: [NamedGroup], run: ProbeRun) -> [NamedGroup] {
        let usable = [ProtocolVersion.tls12, .tls11, .tls10, .sslv3].first { version in
            outcomes[version]?.suites.contains { $0.keyExchange == .ecdhe || $0.keyExchange == .ecdhePSK } == true
        }
        guard let version = usable, let outcome = outcomes[version] else { return [] }
        let suites = Array(outcome.suites.filter { $0.keyExchange == .ecdhe || $0.keyExchange == .ecdhePSK }.prefix(run.suitesPerHello))
        var found: [NamedGroup] = []
        // Curves the suite enumeration already saw count without another connection.
        for seen in outcomes.values.flatMap(\.curvesSeen) where !known.contains(seen) && !found.contains(seen) {
            found.append(seen)
        }
        var pending = NamedGroup.offerOrder(for: version).filter { $0.isClassicECDHE && !known.contains($0) && !found.contains($0) }
        for _ in 0...pending.count {
            guard !pending.isEmpty else { break }
            let hello = makeHello(version, suites: suites, groups: pending, keyShares: [])
            guard let reply = exchange(hello, keyExchange: true, run: run) else { break }
            guard case .answer(.hello(let answer)) = reply, answer.version == version else {
                if case .answer(.alert) = reply { break }
                if reply == .closed { break }
                run.note("groups (\(version.rawValue)): \(verdictText(reply))")
                break
            }
            guard case .namedCurve(let code) = answer.keyExchange, let group = pending.first(where: { $0.code == code }) else {
                run.note("groups (\(version.rawValue)): the ServerKeyExchange named no offered curve")
                break
            }
            found.append(group)
            pending.removeAll { $0 == group }
        }
        return found
    }

    /// TLS 1.2 and earlier DHE (RFC 7919): the groups the suite enumeration's ServerKeyExchanges showed; then, when
    /// one of them was an RFC 7919 group, hellos with those DHE suites offering only the RFC 7919 groups not seen
    /// yet. A server that negotiates picks one of them or refuses (insufficient_security, RFC 7919 §4); one that
    /// does not answers with its own group again, and the chain ends. Without an RFC 7919 group: no connection.
    private func enumerateFiniteFieldGroups(outcomes: [ProtocolVersion: VersionOutcome], known: [KeyExchangeGroup], run: ProbeRun) -> [KeyExchangeGroup] {
        var found: [KeyExchangeGroup] = []
        for version in [ProtocolVersion.tls12, .tls11, .tls10, .sslv3] {
            for seen in outcomes[version]?.dhGroups ?? [] where !found.contains(seen.group) && !known.contains(seen.group) {
                found.append(seen.group)
            }
        }
        // SSLv3 hellos carry no supported_groups.
        let usable = [ProtocolVersion.tls12, .tls11, .tls10].first { version in
            outcomes[version]?.dhGroups.contains { $0.group.isRFC7919 } == true
        }
        guard let version = usable, let outcome = outcomes[version] else { return found }
        var suites: [CipherSuite] = []
        for seen in outcome.dhGroups where seen.group.isRFC7919 && !suites.contains(seen.suite) { suites.append(seen.suite) }
        suites = Array(suites.prefix(run.suitesPerHello))
        var pending = NamedGroup.offerOrder(for: version).filter { group in
            group.isFiniteField && !found.contains(.named(group)) && !known.contains(.named(group))
        }
        for _ in 0...pending.count {
            guard !pending.isEmpty else { break }
            let hello = makeHello(version, suites: suites, groups: pending, keyShares: [])
            guard let reply = exchange(hello, keyExchange: true, run: run) else { break }
            guard case .answer(.hello(let answer)) = reply, answer.version == version else {
                if case .answer(.alert) = reply { break }
                if reply == .closed { break }
                run.note("finite-field groups (\(version.rawValue)): \(verdictText(reply))")
                break
            }
            guard case .finiteField(_, let group) = answer.keyExchange else {
                run.note("finite-field groups (\(version.rawValue)): the ServerKeyExchange showed no DH prime")
                break
            }
            guard case .named(let named) = group, let index = pending.firstIndex(of: named) else {
                // Not one offered: the server keeps a group of its own and does not negotiate.
                if !found.contains(group) && !known.contains(group) { found.append(group) }
                break
            }
            found.append(group)
            pending.remove(at: index)
        }
        return found
    }

    private func verdictText(_ reply: ProbeReply) -> String {
        switch reply {
        case .timedOut: return "no answer within \(Self.seconds(settings.timeout))"
        case .unreadable(let error): return error.description
        case .closed: return "the server closed the connection"
        case .answer(let answer): return "unexpected answer \(answer)"
        }
    }

    // MARK: connections

    private func makeHello(_ version: ProtocolVersion, suites: [CipherSuite], groups: [NamedGroup], keyShares: [ClientHello.KeyShare]) -> ClientHello {
        ClientHello(
            version: version, suites: suites, serverName: serverName, groups: version >= .tls10 ? groups : [],
            keyShares: keyShares, random: randomBytes(32), sessionID: version == .tls13 ? randomBytes(32) : [])
    }

    /// Any 32 bytes are an x25519 public key (RFC 7748 §5); the server never gets to use it.
    private func x25519Share() -> ClientHello.KeyShare {
        ClientHello.KeyShare(group: NamedGroup.x25519, publicKey: randomBytes(32))
    }

    /// One connection through the gate, with back-off on 421 or a greeting cut short. Nil: stop probing.
    private func exchange(_ hello: ClientHello, keyExchange: Bool, run: ProbeRun) -> ProbeReply? {
        let bytes = hello.bytes()
        for attempt in 0...settings.backoffSeconds.count {
            guard !run.isStopped else { return nil }
            gate.acquire()
            let number = run.countConnection()
            let result = Result { () throws(DialogFailure) -> ProbeReply in try transport.exchange(bytes, keyExchange: keyExchange) }
            gate.release()
            transcript?(Transcript.tagged(Transcript.probeConnection(number), Transcript.probeLine(hello, reply: result)))
            switch result {
            case .success(let reply):
                return reply
            case .failure(let failure):
                guard Self.isRateLimit(failure) else {
                    run.stop(reason: "\(hello.version.rawValue) probe: \(Self.describe(failure))", rateLimited: false)
                    return nil
                }
                guard attempt < settings.backoffSeconds.count else {
                    run.stop(reason: "rate limited: \(Self.describe(failure)) after \(attempt + 1) tries", rateLimited: true)
                    return nil
                }
                gate.pause(seconds: settings.backoffSeconds[attempt])
            }
        }
        return nil
    }

    /// A 421, or a connection closed before or at the greeting: the server wants fewer connections.
    static func isRateLimit(_ failure: DialogFailure) -> Bool {
        switch failure {
        case .rateLimited: return true
        case .closed(let phase): return phase.contains("greeting")
        default: return false
        }
    }

    static func describe(_ failure: DialogFailure) -> String {
        switch failure {
        case .connectFailed(let reason): return "cannot connect: \(reason)"
        case .timeout(let phase): return "timed out while \(phase)"
        case .rateLimited(let reply, let phase): return "'\(reply.firstLine)' at \(phase)"
        case .refused(let reply): return "refused: '\(reply.firstLine)'"
        case .ehloRejected(let reply): return "EHLO refused: '\(reply.firstLine)'"
        case .protocolError(let detail): return detail
        case .closed(let phase): return "the server closed the connection while \(phase)"
        case .starttlsMissing: return "STARTTLS not offered"
        case .starttlsRejected(let reply): return "STARTTLS answered '\(reply.firstLine)'"
        case .handshakeFailed(let reason): return reason
        case .localError(let reason): return "on this machine: \(reason)"
        }
    }

    static func seconds(_ value: Double) -> String {
        value == value.rounded() ? "\(Int(value)) s" : "\(value) s"
    }
}

/// What the probes of one version found.
struct VersionOutcome: Sendable {
    var version: ProtocolVersion
    var accepted: Bool?
    var suites: [CipherSuite] = []
    var serverOrder: Bool?
    var curvesSeen: [NamedGroup] = []
    /// Finite-field DHE groups seen in ServerKeyExchange messages (prime size, group), with the suite that used each.
    var dhGroups: [(bits: Int, group: KeyExchangeGroup, suite: CipherSuite)] = []

    init(version: ProtocolVersion, accepted: Bool? = nil) {
        self.version = version
        self.accepted = accepted
    }

    mutating func record(_ suite: CipherSuite, hello: ServerHello) {
        suites.append(suite)
        switch hello.keyExchange {
        case .namedCurve(let code):
            if let group = NamedGroup.code(code), !curvesSeen.contains(group) { curvesSeen.append(group) }
        case .finiteField(let bits, let group):
            dhGroups.append((bits, group, suite))
        case .explicitCurve, nil:
            break
        }
    }

    func settled(accepted: Bool?) -> VersionOutcome {
        var copy = self
        copy.accepted = accepted
        return copy
    }
}

/// State the worker threads of one run share: connection count, the hello size, and the stop signal.
final class ProbeRun: @unchecked Sendable {
    private let lock = MutexLock()
    private var connections = 0
    private var stopped = false
    private var rateLimited = false
    private var reasons: [String] = []
    private var helloLimit: Int
    private var silence = false

    init(settings: ProbeSettings) {
        helloLimit = max(1, settings.maximumSuitesPerHello)
    }

    var suitesPerHello: Int { lock.withLock { helloLimit } }
    var isStopped: Bool { lock.withLock { stopped } }

    /// Counts a connection; returns its number, from 1.
    @discardableResult
    func countConnection() -> Int {
        lock.withLock {
            connections += 1
            return connections
        }
    }

    /// The server met a small hello with silence too: it refuses that way, no more retries with smaller hellos.
    var silenceRefuses: Bool { lock.withLock { silence } }

    func learnSilenceRefuses() { lock.withLock { silence = true } }

    func lowerSuitesPerHello(to count: Int) { lock.withLock { helloLimit = max(1, min(helloLimit, count)) } }

    func note(_ reason: String) { lock.withLock { reasons.append(reason) } }

    func stop(reason: String, rateLimited limited: Bool) {
        lock.withLock {
            if !stopped { reasons.append(reason) }
            stopped = true
            if limited { rateLimited = true }
        }
    }

    func result(outcomes: [ProtocolVersion: VersionOutcome], groups: [KeyExchangeGroup], ciphers: Bool, started: UInt64) -> ProbeResult {
        lock.withLock {
            var result = ProbeResult()
            for version in ProtocolVersion.allCases {
                result.protocols[version.rawValue] = .some(outcomes[version]?.accepted)
                if ciphers, let outcome = outcomes[version], !outcome.suites.isEmpty {
                    result.ciphers[version.rawValue] = CipherList(serverOrder: outcome.serverOrder, suites: outcome.suites.map(\.name))
                }
            }
            result.groups = groups.map(\.name)
            let smallest = ProtocolVersion.allCases.compactMap { outcomes[$0] }.flatMap(\.dhGroups).min { $0.bits < $1.bits }
            result.dhBits = smallest?.bits
            result.dhSuite = smallest?.suite.name
            result.incomplete = stopped || !reasons.isEmpty
            result.incompleteReasons = reasons
            result.connections = connections
            result.rateLimited = rateLimited
            result.durationMilliseconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1_000_000
            return result
        }
    }
}

extension NamedGroup {
    static let x25519 = NamedGroup(0x001D, "x25519")

    /// Groups as a probe offers them: the common ones first (a client-order server picks them first), then by code.
    static func offerOrder(for version: ProtocolVersion) -> [NamedGroup] {
        let preferred: [UInt16] = [0x001D, 0x0017, 0x001E, 0x0018, 0x0019, 0x0100, 0x0101, 0x0102, 0x0103, 0x0104]
        let head = preferred.compactMap { NamedGroup.code($0) }
        let tail = all.filter { !preferred.contains($0.code) }
        let ordered = head + tail
        return version == .tls13 ? ordered : ordered.filter { $0.isClassicECDHE || $0.isFiniteField }
    }
}
