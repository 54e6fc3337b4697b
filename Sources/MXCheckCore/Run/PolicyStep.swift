import FoundationEssentials

/// What the transport policies say about one MX host (or host target) before its endpoints are checked: looked
/// up once per host and shared by its endpoints. DANE now; MTA-STS adds its own member beside it.
public struct HostPolicy: Sendable {
    /// The RFC 7672 lookups' outcome; nil when DANE is not evaluated (off, or the resolver cannot carry DNSSEC).
    public var dane: DANEPolicy?
    /// Findings of a policy that could not be evaluated (`dane.resolver_unusable`), for every endpoint of the host.
    public var findings: [Finding]

    public init(dane: DANEPolicy? = nil, findings: [Finding] = []) {
        self.dane = dane
        self.findings = findings
    }

    /// The endpoint as the check must see it: SNI is the TLSA base domain where DANE applies (RFC 7672 §8.1);
    /// the identity checked against the certificate stays the host's.
    public func prepared(_ endpoint: Endpoint) -> Endpoint {
        guard let dane else { return endpoint }
        switch dane.outcome {
        case .records, .absent:
            var endpoint = endpoint
            endpoint.serverName = dane.serverName
            return endpoint
        default:
            return endpoint
        }
    }

    /// After the check: the policies' verdicts on what the server sent (DANE: the chain, at the check's time).
    public func evaluated(_ observation: Observation, at time: Date) -> EndpointPolicy {
        let evaluation = dane.map { DANEEvaluation(policy: $0, chainDER: observation.tls?.chainDER, at: time) }
        return EndpointPolicy(dane: evaluation, findings: findings)
    }
}

/// The DNS of a run that evaluates DANE: a validating resolver (with the trust anchor) and a plain one over the
/// same servers. Whether the resolver carries DNSSEC is checked once, before the first lookup; when it does not,
/// the plain one serves every lookup (so that no answer looks bogus) and DANE is not evaluated.
public final class DNSSECLookups: @unchecked Sendable {  // `support` is only touched under `lock`
    public let validating: SharedDNSLookup
    public let plain: SharedDNSLookup
    /// The trust anchor file `validating` uses; nil: none, so DNSSEC cannot be validated.
    public let trustAnchorFile: String?
    /// Bound on the support check, in seconds.
    public let timeout: Double
    private let lock = MutexLock()
    private var support: DNSSECSupport?

    public init(validating: SharedDNSLookup, plain: SharedDNSLookup, trustAnchorFile: String?, timeout: Double) {
        self.validating = validating
        self.plain = plain
        self.trustAnchorFile = trustAnchorFile
        self.timeout = timeout
    }

    /// Whether the resolver passes DNSSEC records: the trust anchors' DNSKEY RRsets must validate. Asked once per
    /// run; callers meanwhile wait (bounded by `timeout`). `alongside`: questions the first caller asks next, sent in
    /// the same batch through the validating lookup (which keeps their answers), so the check costs no round trip
    /// of its own.
    public func dnssecSupport(stop: StopSignal?, alongside: [DNSQuestion] = []) -> DNSSECSupport {
        lock.lock()
        defer { lock.unlock() }
        if let support { return support }
        let found: DNSSECSupport
        if let trustAnchorFile {
            do {
                found = validating.dnssecSupport(anchors: try TrustAnchorFile.owners(ofFile: trustAnchorFile), deadline: Deadline(secondsFromNow: timeout, stop: stop), alongside: alongside)
            } catch {
                found = .unusable(reason: error.description)
            }
        } else {
            found = .unusable(reason: "no DNSSEC trust anchor is configured (give --trust-anchor FILE, e.g. Debian's /usr/share/dns/root.key)")
        }
        // A check the run's stop cut short says nothing about the resolver.
        if !(stop?.isRaised ?? false) { support = found }
        return found
    }

    /// The lookup for MX and address questions: the validating one when the resolver carries DNSSEC.
    public func lookup(stop: StopSignal?, alongside: [DNSQuestion] = []) -> SharedDNSLookup {
        dnssecSupport(stop: stop, alongside: alongside).isUsable ? validating : plain
    }
}

/// DANE for a run: the RFC 7672 lookups of each MX host through the run's shared validating lookup (each name
/// asked once per run, whoever asks first), once the resolver's DNSSEC support is known.
public struct DANEPolicyStep: Sendable {
    public let dns: DNSSECLookups
    /// Bound on each round of lookups, in seconds.
    public let timeout: Double

    public init(dns: DNSSECLookups, timeout: Double) {
        self.dns = dns
        self.timeout = timeout
    }

    private var lookup: SharedDNSLookup { dns.validating }

    /// Without DNSSEC support: no lookup, the finding instead.
    private func unsupported(_ stop: StopSignal?) -> HostPolicy? {
        guard case .unusable(let reason) = dns.dnssecSupport(stop: stop) else { return nil }
        return HostPolicy(findings: [DANERules.resolverUnusable(reason: reason)])
    }

    /// The policy of every MX host with an endpoint in a `--mx` result, keyed by host; the hosts' lookups go out together.
    public func policies(for domain: DomainResult, port: UInt16, stop: StopSignal?) -> [String: HostPolicy] {
        let hosts = Set(domain.endpoints.map(\.mx.host))
        guard !hosts.isEmpty else { return [:] }
        if let unusable = unsupported(stop) { return Dictionary(uniqueKeysWithValues: hosts.map { ($0, unusable) }) }
        let found = DANEPolicyLookup.policies(for: domain, port: port, using: lookup, deadline: Deadline(secondsFromNow: timeout, stop: stop))
        return found.mapValues { HostPolicy(dane: $0) }
    }

    /// The policy of a host target (`--dane`): `_PORT._tcp.<host>`, no MX RRset.
    public func policy(forHost host: String, port: UInt16, stop: StopSignal?) -> HostPolicy {
        if let unusable = unsupported(stop) { return unusable }
        let request = DANELookupRequest(host: host, port: port)
        return HostPolicy(dane: DANEPolicyLookup.policy(for: request, using: lookup, deadline: Deadline(secondsFromNow: timeout, stop: stop)))
    }
}

/// The engine's policy step: for a domain's MX hosts (or a host target), before their endpoints are checked, what
/// each transport policy says. Every member is optional; an empty step changes nothing.
public struct PolicyStep: Sendable {
    public var dane: DANEPolicyStep?

    public init(dane: DANEPolicyStep? = nil) {
        self.dane = dane
    }

    /// Per MX host of a domain with endpoints; empty when no policy is evaluated.
    public func policies(for domain: DomainResult, port: UInt16, stop: StopSignal?) -> [String: HostPolicy] {
        dane?.policies(for: domain, port: port, stop: stop) ?? [:]
    }

    /// For a host target named by a host name; nil when no policy is evaluated.
    public func policy(forHost host: String, port: UInt16, stop: StopSignal?) -> HostPolicy? {
        dane?.policy(forHost: host, port: port, stop: stop)
    }
}
