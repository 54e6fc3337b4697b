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
/// `--resolver`, through the DNS library; domains always through the DNS library.
public struct LiveResolver: TargetResolving {
    /// The DNS library's resolver; nil when nothing needs it (host targets without `--resolver`).
    public let dns: DNSResolver?
    /// Host names go through `dns` too (`--resolver` given).
    public let hostsThroughDNS: Bool

    public init(dns: DNSResolver?, hostsThroughDNS: Bool) {
        self.dns = dns
        self.hostsThroughDNS = hostsThroughDNS
    }

    public func addresses(of target: Target, family: AddressFamilyFilter, deadline: Deadline) -> Result<[String], ResolutionError> {
        let timeout = deadline.secondsRemaining.rounded(.up)
        if let dns, hostsThroughDNS, case .name(let name) = target.host {
            return Result { () throws(ResolutionError) -> [String] in try dns.addresses(of: name, family: family, deadline: deadline, timeout: timeout) }
        }
        return Result { () throws(ResolutionError) -> [String] in
            try SystemResolver.addresses(of: target, family: family, deadline: deadline, timeout: timeout)
        }
    }

    public func domain(_ name: String, options: MXResolutionOptions, stop: StopSignal) -> Result<DomainResult, DNSError> {
        guard let dns else { return .failure(.configuration("no DNS resolver for domain mode")) }
        return Result { () throws(DNSError) -> DomainResult in try MXResolution.resolve(name, using: dns, options: options, stop: stop) }
    }
}
