import Foundation
import XCTest

@testable import MXCheckCore

/// The run engine's policy step (DANE): the resolver's DNSSEC support asked once, the lookups through the run's
/// shared lookup, SNI set to the TLSA base domain, and how the policies change an endpoint's findings.
final class PolicyStepTests: XCTestCase {
    private let digest = [UInt8](repeating: 0x22, count: 32)
    private var tlsa: [UInt8] { [3, 1, 1] + digest }

    private func answer(_ name: String, _ type: DNSRecordType, _ rdata: [[UInt8]] = [], rcode: DNSResponseCode = .noError,
                        secure: Bool = true, bogus: Bool = false) -> (DNSQuestion, Result<DNSAnswer, DNSError>) {
        let question = DNSQuestion(name, type)
        return (question, .success(DNSAnswer(question: question, rcode: rcode, rdata: rdata, secure: secure, bogus: bogus, whyBogus: bogus ? "signature expired" : nil)))
    }

    private func wireName(_ name: String) -> [UInt8] {
        name.split(separator: ".").flatMap { [UInt8($0.utf8.count)] + Array($0.utf8) } + [0]
    }

    /// example.com: MX 10 mx.example.com (bogus or secure), the host's A secure, TLSA 3 1 1; the anchor `example.com.`.
    private func lookups(mxBogus: Bool = false, anchorValidates: Bool = true) -> (ScriptedLookup, ScriptedLookup, DNSSECLookups) {
        let table = Dictionary([
            answer("example.com", .mx, [[0, 10] + wireName("mx.example.com")], secure: !mxBogus, bogus: mxBogus),
            answer("mx.example.com", .a, [[192, 0, 2, 1]]), answer("mx.example.com", .aaaa),
            answer("_25._tcp.mx.example.com", .tlsa, [tlsa]),
            answer("example.com", .dnskey, anchorValidates ? [[1, 1, 3, 13]] : [], secure: anchorValidates, bogus: !anchorValidates),
        ], uniquingKeysWith: { $1 })
        let validating = ScriptedLookup(table)
        let plain = ScriptedLookup(table.mapValues { result in
            result.map { DNSAnswer(question: $0.question, rcode: $0.rcode, rdata: $0.rdata) }
        })
        let anchor = FileManager.default.temporaryDirectory.appendingPathComponent("mxcheck-policy-\(getpid()).ds")
        try? "example.com. IN DS 1 13 2 0000\n".write(to: anchor, atomically: true, encoding: .utf8)
        addTeardownBlock { try? FileManager.default.removeItem(at: anchor) }
        let dns = DNSSECLookups(validating: SharedDNSLookup(validating), plain: SharedDNSLookup(plain), trustAnchorFile: anchor.path, timeout: 5)
        return (validating, plain, dns)
    }

    private func domain(_ lookup: SharedDNSLookup, usesBogus: Bool = true) throws -> DomainResult {
        var options = MXResolutionOptions(queryTimeout: 5)
        options.usesBogusAnswers = usesBogus
        return try MXResolution.resolve("example.com", using: lookup, options: options)
    }

    func testSupportIsAskedOnceAndEveryNameOncePerRun() throws {
        let (validating, plain, dns) = lookups()
        let step = DANEPolicyStep(dns: dns, timeout: 5)
        let resolved = try domain(dns.lookup(stop: nil))
        for _ in 0..<3 {
            let found = step.policies(for: resolved, port: 25, stop: nil)
            guard case .records = found["mx.example.com"]?.dane?.outcome else { return XCTFail("\(found)") }
        }
        XCTAssertEqual(validating.questions.filter { $0.type == .dnskey }.count, 1, "the DNSSEC check runs once")
        XCTAssertEqual(validating.questions.count, 5, "DNSKEY, MX, A, AAAA, TLSA: each once")
        XCTAssertTrue(plain.questions.isEmpty, "the resolver carries DNSSEC: the validating lookup serves")
    }

    func testAResolverWithoutDNSSECServesUnvalidatedAndEveryHostSaysSo() throws {
        let (validating, plain, dns) = lookups(anchorValidates: false)
        XCTAssertTrue(dns.lookup(stop: nil) === dns.plain)
        let resolved = try domain(dns.lookup(stop: nil))
        XCTAssertEqual(resolved.endpoints.count, 1)
        let found = DANEPolicyStep(dns: dns, timeout: 5).policies(for: resolved, port: 25, stop: nil)
        XCTAssertNil(found["mx.example.com"]?.dane)
        XCTAssertEqual(found["mx.example.com"]?.findings.map(\.id), [.daneResolverUnusable])
        XCTAssertEqual(validating.questions.map(\.type), [.dnskey], "nothing but the check asked the validating lookup")
        XCTAssertEqual(plain.questions.map(\.type), [.mx, .a, .aaaa])
    }

    func testABogusMXRRsetStillGivesItsEndpointsWhenDANEIsEvaluated() throws {
        let (_, _, dns) = lookups(mxBogus: true)
        let kept = try domain(dns.validating)
        XCTAssertEqual(kept.endpoints.map(\.mx.host), ["mx.example.com"])
        XCTAssertFalse(kept.findings.contains { $0.id == .dnsServfail }, "DANE reports it, as dane.dnssec_bogus")
        let policy = try XCTUnwrap(DANEPolicyStep(dns: dns, timeout: 5).policies(for: kept, port: 25, stop: nil)["mx.example.com"]?.dane)
        guard case .bogus = policy.outcome else { return XCTFail("\(policy.outcome)") }
        XCTAssertEqual(policy.mxDNSSEC, .bogus)
        let dropped = try domain(dns.validating, usesBogus: false)
        XCTAssertTrue(dropped.endpoints.isEmpty, "without DANE a bogus answer is a failure, as before")
        XCTAssertEqual(dropped.findings.map(\.id), [.dnsServfail])
    }

    func testSNIIsTheTLSABaseDomainWhereDANEApplies() {
        let endpoint = Endpoint(host: "mx.example.com", address: "192.0.2.1", port: 25, tls: .starttls, serverName: "mx.example.com", referenceIdentity: "mx.example.com")
        let records = DANEPolicy(host: "mx.example.com", port: 25, tlsaBase: "mx.cdn.example", mxDNSSEC: .secure, addressDNSSEC: .secure,
                                 tlsaDNSSEC: .secure, outcome: .records(TLSARecordSet(rdata: [tlsa])))
        let prepared = HostPolicy(dane: records).prepared(endpoint)
        XCTAssertEqual(prepared.serverName, "mx.cdn.example")
        XCTAssertEqual(prepared.referenceIdentity, "mx.example.com", "the PKIX identity stays the MX host")
        var unsigned = records
        unsigned.outcome = .notApplicable(reason: "not signed")
        XCTAssertEqual(HostPolicy(dane: unsigned).prepared(endpoint), endpoint)
        XCTAssertEqual(HostPolicy().prepared(endpoint), endpoint)
    }

    func testAFailedHandshakeUnderTLSAIsCriticalAndSaysWhy() {
        let policy = DANEPolicy(host: "mx.example.com", port: 25, mxDNSSEC: .secure, addressDNSSEC: .secure, tlsaDNSSEC: .secure,
                                outcome: .records(TLSARecordSet(rdata: [tlsa])))
        var observation = Observation(endpoint: Endpoint(host: "mx.example.com", address: "192.0.2.1", port: 25, tls: .starttls, serverName: "mx.example.com", referenceIdentity: "mx.example.com"))
        observation.failure = .starttlsMissing
        let evaluated = HostPolicy(dane: policy).evaluated(observation, at: Date())
        XCTAssertEqual(evaluated.dane?.status, .unverified)
        let findings = PolicyRules.findings(Rules.findings(for: observation, settings: RuleSettings(now: Date())), policy: evaluated)
        XCTAssertEqual(findings.map(\.id), [.starttlsMissing])
        XCTAssertEqual(findings.first?.severity, .critical)
        XCTAssertTrue(findings.first?.message.contains("DANE senders never fall back to plaintext") == true, findings.first?.message ?? "")
        XCTAssertEqual(evaluated.daneText, "unverified: _25._tcp.mx.example.com has usable TLSA records, but no TLS handshake completed: DANE senders defer mail")
        XCTAssertEqual(PolicyRules.findings(findings, policy: nil).map(\.message), findings.map(\.message), "no policy, no change")
    }
}
