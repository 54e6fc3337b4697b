import FoundationEssentials
import Glibc

/// The real check of an endpoint for the run engine: the SMTP/TLS dialog with the injection probe beside it,
/// then `--protocols` / `--ciphers` when asked.
public struct SMTPEndpointChecker: EndpointChecking {
    public let checker: Checker
    public let probe: ProbeSettings?

    public init(checker: Checker, probe: ProbeSettings?) {
        self.checker = checker
        self.probe = probe
    }

    public func check(_ endpoint: Endpoint, gate: ConnectionGate, stop: StopSignal, transcript: (@Sendable (String) -> Void)?) -> Observation {
        checker.check(endpoint, now: Date(), probe: probe, gate: gate, transcript: transcript, stop: stop)
    }
}

/// The real lookups: host names through the system resolver (getaddrinfo, /etc/hosts honoured) or, with
/// `--resolver` (or `--dane`), through the DNS library; domains always through the DNS library. Every question to
/// the DNS library goes through one `SharedDNSLookup`, which the run's DANE lookups share.
public struct LiveResolver: TargetResolving {
    /// The DNS library's resolver; nil when nothing needs it (host targets without `--resolver`).
    public let dns: DNSResolver?
    /// `dns`, each question asked once per run.
    public let lookup: SharedDNSLookup?
    /// Host names go through `dns` too (`--resolver` or `--dane` given).
    public let hostsThroughDNS: Bool
    /// With DANE: the validating and the plain lookup, the first serving when the resolver carries DNSSEC.
    public let dnssec: DNSSECLookups?

    public init(dns: DNSResolver?, hostsThroughDNS: Bool) {
        self.dns = dns
        lookup = dns.map { SharedDNSLookup($0) }
        self.hostsThroughDNS = hostsThroughDNS
        dnssec = nil
    }

    /// For a run that evaluates DANE: every lookup goes through `dnssec`.
    public init(dnssec: DNSSECLookups, hostsThroughDNS: Bool) {
        dns = nil
        lookup = dnssec.plain
        self.hostsThroughDNS = hostsThroughDNS
        self.dnssec = dnssec
    }

    private func lookup(stop: StopSignal?, alongside: [DNSQuestion] = []) -> SharedDNSLookup? {
        dnssec?.lookup(stop: stop, alongside: alongside) ?? lookup
    }

    public func addresses(of target: Target, family: AddressFamilyFilter, deadline: Deadline) -> Result<[String], ResolutionError> {
        let timeout = deadline.secondsRemaining.rounded(.up)
        if hostsThroughDNS, case .name(let name) = target.host, let lookup = lookup(stop: deadline.stop) {
            return Result { () throws(ResolutionError) -> [String] in try lookup.addresses(of: name, family: family, deadline: deadline, timeout: timeout) }
        }
        return Result { () throws(ResolutionError) -> [String] in
            try SystemResolver.addresses(of: target, family: family, deadline: deadline, timeout: timeout)
        }
    }

    public func domain(_ name: String, options: MXResolutionOptions, stop: StopSignal) -> Result<DomainResult, DNSError> {
        // The domain's MX question rides with the DNSSEC check, if that is still to come.
        guard let lookup = lookup(stop: stop, alongside: [DNSQuestion(name, .mx)]) else { return .failure(.configuration("no DNS resolver for domain mode")) }
        return Result { () throws(DNSError) -> DomainResult in try MXResolution.resolve(name, using: lookup, options: options, stop: stop) }
    }
}
