/// One MX host (or `--dane` host target) whose DANE policy is wanted.
public struct DANELookupRequest: Sendable, Hashable {
    /// The MX host name (or host target), with or without the trailing dot.
    public var host: String
    public var port: UInt16
    /// The domain whose MX RRset named the host (`--mx`); nil for a host target.
    public var domain: String?
    /// The DNSSEC state of that MX RRset; nil for a host target or when the MX lookup got no answer.
    public var mxDNSSEC: DNSSECState?
    /// Why the MX RRset is bogus (libunbound's why_bogus), for the message.
    public var mxWhyBogus: String?

    public init(host: String, port: UInt16 = 25, domain: String? = nil, mxDNSSEC: DNSSECState? = nil, mxWhyBogus: String? = nil) {
        self.host = host
        self.port = port
        self.domain = domain
        self.mxDNSSEC = mxDNSSEC
        self.mxWhyBogus = mxWhyBogus
    }

    /// For an endpoint of `--mx` mode: the MX answer's state comes from `MXResolution`.
    public init(host: String, port: UInt16, domain: String, mxAnswer: DNSAnswer?) {
        self.init(host: host, port: port, domain: domain, mxDNSSEC: mxAnswer?.dnssec, mxWhyBogus: mxAnswer?.whyBogus)
    }
}

/// The lookups of RFC 7672 §2.2, each answer DNSSEC-validated by mxcheck:
/// 1. the MX RRset's state (given by the caller: a bogus one ends the matter);
/// 2. the host's A and AAAA: insecure addresses mean no TLSA query at all (not_applicable), bogus ones an error;
/// 3. with secure addresses (also when the MX RRset is insecure, RFC 7672 §2.2.1), TLSA at `_PORT._tcp.<host>`;
///    for a CNAME'd host the expanded name first, then the original name when the expanded one securely has
///    none (RFC 7672 §2.2.2); secure denial is `absent`, SERVFAIL/timeout/bogus an error.
/// Lookups of different hosts go out together (all addresses at once, then all TLSA at once); give a
/// `SharedDNSLookup` so that each name is asked once per run, whoever asks.
public enum DANEPolicyLookup {
    public static func policies(for requests: [DANELookupRequest], using lookup: some DNSLookup, deadline: Deadline) -> [DANEPolicy] {
        var states = requests.map(State.init)
        // Round 1: the addresses of every host whose MX RRset is not bogus.
        let addressAsking = states.indices.filter { states[$0].policy == nil }
        let addressQuestions = addressAsking.flatMap { [DNSQuestion(states[$0].host, .a), DNSQuestion(states[$0].host, .aaaa)] }
        let addressResults = addressQuestions.isEmpty ? [] : lookup.answers(to: addressQuestions, deadline: deadline)
        for (position, index) in addressAsking.enumerated() {
            states[index].addresses(v4: result(addressResults, 2 * position, addressQuestions), v6: result(addressResults, 2 * position + 1, addressQuestions))
        }
        // Round 2: TLSA at the (expanded) name; round 3: at the original name where the expanded one has none.
        for _ in 0..<2 {
            let asking = states.indices.filter { states[$0].policy == nil && states[$0].nextTLSABase != nil }
            guard !asking.isEmpty else { break }
            let questions = asking.map { DNSQuestion(DANEPolicy.tlsaName(port: states[$0].request.port, base: states[$0].nextTLSABase!), .tlsa) }
            let results = lookup.answers(to: questions, deadline: deadline)
            for (position, index) in asking.enumerated() {
                states[index].tlsa(result(results, position, questions))
            }
        }
        return states.map { $0.policy ?? $0.make(.lookupFailed(reason: "no TLSA lookup was made"), tlsa: nil) }
    }

    /// One policy; see `policies(for:using:deadline:)`.
    public static func policy(for request: DANELookupRequest, using lookup: some DNSLookup, deadline: Deadline) -> DANEPolicy {
        policies(for: [request], using: lookup, deadline: deadline)[0]
    }

    private static func result(_ results: [Result<DNSAnswer, DNSError>], _ index: Int, _ questions: [DNSQuestion]) -> Result<DNSAnswer, DNSError> {
        index < results.count ? results[index] : .failure(.timeout(questions[index]))
    }

    /// The progress of one request through the rounds; `policy` is set once the outcome is known.
    private struct State {
        let request: DANELookupRequest
        let host: String
        var policy: DANEPolicy?
        var addressState: DNSSECState?
        /// The CNAME-expanded host name, when the address answers followed a CNAME.
        var expanded: String?
        /// TLSA base domains still to try, in order.
        var bases: [String] = []
        var firstBase: String?

        init(_ request: DANELookupRequest) {
            self.request = request
            host = DNSName.normalized(request.host)
            if request.mxDNSSEC == .bogus {
                let domain = request.domain.map { " of \($0)" } ?? ""
                policy = make(.bogus(reason: "DNSSEC validation failed for the MX RRset\(domain) (\(request.mxWhyBogus ?? "bogus"))"), tlsa: nil)
            }
        }

        var nextTLSABase: String? { bases.first }

        func make(_ outcome: DANEPolicy.Outcome, tlsa: DNSSECState?, base: String? = nil) -> DANEPolicy {
            let tlsaBase = base ?? firstBase ?? host
            var names = [tlsaBase]
            if tlsaBase != host { names.append(host) }
            if let expanded, !names.contains(expanded) { names.append(expanded) }
            // The domain is a reference identity only when the MX RRset that leads to the host is secure.
            if request.mxDNSSEC == .secure, let domain = request.domain.map(DNSName.normalized), !names.contains(domain) { names.append(domain) }
            return DANEPolicy(host: host, port: request.port, tlsaBase: tlsaBase, mxDNSSEC: request.mxDNSSEC, addressDNSSEC: addressState,
                              tlsaDNSSEC: tlsa, outcome: outcome, referenceIdentities: names)
        }

        mutating func addresses(v4: Result<DNSAnswer, DNSError>, v6: Result<DNSAnswer, DNSError>) {
            var answers: [DNSAnswer] = []
            var failures: [String] = []
            for result in [v4, v6] {
                switch result {
                case .failure(let error):
                    failures.append(error.description)
                case .success(let answer) where answer.dnssec == nil:
                    failures.append("the resolver answered \(answer.rcode) for \(answer.question)")
                case .success(let answer):
                    answers.append(answer)
                }
            }
            if let bogus = answers.first(where: { $0.dnssec == .bogus }) {
                addressState = .bogus
                policy = make(.bogus(reason: "DNSSEC validation failed for \(bogus.question) (\(bogus.whyBogus ?? "bogus"))"), tlsa: nil)
                return
            }
            guard !answers.isEmpty else {
                policy = make(.lookupFailed(reason: "the addresses of \(host) could not be looked up (\(failures.joined(separator: "; ")))"), tlsa: nil)
                return
            }
            let withData = answers.filter { !$0.rdata.isEmpty }
            if answers.contains(where: { $0.dnssec == .insecure }) {
                addressState = .insecure
                let unsigned = answers.first { $0.dnssec == .insecure }!
                let denial = unsigned.rcode == .nxDomain ? "does not exist, unsigned" : unsigned.rdata.isEmpty ? "has no data, unsigned" : "is not DNSSEC-signed"
                policy = make(.notApplicable(reason: "\(unsigned.question) \(denial)"), tlsa: nil)
                return
            }
            addressState = .secure
            guard !withData.isEmpty else {
                policy = make(.notApplicable(reason: "\(host) has no address record (DNSSEC-signed denial)"), tlsa: nil)
                return
            }
            // A secure CNAME chain: its target is the TLSA base domain, then the original name (RFC 7672 §2.2.2).
            if let alias = withData.first(where: \.followedCNAME), let target = alias.cnameTarget.map(DNSName.normalized), target != host {
                expanded = target
                bases = [target, host]
            } else {
                bases = [host]
            }
            firstBase = bases.first
        }

        mutating func tlsa(_ result: Result<DNSAnswer, DNSError>) {
            let base = bases.removeFirst()
            let name = DANEPolicy.tlsaName(port: request.port, base: base)
            switch result {
            case .failure(.timeout):
                policy = make(.lookupFailed(reason: "no answer for TLSA \(name) in time"), tlsa: nil, base: base)
            case .failure(let error):
                policy = make(.lookupFailed(reason: "the TLSA lookup of \(name) failed (\(error))"), tlsa: nil, base: base)
            case .success(let answer):
                switch answer.dnssec {
                case nil:
                    policy = make(.lookupFailed(reason: "the resolver answered \(answer.rcode) for TLSA \(name)"), tlsa: nil, base: base)
                case .bogus?:
                    policy = make(.bogus(reason: "DNSSEC validation failed for TLSA \(name) (\(answer.whyBogus ?? "bogus"))"), tlsa: .bogus, base: base)
                case .insecure?:
                    policy = make(.notApplicable(reason: "the TLSA RRset \(name) is not DNSSEC-signed, though \(host)'s addresses are"), tlsa: .insecure, base: base)
                case .secure?:
                    if !answer.rdata.isEmpty {
                        policy = make(.records(TLSARecordSet(rdata: answer.rdata)), tlsa: .secure, base: base)
                    } else if bases.isEmpty {
                        // Secure denial at every base tried: reported under the first (the name SNI would carry).
                        policy = make(.absent, tlsa: .secure)
                    }
                }
            }
        }
    }
}

extension DANEPolicyLookup {
    /// The requests for the MX hosts of `domain` (`--mx` mode): the MX RRset's DNSSEC state is read from its answer,
    /// asked through `lookup` (a `SharedDNSLookup` has it already from MX resolution, so nothing is asked twice).
    public static func requests(forDomain domain: String, hosts: [String], port: UInt16, using lookup: some DNSLookup, deadline: Deadline) -> [DANELookupRequest] {
        let answer = try? lookup.answer(to: DNSQuestion(domain, .mx), deadline: deadline).get()
        return hosts.map { DANELookupRequest(host: $0, port: port, domain: DNSName.normalized(domain), mxAnswer: answer) }
    }
}

extension DANEPolicyLookup {
    /// The policy of every MX host with an endpoint in a `--mx` result, keyed by host name (as `DomainEndpoint.mx.host`).
    /// Give the `SharedDNSLookup` that `MXResolution.resolve` used: the MX and address answers are then reused.
    public static func policies(for result: DomainResult, port: UInt16, using lookup: some DNSLookup, deadline: Deadline) -> [String: DANEPolicy] {
        var hosts: [String] = []
        for endpoint in result.endpoints where !hosts.contains(endpoint.mx.host) {
            hosts.append(endpoint.mx.host)
        }
        guard !hosts.isEmpty else { return [:] }
        let requests = result.implicitMX
            ? hosts.map { DANELookupRequest(host: $0, port: port) }
            : requests(forDomain: result.domain, hosts: hosts, port: port, using: lookup, deadline: deadline)
        let found = policies(for: requests, using: lookup, deadline: deadline)
        return Dictionary(zip(hosts, found), uniquingKeysWith: { first, _ in first })
    }
}
