/// What DNS said about a domain in `--mx` mode that deserves a finding: facts only, each with what the
/// message needs. DNSRules (Report/) turns them into dns.* findings.
public enum DNSFact: Sendable, Equatable {
    /// No answer to a question within the per-round bound (seconds).
    case timeout(DNSQuestion, seconds: Double)
    /// The lookup itself failed (resolver trouble).
    case lookupFailed(DNSError)
    /// The validating resolver called the answer bogus.
    case validationFailed(DNSQuestion, why: String?)
    /// An rcode other than NOERROR and NXDOMAIN.
    case resolverAnswered(DNSResponseCode, DNSQuestion)
    /// The domain does not exist.
    case domainNXDomain(domain: String)
    /// The MX answer could not be read.
    case malformedMX(domain: String, error: DNSRecordError)
    /// No MX record: the domain's own addresses serve (RFC 5321 §5.1).
    case implicitMX(domain: String)
    /// The only MX record is the null MX (RFC 7505).
    case nullMX(domain: String, preference: UInt16)
    /// A null MX beside other MX records, ignored.
    case nullMXBesideOthers(preference: UInt16)
    /// An MX record whose exchange is an IP address.
    case mxIPLiteral(MXRecord)
    /// More MX hosts than `--max-hosts`: the first `checked` are checked, `skipped` not.
    case tooManyHosts(domain: String, total: Int, checked: Int, skipped: [MXHost])
    /// No address of any MX host is in the `-4`/`-6` family; `skipped`: "address (host)".
    case noAddressInFamily(domain: String, family: AddressFamilyFilter, skipped: [String])
    /// An MX host (or the domain as its implicit MX) does not exist.
    case hostNXDomain(MXHost, domain: String, implicitMX: Bool)
    /// An MX host is an alias.
    case mxCNAME(MXHost, target: String)
    /// An A or AAAA answer could not be read.
    case malformedAddresses(host: String, type: DNSRecordType, error: DNSRecordError)
    /// Both address questions answered, neither with an address.
    case hostNoAddress(MXHost, domain: String, implicitMX: Bool)
    /// More addresses than `--max-addresses`: the first `checked` are checked, `skipped` not.
    case tooManyAddresses(host: String, total: Int, checked: Int, skipped: [String])
}
