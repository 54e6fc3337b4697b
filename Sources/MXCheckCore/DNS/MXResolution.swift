import FoundationEssentials
import Glibc

/// An MX host as the domain publishes it (for the implicit MX: the domain itself, preference 0).
public struct MXHost: Sendable, Hashable, CustomStringConvertible {
    /// Lower case, without the trailing dot.
    public var host: String
    public var preference: UInt16

    public init(host: String, preference: UInt16) {
        self.host = host
        self.preference = preference
    }

    public var description: String { "\(host) (preference \(preference))" }
}

/// One address of one MX host of a domain, ready to check.
public struct DomainEndpoint: Sendable, Equatable {
    /// host, serverName and referenceIdentity are the MX host name, as a sending MTA checks it.
    public var endpoint: Endpoint
    public var domain: String
    public var mx: MXHost
    /// What goes on this endpoint's report: the domain-level dns.* facts, then this MX host's own.
    public var facts: [DNSFact]
    /// The MX answer and this address's answer were both DNSSEC-validated.
    public var secure: Bool

    public init(endpoint: Endpoint, domain: String, mx: MXHost, facts: [DNSFact], secure: Bool) {
        self.endpoint = endpoint
        self.domain = domain
        self.mx = mx
        self.facts = facts
        self.secure = secure
    }
}

/// An MX host that yields no endpoint (no address, NXDOMAIN, an IP literal), with its own facts.
public struct HostWithoutEndpoint: Sendable, Equatable {
    public var mx: MXHost
    public var facts: [DNSFact]

    public init(mx: MXHost, facts: [DNSFact]) {
        self.mx = mx
        self.facts = facts
    }
}

/// Everything `--mx DOMAIN` learned from DNS.
public struct DomainResult: Sendable, Equatable {
    /// Lower case, without the trailing dot.
    public var domain: String
    /// The MX records as published, sorted by preference then name (empty for no MX, one "." for null MX).
    public var mx: [MXRecord]
    /// No MX record: the domain's own addresses serve (RFC 5321 §5.1).
    public var implicitMX: Bool
    /// In MX order (preference, name), then IPv4 before IPv6, each family in address order.
    public var endpoints: [DomainEndpoint]
    /// Every fact behind a dns.* finding about the domain, in the order found (DNSRules judges them). With no
    /// endpoint, their findings go on the one `target: null` object; with endpoints, each endpoint carries the
    /// domain's and its own MX host's in `DomainEndpoint.facts`, and each MX host without an endpoint its own
    /// in `hostsWithoutEndpoint`.
    public var facts: [DNSFact]
    /// With endpoints: the MX hosts that yield none, in MX order (empty when the domain has no endpoint).
    public var hostsWithoutEndpoint: [HostWithoutEndpoint]

    public init(domain: String, mx: [MXRecord], implicitMX: Bool, endpoints: [DomainEndpoint], facts: [DNSFact], hostsWithoutEndpoint: [HostWithoutEndpoint] = []) {
        self.domain = domain
        self.mx = mx
        self.implicitMX = implicitMX
        self.endpoints = endpoints
        self.facts = facts
        self.hostsWithoutEndpoint = hostsWithoutEndpoint
    }
}

public struct MXResolutionOptions: Sendable {
    /// The SMTP port of every endpoint (`--port`).
    public var port: UInt16
    /// `--tls`; auto becomes implicit on 465, STARTTLS elsewhere.
    public var tls: TLSMode
    /// `-4` / `-6`.
    public var family: AddressFamilyFilter
    /// Bound on each round of DNS questions (the MX question, then all address questions at once). Keep it under
    /// about 15 s: past that libunbound gives up on a silent server by itself (17 s seen) and says SERVFAIL.
    public var queryTimeout: Double
    public var maxHosts: Int
    public var maxAddressesPerHost: Int
    /// A bogus answer with NOERROR is still used (its data gives endpoints), without a dns.* finding: DANE
    /// reports it (`dane.dnssec_bogus`) on each endpoint. Off, a bogus answer is a dns.servfail.
    public var usesBogusAnswers = false

    public init(
        port: UInt16 = 25, tls: TLSMode = .auto, family: AddressFamilyFilter = .any, queryTimeout: Double = 10,
        maxHosts: Int = 20, maxAddressesPerHost: Int = 10
    ) {
        self.port = port
        self.tls = tls
        self.family = family
        self.queryTimeout = queryTimeout
        self.maxHosts = maxHosts
        self.maxAddressesPerHost = maxAddressesPerHost
    }
}

/// Domain mode (`--mx`): from a domain to the endpoints a sending MTA would try, with what DNS got wrong.
public enum MXResolution {
    /// Resolves a domain's MX hosts and their addresses. Throws only for text that is no domain name (a usage
    /// error); everything DNS says, including failures, comes back as facts (DNSRules makes the findings).
    public static func resolve(
        _ domain: String, using resolver: some DNSLookup, options: MXResolutionOptions = MXResolutionOptions(), stop: StopSignal? = nil
    ) throws(DNSError) -> DomainResult {
        let domain = try normalizedDomain(domain)
        var run = Run(domain: domain, options: options, stop: stop)
        run.resolve(using: resolver)
        return run.result()
    }

    /// Lower case, no trailing dot, checked against RFC 1035's length limits; IP addresses are refused.
    public static func normalizedDomain(_ text: String) throws(DNSError) -> String {
        let name = DNSName.normalized(text.trimmingBlanks())
        guard !name.isEmpty, name != "." else { throw .invalidName(text, reason: "empty") }
        guard name.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 0x20 && $0.value < 0x7F }) else {
            throw .invalidName(text, reason: "only ASCII letters, digits, hyphens and dots (give an IDN as its xn-- form)")
        }
        guard !isIPLiteral(name) else { throw .invalidName(text, reason: "an IP address, not a domain") }
        guard name.utf8.count <= 253 else { throw .invalidName(text, reason: "longer than 253 characters") }
        for label in name.split(separator: ".", omittingEmptySubsequences: false) {
            guard !label.isEmpty else { throw .invalidName(text, reason: "empty label") }
            guard label.utf8.count <= 63 else { throw .invalidName(text, reason: "a label longer than 63 characters") }
        }
        return name
    }

    static func isIPLiteral(_ name: String) -> Bool {
        var text = DNSName.display(name)
        if text.hasPrefix("["), text.hasSuffix("]") { text = String(text.dropFirst().dropLast()) }
        return IPAddressText.isIPv4(text) || IPAddressText.isIPv6(text)
    }

    /// The state of one resolution; facts keep the MX host they are about (nil: the whole domain).
    private struct Run {
        let domain: String
        let options: MXResolutionOptions
        var records: [MXRecord] = []
        var implicitMX = false
        var mxSecure = false
        var endpoints: [DomainEndpoint] = []
        var facts: [(host: String?, fact: DNSFact)] = []
        var filteredOut: [String] = []
        /// Every MX host named, checked or not, so a host's findings can go on an object of its own.
        var named: [MXHost] = []
        var literalHosts: [MXHost] = []

        let stop: StopSignal?

        init(domain: String, options: MXResolutionOptions, stop: StopSignal?) {
            self.domain = domain
            self.options = options
            self.stop = stop
        }

        mutating func add(_ fact: DNSFact, about host: String? = nil) {
            facts.append((host, fact))
        }

        /// dns.timeout or dns.servfail for a question that got no usable answer; true when it did.
        mutating func usable(_ result: Result<DNSAnswer, DNSError>, about host: String? = nil) -> DNSAnswer? {
            switch result {
            case .failure(.timeout(let question)):
                add(.timeout(question, seconds: options.queryTimeout), about: host)
                return nil
            case .failure(let error):
                add(.lookupFailed(error), about: host)
                return nil
            case .success(let answer):
                if answer.bogus && !(options.usesBogusAnswers && answer.rcode == .noError) {
                    add(.validationFailed(answer.question, why: answer.whyBogus), about: host)
                    return nil
                }
                switch answer.rcode {
                case .noError, .nxDomain:
                    return answer
                default:
                    add(.resolverAnswered(answer.rcode, answer.question), about: host)
                    return nil
                }
            }
        }

        mutating func resolve(using resolver: some DNSLookup) {
            let question = DNSQuestion(domain, .mx)
            let result = resolver.answer(to: question, deadline: Deadline(secondsFromNow: options.queryTimeout, stop: stop))
            guard let answer = usable(result) else { return }
            mxSecure = answer.secure
            if answer.rcode == .nxDomain {
                add(.domainNXDomain(domain: domain))
                return
            }
            let published: [MXRecord]
            do {
                published = try answer.mxRecords()
            } catch {
                add(.malformedMX(domain: domain, error: error))
                return
            }
            records = published.map { MXRecord(preference: $0.preference, exchange: DNSName.normalized($0.exchange)) }
                .sorted { ($0.preference, $0.exchange) < ($1.preference, $1.exchange) }
            if records.isEmpty {
                implicitMX = true
                add(.implicitMX(domain: domain))
                resolveAddresses(of: [MXHost(host: domain, preference: 0)], using: resolver)
                return
            }
            if records.count == 1, let only = records.first, only.isNull {
                add(.nullMX(domain: domain, preference: only.preference))
                return
            }
            var hosts: [MXHost] = []
            for record in records {
                if record.isNull {
                    add(.nullMXBesideOthers(preference: record.preference))
                } else if MXResolution.isIPLiteral(record.exchange) {
                    literalHosts.append(MXHost(host: record.exchange, preference: record.preference))
                    add(.mxIPLiteral(record), about: record.exchange)
                } else if !hosts.contains(where: { $0.host == record.exchange }) {
                    // Records are sorted, so a host listed twice keeps its lowest preference.
                    hosts.append(MXHost(host: record.exchange, preference: record.preference))
                }
            }
            if hosts.count > options.maxHosts {
                add(.tooManyHosts(domain: domain, total: hosts.count, checked: options.maxHosts, skipped: Array(hosts[options.maxHosts...])))
                hosts = Array(hosts.prefix(options.maxHosts))
            }
            resolveAddresses(of: hosts, using: resolver)
        }

        /// A and AAAA of every host at once, under one deadline.
        mutating func resolveAddresses(of hosts: [MXHost], using resolver: some DNSLookup) {
            named += hosts
            guard !hosts.isEmpty else { return }
            let questions = hosts.flatMap { [DNSQuestion($0.host, .a), DNSQuestion($0.host, .aaaa)] }
            let results = resolver.answers(to: questions, deadline: Deadline(secondsFromNow: options.queryTimeout, stop: stop))
            for (index, host) in hosts.enumerated() {
                let v4 = index * 2 < results.count ? results[index * 2] : .failure(.timeout(questions[index * 2]))
                let v6 = index * 2 + 1 < results.count ? results[index * 2 + 1] : .failure(.timeout(questions[index * 2 + 1]))
                addEndpoints(of: host, v4: v4, v6: v6)
            }
            if endpoints.isEmpty && !filteredOut.isEmpty {
                add(.noAddressInFamily(domain: domain, family: options.family, skipped: filteredOut))
            }
        }

        mutating func addEndpoints(of host: MXHost, v4: Result<DNSAnswer, DNSError>, v6: Result<DNSAnswer, DNSError>) {
            let answers = [usable(v4, about: host.host), usable(v6, about: host.host)].compactMap { $0 }
            if answers.contains(where: { $0.rcode == .nxDomain }) {
                add(.hostNXDomain(host, domain: domain, implicitMX: implicitMX), about: host.host)
                return
            }
            if !implicitMX, let alias = answers.first(where: { $0.followedCNAME }), let target = alias.cnameTarget {
                add(.mxCNAME(host, target: target), about: host.host)
            }
            var addresses: [(address: String, secure: Bool)] = []
            for answer in answers {
                do {
                    let found = try answer.addresses().sorted { (IPAddressText.bytes(of: $0) ?? []).lexicographicallyPrecedes(IPAddressText.bytes(of: $1) ?? []) }
                    for address in found where !addresses.contains(where: { $0.address == address }) {
                        addresses.append((address, answer.secure))
                    }
                } catch {
                    add(.malformedAddresses(host: host.host, type: answer.question.type, error: error), about: host.host)
                }
            }
            // Both questions answered, neither with an address: the host has none (a failed one was reported above).
            if addresses.isEmpty && answers.count == 2 {
                add(.hostNoAddress(host, domain: domain, implicitMX: implicitMX), about: host.host)
                return
            }
            let admitted = addresses.filter { options.family.admits($0.address) }
            filteredOut += addresses.filter { !options.family.admits($0.address) }.map { "\($0.address) (\(host.host))" }
            if admitted.count > options.maxAddressesPerHost {
                let skipped = admitted[options.maxAddressesPerHost...].map(\.address)
                add(.tooManyAddresses(host: host.host, total: admitted.count, checked: options.maxAddressesPerHost, skipped: skipped), about: host.host)
            }
            let mode = options.tls.resolved(forPort: options.port)
            for entry in admitted.prefix(options.maxAddressesPerHost) {
                let endpoint = Endpoint(host: host.host, address: entry.address, port: options.port, tls: mode, serverName: host.host, referenceIdentity: host.host)
                endpoints.append(DomainEndpoint(endpoint: endpoint, domain: domain, mx: host, facts: [], secure: mxSecure && entry.secure))
            }
        }

        /// Each endpoint gets the domain-level facts and those of its own MX host; an MX host without an
        /// endpoint gets an object of its own with its own facts. A domain with no endpoint at all has all
        /// its facts on its one object.
        func result() -> DomainResult {
            let all = facts.map(\.fact)
            guard !endpoints.isEmpty else {
                return DomainResult(domain: domain, mx: records, implicitMX: implicitMX, endpoints: [], facts: all)
            }
            let checked = Set(endpoints.map(\.mx.host))
            let placed = endpoints.map { entry in
                var entry = entry
                entry.facts = facts.filter { $0.host == nil || $0.host == entry.mx.host }.map(\.fact)
                return entry
            }
            var without: [HostWithoutEndpoint] = []
            let hosts = (named + literalHosts).sorted { ($0.preference, $0.host) < ($1.preference, $1.host) }
            for host in hosts where !checked.contains(host.host) && !without.contains(where: { $0.mx.host == host.host }) {
                let own = facts.filter { $0.host == host.host }.map(\.fact)
                if !own.isEmpty { without.append(HostWithoutEndpoint(mx: host, facts: own)) }
            }
            return DomainResult(domain: domain, mx: records, implicitMX: implicitMX, endpoints: placed, facts: all, hostsWithoutEndpoint: without)
        }
    }
}
