import Foundation
import XCTest
@testable import MXCheckCore

/// A zone in memory: what each question gets; a name not in it does not exist (NXDOMAIN).
final class FakeDNS: DNSLookup, @unchecked Sendable {
    private var answers: [DNSQuestion: Result<DNSAnswer, DNSError>] = [:]
    private var existing: Set<String> = []
    private(set) var asked: [DNSQuestion] = []
    private(set) var rounds = 0

    func mx(_ name: String, _ records: [(UInt16, String)], secure: Bool = false) {
        set(DNSQuestion(name, .mx), rdata: records.map { DNSWire.mx($0.0, $0.1) }, secure: secure)
    }

    func a(_ name: String, _ addresses: [String], canonical: String? = nil, secure: Bool = false) {
        set(DNSQuestion(name, .a), rdata: addresses.compactMap(IPAddressText.bytes(of:)), canonical: canonical, secure: secure)
    }

    func aaaa(_ name: String, _ addresses: [String], canonical: String? = nil, secure: Bool = false) {
        set(DNSQuestion(name, .aaaa), rdata: addresses.compactMap(IPAddressText.bytes(of:)), canonical: canonical, secure: secure)
    }

    /// A host with these addresses, both families answered (NODATA for the family it lacks).
    func host(_ name: String, _ addresses: [String], canonical: String? = nil, secure: Bool = false) {
        a(name, addresses.filter(IPAddressText.isIPv4), canonical: canonical, secure: secure)
        aaaa(name, addresses.filter(IPAddressText.isIPv6), canonical: canonical, secure: secure)
    }

    func answer(_ question: DNSQuestion, _ result: Result<DNSAnswer, DNSError>) {
        existing.insert(question.name)
        answers[question] = result
    }

    func rcode(_ question: DNSQuestion, _ rcode: DNSResponseCode, bogus: Bool = false) {
        answer(question, .success(DNSAnswer(question: question, rcode: rcode, bogus: bogus, whyBogus: bogus ? "signature expired" : nil)))
    }

    private func set(_ question: DNSQuestion, rdata: [[UInt8]], canonical: String? = nil, secure: Bool = false) {
        answer(question, .success(DNSAnswer(question: question, rcode: .noError, rdata: rdata, canonicalName: canonical.map { $0 + "." } ?? question.name + ".", secure: secure)))
    }

    func answers(to questions: [DNSQuestion], deadline: Deadline) -> [Result<DNSAnswer, DNSError>] {
        rounds += 1
        asked += questions
        return questions.map { question in
            if let known = answers[question] { return known }
            // A name that exists with other types answers NODATA.
            return .success(DNSAnswer(question: question, rcode: existing.contains(question.name) ? .noError : .nxDomain))
        }
    }
}

final class DNSMXResolutionTests: XCTestCase {
    let options = MXResolutionOptions()

    private func ids(_ findings: [Finding]) -> [String] { findings.map(\.id.rawValue) }

    private func rows(_ result: DomainResult) -> [String] {
        result.endpoints.map { "\($0.mx.host) \($0.mx.preference) \($0.endpoint.address)" }
    }

    func testMXSortedByPreferenceThenName() throws {
        let dns = FakeDNS()
        dns.mx("example.com", [(20, "b.example.com"), (10, "z.example.com"), (10, "a.example.com"), (30, "A.example.com.")])
        dns.host("a.example.com", ["192.0.2.1"])
        dns.host("b.example.com", ["192.0.2.2"])
        dns.host("z.example.com", ["192.0.2.3"])
        let result = try MXResolution.resolve("example.com", using: dns, options: options)
        // The same host listed twice keeps its lowest preference.
        XCTAssertEqual(rows(result), ["a.example.com 10 192.0.2.1", "z.example.com 10 192.0.2.3", "b.example.com 20 192.0.2.2"])
        XCTAssertEqual(result.mx.map(\.description), ["MX 10 a.example.com", "MX 10 z.example.com", "MX 20 b.example.com", "MX 30 a.example.com"])
        XCTAssertEqual(result.findings, [])
        XCTAssertEqual(dns.rounds, 2, "one round for the MX, one for every address at once")
    }

    func testEndpointsCarryTheMXHostAsIdentityAndThePortsTLSMode() throws {
        let dns = FakeDNS()
        dns.mx("example.com", [(10, "MX.Example.com")])
        dns.host("mx.example.com", ["2001:db8::25", "192.0.2.25", "192.0.2.9"])
        let result = try MXResolution.resolve("Example.COM.", using: dns, options: MXResolutionOptions(port: 465))
        XCTAssertEqual(result.domain, "example.com")
        XCTAssertEqual(result.endpoints.map(\.endpoint), [
            Endpoint(host: "mx.example.com", address: "192.0.2.9", port: 465, tls: .implicit, serverName: "mx.example.com", referenceIdentity: "mx.example.com"),
            Endpoint(host: "mx.example.com", address: "192.0.2.25", port: 465, tls: .implicit, serverName: "mx.example.com", referenceIdentity: "mx.example.com"),
            Endpoint(host: "mx.example.com", address: "2001:db8::25", port: 465, tls: .implicit, serverName: "mx.example.com", referenceIdentity: "mx.example.com"),
        ])
        XCTAssertTrue(result.endpoints.allSatisfy { $0.domain == "example.com" && $0.mx == MXHost(host: "mx.example.com", preference: 10) })
        let submission = try MXResolution.resolve("example.com", using: dns, options: MXResolutionOptions(port: 587))
        XCTAssertEqual(submission.endpoints.first?.endpoint.tls, .starttls)
    }

    func testNullMX() throws {
        let dns = FakeDNS()
        dns.mx("example.com", [(0, ".")])
        let result = try MXResolution.resolve("example.com", using: dns, options: options)
        XCTAssertEqual(result.endpoints, [])
        XCTAssertEqual(ids(result.findings), ["dns.null_mx"])
        XCTAssertEqual(result.findings[0].severity, .info)
        XCTAssertEqual(result.findings[0].message, "example.com publishes a null MX (MX 0 .): it accepts no mail; nothing to connect to")
        XCTAssertEqual(dns.asked, [DNSQuestion("example.com", .mx)], "nothing else asked, nothing to connect to")
    }

    func testNullMXBesideOtherMXIsIgnored() throws {
        let dns = FakeDNS()
        dns.mx("example.com", [(0, "."), (10, "mx.example.com")])
        dns.host("mx.example.com", ["192.0.2.1"])
        let result = try MXResolution.resolve("example.com", using: dns, options: options)
        XCTAssertEqual(rows(result), ["mx.example.com 10 192.0.2.1"])
        XCTAssertEqual(ids(result.endpoints[0].findings), ["dns.skipped"])
        XCTAssertTrue(result.findings[0].message.contains("RFC 7505"), result.findings[0].message)
    }

    func testNoMXMeansTheImplicitMX() throws {
        let dns = FakeDNS()
        dns.host("example.com", ["192.0.2.1", "2001:db8::1"])
        let result = try MXResolution.resolve("example.com", using: dns, options: options)
        XCTAssertTrue(result.implicitMX)
        XCTAssertEqual(result.mx, [])
        XCTAssertEqual(rows(result), ["example.com 0 192.0.2.1", "example.com 0 2001:db8::1"])
        XCTAssertEqual(result.endpoints.map { ids($0.findings) }, [["dns.implicit_mx"], ["dns.implicit_mx"]])
        XCTAssertEqual(result.findings[0].severity, .info)
        XCTAssertEqual(result.endpoints[0].endpoint.referenceIdentity, "example.com")
    }

    func testImplicitMXOfAnAliasIsNoCNAMEFinding() throws {
        let dns = FakeDNS()
        dns.host("example.com", ["192.0.2.1"], canonical: "www.example.net")
        let result = try MXResolution.resolve("example.com", using: dns, options: options)
        XCTAssertEqual(ids(result.findings), ["dns.implicit_mx"], "no MX record, so no MX target that is a CNAME")
    }

    func testNoMXAndNoAddress() throws {
        let dns = FakeDNS()
        dns.host("example.com", [])
        let result = try MXResolution.resolve("example.com", using: dns, options: options)
        XCTAssertEqual(result.endpoints, [])
        XCTAssertEqual(ids(result.findings), ["dns.implicit_mx", "dns.mx_no_address"])
        XCTAssertEqual(result.findings[1].message, "example.com has no MX record and neither A nor AAAA: it cannot receive mail")
    }

    func testCNAMETargetIsFlaggedOnItsOwnEndpointsAndStillChecked() throws {
        let dns = FakeDNS()
        dns.mx("example.com", [(10, "alias.example.com"), (20, "mx2.example.com")])
        dns.host("alias.example.com", ["192.0.2.1"], canonical: "real.example.net")
        dns.host("mx2.example.com", ["192.0.2.2"])
        let result = try MXResolution.resolve("example.com", using: dns, options: options)
        XCTAssertEqual(rows(result), ["alias.example.com 10 192.0.2.1", "mx2.example.com 20 192.0.2.2"])
        XCTAssertEqual(ids(result.endpoints[0].findings), ["dns.mx_cname"])
        XCTAssertEqual(result.endpoints[0].findings[0].severity, .warning)
        XCTAssertEqual(result.endpoints[0].findings[0].message, "MX host alias.example.com (preference 10) is a CNAME to real.example.net (RFC 5321 §5.1 forbids it); checked under the name alias.example.com")
        XCTAssertEqual(result.endpoints[0].endpoint.referenceIdentity, "alias.example.com")
        XCTAssertEqual(result.endpoints[1].findings, [])
        XCTAssertEqual(ids(result.findings), ["dns.mx_cname"])
    }

    func testIPLiteralTargetsAreFlaggedAndNotChecked() throws {
        let dns = FakeDNS()
        dns.mx("example.com", [(10, "192.0.2.1"), (15, "2001:db8::1"), (20, "mx.example.com")])
        dns.host("mx.example.com", ["192.0.2.2"])
        let result = try MXResolution.resolve("example.com", using: dns, options: options)
        XCTAssertEqual(rows(result), ["mx.example.com 20 192.0.2.2"])
        // Each IP-literal MX is an object of its own; its finding is not copied onto the healthy host's endpoint.
        XCTAssertEqual(ids(result.endpoints[0].findings), [])
        XCTAssertEqual(result.hostsWithoutEndpoint.map(\.mx), [MXHost(host: "192.0.2.1", preference: 10), MXHost(host: "2001:db8::1", preference: 15)])
        XCTAssertEqual(result.hostsWithoutEndpoint.map { ids($0.findings) }, [["dns.mx_ip_literal"], ["dns.mx_ip_literal"]])
        XCTAssertEqual(result.findings[0].severity, .warning)
        XCTAssertEqual(result.findings[0].message, "MX 10 192.0.2.1 names an IP address, not a host: not checked, as sending MTAs do not deliver there")
        XCTAssertFalse(dns.asked.contains { $0.name == "192.0.2.1" || $0.name == "2001:db8::1" }, "an IP literal is never looked up")
    }

    func testOnlyIPLiteralTargetsGiveNoEndpoint() throws {
        let dns = FakeDNS()
        dns.mx("example.com", [(10, "192.0.2.1")])
        let result = try MXResolution.resolve("example.com", using: dns, options: options)
        XCTAssertEqual(result.endpoints, [])
        XCTAssertEqual(ids(result.findings), ["dns.mx_ip_literal"])
    }

    func testMXHostWithoutAddressIsAnObjectOfItsOwn() throws {
        let dns = FakeDNS()
        dns.mx("example.com", [(10, "empty.example.com"), (20, "mx.example.com")])
        dns.host("empty.example.com", [])
        dns.host("mx.example.com", ["192.0.2.2"])
        let result = try MXResolution.resolve("example.com", using: dns, options: options)
        XCTAssertEqual(rows(result), ["mx.example.com 20 192.0.2.2"])
        // The host without address is answered by an object of its own; the healthy host's endpoint stays clean.
        XCTAssertEqual(ids(result.endpoints[0].findings), [])
        XCTAssertEqual(result.hostsWithoutEndpoint.map(\.mx.host), ["empty.example.com"])
        XCTAssertEqual(result.hostsWithoutEndpoint.first.map { ids($0.findings) }, ["dns.mx_no_address"])
        XCTAssertEqual(result.findings[0].severity, .critical)
        XCTAssertEqual(result.findings[0].message, "MX host empty.example.com (preference 10) has neither A nor AAAA")
    }

    func testMXHostThatDoesNotExist() throws {
        let dns = FakeDNS()
        dns.mx("example.com", [(10, "gone.example.com")])
        let result = try MXResolution.resolve("example.com", using: dns, options: options)
        XCTAssertEqual(result.endpoints, [])
        XCTAssertEqual(ids(result.findings), ["dns.nxdomain"])
        XCTAssertEqual(result.findings[0].message, "MX host gone.example.com (preference 10) does not exist (NXDOMAIN)")
    }

    func testDomainThatDoesNotExist() throws {
        let dns = FakeDNS()
        let result = try MXResolution.resolve("nowhere.example", using: dns, options: options)
        XCTAssertEqual(result.endpoints, [])
        XCTAssertEqual(ids(result.findings), ["dns.nxdomain"])
        XCTAssertEqual(result.findings[0].severity, .critical)
        XCTAssertEqual(result.findings[0].message, "nowhere.example does not exist (NXDOMAIN)")
        XCTAssertEqual(dns.rounds, 1)
    }

    func testServfailRefusedAndBogusAreServfail() throws {
        for (rcode, bogus, text) in [(DNSResponseCode.serverFailure, false, "SERVFAIL"), (.refused, false, "REFUSED"), (.serverFailure, true, "DNSSEC validation failed")] {
            let dns = FakeDNS()
            dns.rcode(DNSQuestion("example.com", .mx), rcode, bogus: bogus)
            let result = try MXResolution.resolve("example.com", using: dns, options: options)
            XCTAssertEqual(result.endpoints, [])
            XCTAssertEqual(ids(result.findings), ["dns.servfail"], text)
            XCTAssertEqual(result.findings.first?.severity, .unknown)
            XCTAssertTrue(result.findings.first?.message.contains(text) == true, result.findings.first?.message ?? "")
        }
    }

    func testLibraryErrorIsServfail() throws {
        let dns = FakeDNS()
        let question = DNSQuestion("example.com", .mx)
        dns.answer(question, .failure(.library(question, code: -2, reason: "out of memory")))
        let result = try MXResolution.resolve("example.com", using: dns, options: options)
        XCTAssertEqual(ids(result.findings), ["dns.servfail"])
        XCTAssertEqual(result.findings[0].message, "lookup failed: MX example.com: out of memory")
    }

    func testTimeoutOfTheMXQuestion() throws {
        let dns = FakeDNS()
        let question = DNSQuestion("example.com", .mx)
        dns.answer(question, .failure(.timeout(question)))
        let result = try MXResolution.resolve("example.com", using: dns, options: MXResolutionOptions(queryTimeout: 2.5))
        XCTAssertEqual(result.endpoints, [])
        XCTAssertEqual(ids(result.findings), ["dns.timeout"])
        XCTAssertEqual(result.findings[0].severity, .unknown)
        XCTAssertEqual(result.findings[0].message, "no answer for MX example.com within 2.5 s")
    }

    func testTimeoutOfOneFamilyKeepsTheOther() throws {
        let dns = FakeDNS()
        dns.mx("example.com", [(10, "mx.example.com"), (20, "mx2.example.com")])
        dns.a("mx.example.com", ["192.0.2.1"])
        let v6 = DNSQuestion("mx.example.com", .aaaa)
        dns.answer(v6, .failure(.timeout(v6)))
        dns.host("mx2.example.com", ["192.0.2.2"])
        let result = try MXResolution.resolve("example.com", using: dns, options: options)
        XCTAssertEqual(rows(result), ["mx.example.com 10 192.0.2.1", "mx2.example.com 20 192.0.2.2"])
        XCTAssertEqual(result.endpoints[0].findings.map(\.message), ["no answer for AAAA mx.example.com within 10 s"])
        XCTAssertEqual(result.endpoints[1].findings, [], "the timeout is about mx.example.com, which has its own endpoint")
    }

    func testTimeoutOfAHostWithoutEndpointGoesOnItsOwnObject() throws {
        let dns = FakeDNS()
        dns.mx("example.com", [(10, "slow.example.com"), (20, "mx.example.com")])
        for type in [DNSRecordType.a, .aaaa] {
            let question = DNSQuestion("slow.example.com", type)
            dns.answer(question, .failure(.timeout(question)))
        }
        dns.host("mx.example.com", ["192.0.2.2"])
        let result = try MXResolution.resolve("example.com", using: dns, options: options)
        XCTAssertEqual(rows(result), ["mx.example.com 20 192.0.2.2"])
        XCTAssertEqual(ids(result.endpoints[0].findings), [])
        XCTAssertEqual(result.hostsWithoutEndpoint.first.map { ids($0.findings) }, ["dns.timeout", "dns.timeout"])
        XCTAssertFalse(result.findings.contains { $0.id == .dnsMXNoAddress }, "no answer is not 'no address'")
    }

    func testAtMostTwentyHosts() throws {
        let dns = FakeDNS()
        let names = (1...25).map { String(format: "mx%02d.example.com", $0) }
        dns.mx("example.com", names.enumerated().map { (UInt16($0.offset * 10), $0.element) })
        for (index, name) in names.enumerated() { dns.host(name, ["192.0.2.\(index + 1)"]) }
        let result = try MXResolution.resolve("example.com", using: dns, options: options)
        XCTAssertEqual(result.endpoints.count, 20)
        XCTAssertEqual(result.endpoints.last?.mx.host, "mx20.example.com")
        XCTAssertEqual(result.findings.map(\.message), [
            "example.com has 25 MX hosts: checked the first 20 by preference; skipped mx21.example.com (preference 200), mx22.example.com (preference 210), mx23.example.com (preference 220), mx24.example.com (preference 230), mx25.example.com (preference 240)"
        ])
        XCTAssertEqual(ids(result.findings), ["dns.skipped"])
        XCTAssertEqual(result.findings[0].severity, .info)
        XCTAssertFalse(dns.asked.contains { $0.name == "mx21.example.com" }, "skipped hosts are not looked up")
        XCTAssertEqual(dns.asked.count, 1 + 40)
    }

    func testLongSkipListsAreShortened() throws {
        let dns = FakeDNS()
        let names = (1...35).map { String(format: "mx%02d.example.com", $0) }
        dns.mx("example.com", names.map { (10, $0) })
        for name in names { dns.host(name, ["192.0.2.1"]) }
        let result = try MXResolution.resolve("example.com", using: dns, options: options)
        let message = try XCTUnwrap(result.findings.first?.message)
        XCTAssertTrue(message.hasSuffix("mx30.example.com (preference 10) and 5 more"), message)
    }

    func testAtMostTenAddressesPerHost() throws {
        let dns = FakeDNS()
        dns.mx("example.com", [(10, "mx.example.com"), (20, "mx2.example.com")])
        dns.host("mx.example.com", (1...12).map { "192.0.2.\($0)" } + ["2001:db8::1"])
        dns.host("mx2.example.com", ["192.0.2.100"])
        let result = try MXResolution.resolve("example.com", using: dns, options: options)
        XCTAssertEqual(result.endpoints.filter { $0.mx.host == "mx.example.com" }.map(\.endpoint.address), (1...10).map { "192.0.2.\($0)" })
        XCTAssertEqual(result.findings.map(\.message), ["mx.example.com has 13 addresses: checked the first 10; skipped 192.0.2.11, 192.0.2.12, 2001:db8::1"])
        XCTAssertEqual(result.endpoints.last.map { ids($0.findings) }, [], "mx2 has all its addresses checked")
    }

    func testFamilyFilter() throws {
        let dns = FakeDNS()
        dns.mx("example.com", [(10, "mx.example.com")])
        dns.host("mx.example.com", ["192.0.2.1", "2001:db8::1"])
        XCTAssertEqual(rows(try MXResolution.resolve("example.com", using: dns, options: MXResolutionOptions(family: .ipv6Only))), ["mx.example.com 10 2001:db8::1"])
        let v6Only = FakeDNS()
        v6Only.mx("example.com", [(10, "mx.example.com")])
        v6Only.host("mx.example.com", ["2001:db8::1"])
        let result = try MXResolution.resolve("example.com", using: v6Only, options: MXResolutionOptions(family: .ipv4Only))
        XCTAssertEqual(result.endpoints, [])
        XCTAssertEqual(result.findings.map(\.message), ["no address of example.com's MX hosts is IPv4 (-4): skipped 2001:db8::1 (mx.example.com)"])
        XCTAssertFalse(result.findings.contains { $0.id == .dnsMXNoAddress }, "the host has an address, just not in the family asked for")
    }

    func testSecureOnlyWhenEveryAnswerIsValidated() throws {
        let dns = FakeDNS()
        dns.mx("example.com", [(10, "mx.example.com"), (20, "mx2.example.com")], secure: true)
        dns.host("mx.example.com", ["192.0.2.1"], secure: true)
        dns.host("mx2.example.com", ["192.0.2.2"], secure: false)
        let result = try MXResolution.resolve("example.com", using: dns, options: options)
        XCTAssertEqual(result.endpoints.map(\.secure), [true, false])
    }

    func testMalformedMXAnswerIsServfailNotACrash() throws {
        let dns = FakeDNS()
        let question = DNSQuestion("example.com", .mx)
        dns.answer(question, .success(DNSAnswer(question: question, rcode: .noError, rdata: [[0, 10, 0x41]])))
        let result = try MXResolution.resolve("example.com", using: dns, options: options)
        XCTAssertEqual(ids(result.findings), ["dns.servfail"])
        XCTAssertTrue(result.findings[0].message.hasPrefix("malformed MX answer"), result.findings[0].message)
    }

    func testMalformedAddressAnswer() throws {
        let dns = FakeDNS()
        dns.mx("example.com", [(10, "mx.example.com")])
        let question = DNSQuestion("mx.example.com", .a)
        dns.answer(question, .success(DNSAnswer(question: question, rcode: .noError, rdata: [[1, 2, 3]])))
        dns.aaaa("mx.example.com", ["2001:db8::1"])
        let result = try MXResolution.resolve("example.com", using: dns, options: options)
        XCTAssertEqual(rows(result), ["mx.example.com 10 2001:db8::1"])
        XCTAssertEqual(ids(result.findings), ["dns.servfail"])
    }

    func testInvalidDomainsAreUsageErrors() {
        let bad = ["", " ", ".", "192.0.2.1", "2001:db8::1", "[192.0.2.1]", "a..b", "exämple.com", "with space.com",
                   String(repeating: "a", count: 64) + ".com", Array(repeating: "abcdefghi", count: 26).joined(separator: ".")]
        for text in bad {
            XCTAssertThrowsError(try MXResolution.resolve(text, using: FakeDNS(), options: options), text) {
                guard case .invalidName = $0 as? DNSError else { return XCTFail("\(text): \($0)") }
            }
        }
        XCTAssertEqual(try MXResolution.normalizedDomain(" Example.COM. "), "example.com")
    }

    func testEveryDNSFindingHasAFixAndADeduction() {
        let dnsIDs = FindingID.allCases.filter { $0.rawValue.hasPrefix("dns.") }
        for id in dnsIDs {
            let entry = FindingCatalogue.entry(for: id)
            XCTAssertFalse(entry.fix.isEmpty, id.rawValue)
            XCTAssertEqual(entry.deduction.keys.sorted(), [entry.severity], id.rawValue)
        }
        XCTAssertEqual(dnsIDs.count, 10)
    }
}

/// Plain host targets through `--resolver`: the same errors as the system resolver gives.
final class DNSHostLookupTests: XCTestCase {
    func testAddressesInBothFamilies() throws {
        let dns = FakeDNS()
        dns.host("mx.example.com", ["192.0.2.1", "2001:db8::1"])
        XCTAssertEqual(try dns.addresses(of: "mx.example.com.", family: .any, timeout: 1), ["192.0.2.1", "2001:db8::1"])
        XCTAssertEqual(try dns.addresses(of: "mx.example.com", family: .ipv6Only, timeout: 1), ["2001:db8::1"])
        XCTAssertEqual(dns.rounds, 2, "A and AAAA asked at once")
    }

    func testErrors() {
        let dns = FakeDNS()
        dns.host("v4.example.com", ["192.0.2.1"])
        dns.host("empty.example.com", [])
        for type in [DNSRecordType.a, .aaaa] {
            dns.answer(DNSQuestion("slow.example.com", type), .failure(.timeout(DNSQuestion("slow.example.com", type))))
        }
        dns.rcode(DNSQuestion("broken.example.com", .a), .serverFailure)
        dns.rcode(DNSQuestion("broken.example.com", .aaaa), .serverFailure)
        let cases: [(String, AddressFamilyFilter, ResolutionError)] = [
            ("gone.example.com", .any, .notFound(host: "gone.example.com", reason: "no such host")),
            ("empty.example.com", .any, .notFound(host: "empty.example.com", reason: "no address")),
            ("v4.example.com", .ipv6Only, .noAddressInFamily(host: "v4.example.com")),
            ("slow.example.com", .any, .timeout(host: "slow.example.com", seconds: 1)),
            ("broken.example.com", .any, .notFound(host: "broken.example.com", reason: "the resolver answered SERVFAIL")),
        ]
        for (host, family, expected) in cases {
            XCTAssertThrowsError(try dns.addresses(of: host, family: family, timeout: 1), host) {
                XCTAssertEqual($0 as? ResolutionError, expected, host)
            }
        }
    }
}
