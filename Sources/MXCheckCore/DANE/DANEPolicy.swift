/// What DNS says about DANE for one MX host (or `--dane` host target) and port: the outcome of the lookups of
/// RFC 7672 §2.2, each DNSSEC-validated by mxcheck. `DANEPolicyLookup` makes it; `DANEEvaluation` matches
/// it against the chain a server sent.
public struct DANEPolicy: Sendable, Equatable {
    public enum Outcome: Sendable, Equatable {
        /// The host's addresses (or its TLSA RRset) are not signed: DANE does not apply, no TLSA is used.
        case notApplicable(reason: String)
        /// Secure denial: the TLSA RRset does not exist, provably.
        case absent
        /// A secure TLSA RRset.
        case records(TLSARecordSet)
        /// DNSSEC validation failed for the MX RRset, the addresses or the TLSA RRset.
        case bogus(reason: String)
        /// The TLSA lookup (or the addresses' lookup) got no answer: SERVFAIL, timeout.
        case lookupFailed(reason: String)
    }

    /// The MX host (or host target) as given: lower case, no trailing dot.
    public var host: String
    public var port: UInt16
    /// The TLSA base domain: the CNAME-expanded host name when its TLSA records are there, else the host.
    public var tlsaBase: String
    /// The DNSSEC state of the MX RRset; nil for a host target (no MX) or an MX lookup without answer.
    public var mxDNSSEC: DNSSECState?
    /// The DNSSEC state of the host's A/AAAA RRsets taken together (bogus if any is, secure only if all are).
    public var addressDNSSEC: DNSSECState?
    /// The DNSSEC state of the TLSA answer used; nil when no TLSA question was asked or it got no answer.
    public var tlsaDNSSEC: DNSSECState?
    public var outcome: Outcome
    /// The names a DANE-TA chain may be valid for (RFC 7672 §3.2.3): the TLSA base domain, the original host
    /// name when that was CNAME-expanded, and the domain when the MX RRset is secure. DANE-EE ignores names.
    public var referenceIdentities: [String]

    public init(
        host: String, port: UInt16, tlsaBase: String? = nil, mxDNSSEC: DNSSECState?, addressDNSSEC: DNSSECState?,
        tlsaDNSSEC: DNSSECState?, outcome: Outcome, referenceIdentities: [String]? = nil
    ) {
        self.host = host
        self.port = port
        self.tlsaBase = tlsaBase ?? host
        self.mxDNSSEC = mxDNSSEC
        self.addressDNSSEC = addressDNSSEC
        self.tlsaDNSSEC = tlsaDNSSEC
        self.outcome = outcome
        self.referenceIdentities = referenceIdentities ?? [tlsaBase ?? host]
    }

    /// `_25._tcp.mx1.example.com`: the TLSA owner name, without the trailing dot.
    public var tlsaName: String { Self.tlsaName(port: port, base: tlsaBase) }

    public static func tlsaName(port: UInt16, base: String) -> String { "_\(port)._tcp.\(DNSName.normalized(base))" }

    /// The name to send as SNI: the TLSA base domain where DANE applies (RFC 7672 §8.1), else the host.
    public var serverName: String {
        switch outcome {
        case .records, .absent: return tlsaBase
        default: return host
        }
    }

    /// `dane.dnssec`: the state of the answer the DANE decision rests on. The TLSA RRset for records and
    /// absence, bogus for a validation failure anywhere, insecure for not_applicable, nil for no answer.
    public var decisionDNSSEC: DNSSECState? {
        switch outcome {
        case .records, .absent: return tlsaDNSSEC ?? .secure
        case .bogus: return .bogus
        case .notApplicable: return .insecure
        case .lookupFailed: return nil
        }
    }

    /// Whether a DANE sender must use authenticated TLS to this host: secure, usable TLSA records.
    public var requiresAuthentication: Bool {
        if case .records(let set) = outcome { return !set.usable.isEmpty }
        return false
    }
}
