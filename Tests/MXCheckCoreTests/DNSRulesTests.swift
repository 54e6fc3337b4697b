import XCTest
@testable import MXCheckCore

/// DNS facts → dns.* findings, from facts alone: each fact's id, severity and message.
final class DNSRulesTests: XCTestCase {
    private func judged(_ fact: DNSFact) -> (String, Severity, String) {
        let finding = DNSRules.finding(for: fact)
        return (finding.id.rawValue, finding.severity, finding.message)
    }

    private func assertFinding(_ fact: DNSFact, _ id: String, _ severity: Severity, _ message: String, line: UInt = #line) {
        let (gotID, gotSeverity, gotMessage) = judged(fact)
        XCTAssertEqual(gotID, id, line: line)
        XCTAssertEqual(gotSeverity, severity, line: line)
        XCTAssertEqual(gotMessage, message, line: line)
    }

    private let mx = MXHost(host: "mx.example.com", preference: 10)

    func testFailuresOfTheLookupItself() {
        let question = DNSQuestion("example.com", .mx)
        assertFinding(.timeout(question, seconds: 10), "dns.timeout", .unknown, "no answer for \(question) within 10 s")
        assertFinding(.timeout(question, seconds: 2.5), "dns.timeout", .unknown, "no answer for \(question) within 2.5 s")
        assertFinding(.lookupFailed(.timeout(question)), "dns.servfail", .unknown, "lookup failed: \(DNSError.timeout(question))")
        assertFinding(.validationFailed(question, why: "signature expired"), "dns.servfail", .unknown, "DNSSEC validation failed for \(question): signature expired")
        assertFinding(.validationFailed(question, why: nil), "dns.servfail", .unknown, "DNSSEC validation failed for \(question): bogus")
        assertFinding(.resolverAnswered(.serverFailure, question), "dns.servfail", .unknown, "the resolver answered \(DNSResponseCode.serverFailure) for \(question)")
        let error = DNSRecordError.truncatedName
        assertFinding(.malformedMX(domain: "example.com", error: error), "dns.servfail", .unknown, "malformed MX answer for example.com: \(error)")
        assertFinding(.malformedAddresses(host: "mx.example.com", type: .aaaa, error: error), "dns.servfail", .unknown, "malformed AAAA answer for mx.example.com: \(error)")
    }

    func testWhatTheDomainPublishes() {
        assertFinding(.domainNXDomain(domain: "example.com"), "dns.nxdomain", .critical, "example.com does not exist (NXDOMAIN)")
        assertFinding(.implicitMX(domain: "example.com"), "dns.implicit_mx", .info, "example.com has no MX record: its own A/AAAA serve as its MX (RFC 5321 §5.1)")
        assertFinding(.nullMX(domain: "example.com", preference: 0), "dns.null_mx", .info, "example.com publishes a null MX (MX 0 .): it accepts no mail; nothing to connect to")
        assertFinding(.nullMXBesideOthers(preference: 5), "dns.skipped", .info, "MX 5 . (null MX) is published beside other MX records, which RFC 7505 forbids: ignored")
        assertFinding(.mxIPLiteral(MXRecord(preference: 10, exchange: "192.0.2.1")), "dns.mx_ip_literal", .warning,
                      "MX 10 192.0.2.1 names an IP address, not a host: not checked, as sending MTAs do not deliver there")
    }

    func testHostsAndTheirAddresses() {
        assertFinding(.hostNXDomain(mx, domain: "example.com", implicitMX: false), "dns.nxdomain", .critical, "MX host mx.example.com (preference 10) does not exist (NXDOMAIN)")
        assertFinding(.hostNXDomain(MXHost(host: "example.com", preference: 0), domain: "example.com", implicitMX: true), "dns.nxdomain", .critical,
                      "example.com (implicit MX) does not exist (NXDOMAIN)")
        assertFinding(.mxCNAME(mx, target: "real.example.net"), "dns.mx_cname", .warning,
                      "MX host mx.example.com (preference 10) is a CNAME to real.example.net (RFC 5321 §5.1 forbids it); checked under the name mx.example.com")
        assertFinding(.hostNoAddress(mx, domain: "example.com", implicitMX: false), "dns.mx_no_address", .critical, "MX host mx.example.com (preference 10) has neither A nor AAAA")
        assertFinding(.hostNoAddress(MXHost(host: "example.com", preference: 0), domain: "example.com", implicitMX: true), "dns.mx_no_address", .critical,
                      "example.com has no MX record and neither A nor AAAA: it cannot receive mail")
    }

    func testWhatWasSkippedListsAtMostTenAndCountsTheRest() {
        let hosts = (1...13).map { MXHost(host: "mx\($0).example.com", preference: UInt16($0)) }
        let message = judged(.tooManyHosts(domain: "example.com", total: 33, checked: 20, skipped: hosts)).2
        XCTAssertTrue(message.hasPrefix("example.com has 33 MX hosts: checked the first 20 by preference; skipped mx1.example.com (preference 1), "), message)
        XCTAssertTrue(message.hasSuffix("mx10.example.com (preference 10) and 3 more"), message)
        assertFinding(.noAddressInFamily(domain: "example.com", family: .ipv6Only, skipped: ["192.0.2.1 (mx.example.com)"]), "dns.skipped", .info,
                      "no address of example.com's MX hosts is IPv6 (-6): skipped 192.0.2.1 (mx.example.com)")
        assertFinding(.noAddressInFamily(domain: "example.com", family: .ipv4Only, skipped: ["2001:db8::1 (mx.example.com)"]), "dns.skipped", .info,
                      "no address of example.com's MX hosts is IPv4 (-4): skipped 2001:db8::1 (mx.example.com)")
        assertFinding(.tooManyAddresses(host: "mx.example.com", total: 12, checked: 10, skipped: ["192.0.2.11", "192.0.2.12"]), "dns.skipped", .info,
                      "mx.example.com has 12 addresses: checked the first 10; skipped 192.0.2.11, 192.0.2.12")
    }

    func testTheResultsFindingsAreTheirFactsJudged() {
        let endpoint = Endpoint(host: "mx.example.com", address: "192.0.2.1", port: 25, tls: .starttls, serverName: "mx.example.com", referenceIdentity: "mx.example.com")
        let facts: [DNSFact] = [.implicitMX(domain: "example.com"), .mxCNAME(mx, target: "real.example.net")]
        let result = DomainResult(domain: "example.com", mx: [], implicitMX: true,
                                  endpoints: [DomainEndpoint(endpoint: endpoint, domain: "example.com", mx: mx, facts: facts, secure: false)],
                                  facts: facts, hostsWithoutEndpoint: [HostWithoutEndpoint(mx: mx, facts: [facts[1]])])
        XCTAssertEqual(result.findings, facts.map(DNSRules.finding))
        XCTAssertEqual(result.endpoints[0].findings.map(\.id), [.dnsImplicitMX, .dnsMXCNAME])
        XCTAssertEqual(result.hostsWithoutEndpoint[0].findings.map(\.id), [.dnsMXCNAME])
    }
}
