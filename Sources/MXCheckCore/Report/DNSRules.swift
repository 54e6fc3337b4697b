/// The rules of `--mx` mode's DNS findings: one finding for each fact MXResolution reports.
public enum DNSRules {
    public static func finding(for fact: DNSFact) -> Finding {
        switch fact {
        case .timeout(let question, let seconds):
            return Finding(.dnsTimeout, message: "no answer for \(question) within \(Self.seconds(seconds))")
        case .lookupFailed(let error):
            return Finding(.dnsServfail, message: "lookup failed: \(error)")
        case .validationFailed(let question, let why):
            return Finding(.dnsServfail, message: "DNSSEC validation failed for \(question): \(why ?? "bogus")")
        case .resolverAnswered(let rcode, let question):
            return Finding(.dnsServfail, message: "the resolver answered \(rcode) for \(question)")
        case .domainNXDomain(let domain):
            return Finding(.dnsNXDomain, message: "\(domain) does not exist (NXDOMAIN)")
        case .malformedMX(let domain, let error):
            return Finding(.dnsServfail, message: "malformed MX answer for \(domain): \(error)")
        case .implicitMX(let domain):
            return Finding(.dnsImplicitMX, message: "\(domain) has no MX record: its own A/AAAA serve as its MX (RFC 5321 §5.1)")
        case .nullMX(let domain, let preference):
            return Finding(.dnsNullMX, message: "\(domain) publishes a null MX (MX \(preference) .): it accepts no mail; nothing to connect to")
        case .nullMXBesideOthers(let preference):
            return Finding(.dnsSkipped, message: "MX \(preference) . (null MX) is published beside other MX records, which RFC 7505 forbids: ignored")
        case .mxIPLiteral(let record):
            return Finding(.dnsMXIPLiteral, message: "MX \(record.preference) \(record.exchange) names an IP address, not a host: not checked, as sending MTAs do not deliver there")
        case .tooManyHosts(let domain, let total, let checked, let skipped):
            let names = skipped.map { "\($0.host) (preference \($0.preference))" }
            return Finding(.dnsSkipped, message: "\(domain) has \(total) MX hosts: checked the first \(checked) by preference; skipped \(list(names))")
        case .noAddressInFamily(let domain, let family, let skipped):
            let name = family == .ipv4Only ? "IPv4 (-4)" : "IPv6 (-6)"
            return Finding(.dnsSkipped, message: "no address of \(domain)'s MX hosts is \(name): skipped \(list(skipped))")
        case .hostNXDomain(let host, let domain, let implicitMX):
            return Finding(.dnsNXDomain, message: "\(hostPhrase(host, domain: domain, implicitMX: implicitMX)) does not exist (NXDOMAIN)")
        case .mxCNAME(let host, let target):
            return Finding(.dnsMXCNAME, message: "MX host \(host) is a CNAME to \(target) (RFC 5321 §5.1 forbids it); checked under the name \(host.host)")
        case .malformedAddresses(let host, let type, let error):
            return Finding(.dnsServfail, message: "malformed \(type) answer for \(host): \(error)")
        case .hostNoAddress(let host, let domain, let implicitMX):
            return Finding(.dnsMXNoAddress, message: implicitMX
                ? "\(domain) has no MX record and neither A nor AAAA: it cannot receive mail"
                : "\(hostPhrase(host, domain: domain, implicitMX: false)) has neither A nor AAAA")
        case .tooManyAddresses(let host, let total, let checked, let skipped):
            return Finding(.dnsSkipped, message: "\(host) has \(total) addresses: checked the first \(checked); skipped \(list(skipped))")
        }
    }

    /// A list for a message: at most `limit` items, then how many more.
    static func list(_ items: [String], limit: Int = 10) -> String {
        let shown = items.prefix(limit).joined(separator: ", ")
        return items.count > limit ? "\(shown) and \(items.count - limit) more" : shown
    }

    /// "10 s", "2.5 s".
    static func seconds(_ value: Double) -> String {
        value == value.rounded() && value < 1e6 ? "\(Int(value)) s" : "\(value) s"
    }

    /// "example.com (implicit MX)" or "MX host mx.example.com (preference 10)".
    static func hostPhrase(_ host: MXHost, domain: String, implicitMX: Bool) -> String {
        implicitMX ? "\(domain) (implicit MX)" : "MX host \(host)"
    }
}

extension DomainResult {
    /// Every dns.* finding about the domain, in the order found (see `facts`).
    public var findings: [Finding] { facts.map(DNSRules.finding) }
}

extension DomainEndpoint {
    /// The findings that go on this endpoint's report: the domain-level ones, then its MX host's own.
    public var findings: [Finding] { facts.map(DNSRules.finding) }
}

extension HostWithoutEndpoint {
    /// This MX host's own findings.
    public var findings: [Finding] { facts.map(DNSRules.finding) }
}
