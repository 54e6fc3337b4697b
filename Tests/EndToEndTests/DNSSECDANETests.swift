import Foundation
import MXCheckCore
import XCTest

/// DANE end to end through the library: for every case of the DNSSEC lab, the RFC 7672 lookups through the lab's
/// resolver with mxcheck's own validation, a real STARTTLS handshake with the lab's Postfix, the evaluation of
/// the chain it sent, and the verdict cross-checked with `openssl s_client -dane_tlsa_domain -dane_tlsa_rrdata`.
final class DNSSECDANETests: XCTestCase {
    var lab: DNSSECLab!
    var resolver: DNSResolver!
    var lookup: SharedDNSLookup!

    override func setUpWithError() throws {
        try super.setUpWithError()
        lab = try DNSSECLab.shared()
        try XCTSkipIf(lab.smtpServer == nil, "the DNSSEC lab runs without its SMTP servers (not root)")
        resolver = try DNSResolver(DNSResolver.Configuration(servers: .forwarders([try DNSServerAddress.parse(lab.resolver)]), trustAnchorFile: lab.trustAnchor))
        lookup = SharedDNSLookup(resolver)
    }

    override func tearDown() {
        lookup = nil
        resolver = nil
        super.tearDown()
    }

    private var port: UInt16 { UInt16(lab.smtpPort) }

    /// The policies of a case's MX hosts, as `--mx DOMAIN --port PORT` would look them up.
    private func policies(_ entry: DNSSECLab.Case) -> [DANEPolicy] {
        let deadline = Deadline(secondsFromNow: 10)
        let requests = DANEPolicyLookup.requests(forDomain: entry.domain, hosts: entry.mx.map(\.host), port: port, using: lookup, deadline: deadline)
        return DANEPolicyLookup.policies(for: requests, using: lookup, deadline: deadline)
    }

    /// A real handshake with the case's server (SNI: the TLSA base domain); the chain it sent, or nil.
    private func chain(_ entry: DNSSECLab.Case, policy: DANEPolicy) throws -> [[UInt8]]? {
        let address = try XCTUnwrap(entry.address, "no server for \(entry.domain)")
        let endpoint = Endpoint(host: policy.host, address: address, port: port, tls: .starttls, serverName: policy.serverName, referenceIdentity: policy.host)
        let checker = Checker(context: try TLSClientContext(), trustStore: try TrustStore(extraCAFile: lab.rootCA),
                              settings: CheckSettings(ehloName: "client.dane.example", timeout: 10))
        let observation = checker.observe(endpoint, now: Date())
        return observation.tls?.chainDER
    }

    private func evaluate(_ key: String) throws -> (DNSSECLab.Case, DANEEvaluation) {
        let entry = try lab.case(key)
        let policy = try XCTUnwrap(policies(entry).first)
        return (entry, DANEEvaluation(policy: policy, chainDER: try chain(entry, policy: policy), at: Date()))
    }

    func testEveryCaseGetsTheStatusTheLabExpects() throws {
        let resolverReady = resolver.dnssecSupport(deadline: Deadline(secondsFromNow: 10))
        XCTAssertTrue(resolverReady.isUsable, "\(resolverReady)")
        var checked = 0
        for (key, entry) in lab.cases.sorted(by: { $0.key < $1.key }) where entry.expect.perMX == nil {
            let (_, evaluation) = try evaluate(key)
            let expect = entry.expect
            XCTAssertEqual(evaluation.status.rawValue, expect.status, "\(key): \(evaluation.reason)")
            XCTAssertEqual(evaluation.dnssec?.rawValue, expect.daneDnssec, "\(key): dane.dnssec")
            XCTAssertEqual(evaluation.policy.mxDNSSEC?.rawValue, expect.mxDnssec, "\(key): mx.dnssec")
            XCTAssertEqual(DANERules.findings(for: evaluation).map(\.id.rawValue), expect.findings, "\(key): findings")
            if expect.status == "valid" {
                XCTAssertEqual(evaluation.matchedDepth, expect.matchedDepth, "\(key): matchedDepth")
            }
            if !entry.tlsaRecords.isEmpty, case .records = evaluation.policy.outcome {
                // An RRset has no order: DNS gives it in canonical order, not as the zone file lists it.
                XCTAssertEqual(evaluation.records.compactMap { $0.record?.description }.sorted(), entry.tlsaRecords.sorted(), "\(key): records as published")
                XCTAssertEqual(evaluation.recordsTotal, entry.tlsaRecords.count)
            }
            checked += 1
        }
        XCTAssertGreaterThanOrEqual(checked, 25)
    }

    func testTwoMXWithTLSAOnOneOnly() throws {
        let entry = try lab.case("two_mx")
        let found = policies(entry)
        XCTAssertEqual(found.map(\.host), entry.mx.map(\.host))
        for policy in found {
            let server = try XCTUnwrap(lab.cases.values.first { $0.host == policy.host && $0.chain != nil }, "no server for \(policy.host)")
            let evaluation = DANEEvaluation(policy: policy, chainDER: try chain(server, policy: policy), at: Date())
            XCTAssertEqual(evaluation.status.rawValue, entry.expect.perMX?[policy.host], policy.host)
        }
    }

    func testCNAMEdMXHostUsesTheExpandedName() throws {
        let (entry, evaluation) = try evaluate("cname")
        XCTAssertEqual(evaluation.name, "_\(port)._tcp.\(try XCTUnwrap(entry.cname))")
        XCTAssertEqual(evaluation.policy.serverName, entry.cname)
        XCTAssertEqual(evaluation.referenceIdentities, [entry.cname!, entry.host, entry.domain])
        let (original, fallback) = try evaluate("cname_original")
        XCTAssertEqual(fallback.status, .valid)
        XCTAssertEqual(fallback.name, "_\(port)._tcp.\(original.host)", "no TLSA at the expanded name: the original name's")
    }

    func testEachNameIsAskedOnce() throws {
        let entry = try lab.case("ee_spki_sha256")
        _ = policies(entry)
        let first = lookup.questionsAsked
        XCTAssertEqual(first, 4, "MX, A, AAAA, TLSA")
        _ = policies(entry)
        _ = policies(try lab.case("insecure_mx"))
        XCTAssertEqual(lookup.questionsAsked, first + 1, "only insecure_mx's MX RRset is new: its host's answers are shared")
    }

    func testMXResolutionAndDANEShareEveryAnswer() throws {
        let entry = try lab.case("two_mx")
        let domain = try MXResolution.resolve(entry.domain, using: lookup, options: MXResolutionOptions(port: port, queryTimeout: 10))
        XCTAssertEqual(domain.endpoints.map(\.mx.host), entry.mx.map(\.host))
        XCTAssertTrue(domain.endpoints.allSatisfy(\.secure), "validated by mxcheck: MX and addresses secure")
        let asked = lookup.questionsAsked
        XCTAssertEqual(asked, 5, "MX, then A and AAAA of two hosts")
        let found = DANEPolicyLookup.policies(for: domain, port: port, using: lookup, deadline: Deadline(secondsFromNow: 10))
        XCTAssertEqual(lookup.questionsAsked, asked + 2, "only the two TLSA questions are new")
        for (host, status) in entry.expect.perMX ?? [:] {
            let policy = try XCTUnwrap(found[host], host)
            XCTAssertEqual(policy.mxDNSSEC, .secure)
            XCTAssertEqual(policy.referenceIdentities.last, entry.domain)
            let expected: DANEPolicy.Outcome? = status == "absent" ? .absent : nil
            if let expected { XCTAssertEqual(policy.outcome, expected, host) } else if case .records = policy.outcome {} else { XCTFail("\(host): \(policy.outcome)") }
        }
    }

    func testPortTwentyFiveRecordsAreThereToo() throws {
        let entry = try lab.case("ee_spki_sha256")
        let request = DANELookupRequest(host: entry.host, port: 25, domain: entry.domain, mxDNSSEC: .secure)
        let policy = DANEPolicyLookup.policy(for: request, using: lookup, deadline: Deadline(secondsFromNow: 10))
        XCTAssertEqual(policy.tlsaName, entry.tlsaName)
        guard case .records(let set) = policy.outcome else { return XCTFail("\(policy.outcome)") }
        XCTAssertEqual(set.entries.compactMap { $0.record?.description }.sorted(), entry.tlsaRecords.sorted())
    }

    func testVerdictsAgreeWithOpenSSLsClient() throws {
        var compared = 0
        for (key, entry) in lab.cases.sorted(by: { $0.key < $1.key }) where entry.chain != nil {
            let policy = try XCTUnwrap(policies(entry).first)
            guard case .records(let set) = policy.outcome, !set.usable.isEmpty else { continue }
            // s_client takes one reference identity, the TLSA base domain: compare on that footing.
            var single = policy
            single.referenceIdentities = [policy.tlsaBase]
            let mine = DANEEvaluation(policy: single, chainDER: try chain(entry, policy: policy), at: Date())
            let theirs = try sClient(entry, base: policy.tlsaBase, records: set.usable)
            XCTAssertEqual(mine.status == .valid, theirs.verified, "\(key): mxcheck says \(mine.status) (\(mine.reason)); s_client: \(theirs.summary)")
            if mine.status == .valid, let depth = theirs.depth {
                XCTAssertEqual(mine.matchedDepth ?? 1, depth, "\(key): matched depth")
                XCTAssertEqual(mine.matchedRecord.flatMap { mine.records[$0].record?.combination.description }, theirs.combination, "\(key): matched record")
            }
            compared += 1
        }
        XCTAssertGreaterThanOrEqual(compared, 18)
    }

    func testRecordsOpenSSLRefusesAreTheOnesMXCheckCallsUnusable() throws {
        for key in ["bad_length", "unknown_params"] {
            let entry = try lab.case(key)
            let (_, evaluation) = try evaluate(key)
            XCTAssertEqual(evaluation.status, .unusable, key)
            let theirs = try sClient(entry, base: entry.host, records: entry.tlsaRecords.compactMap { TLSARecord(presentation: $0) })
            XCTAssertEqual(theirs.refused, entry.tlsaRecords.count, "\(key): \(theirs.summary)")
        }
    }

    // MARK: openssl s_client

    struct SClientVerdict {
        var verified: Bool
        var depth: Int?
        var combination: String?
        var refused: Int
        var summary: String
    }

    private func sClient(_ entry: DNSSECLab.Case, base: String, records: [TLSARecord]) throws -> SClientVerdict {
        let address = try XCTUnwrap(entry.address)
        var arguments = ["/usr/bin/openssl", "s_client", "-starttls", "smtp", "-connect", "\(address):\(lab.smtpPort)",
                         "-servername", base, "-dane_tlsa_domain", base, "-verify_return_error"]
        for record in records { arguments += ["-dane_tlsa_rrdata", record.description] }
        let run = Command.run(arguments, stdin: "", timeout: 20)
        let text = run.stdout + run.stderr
        let verified = text.contains("Verify return code: 0 (ok)")
        // "DANE TLSA 3 1 1 ...abcd matched EE certificate at depth 0"
        var depth: Int?
        var combination: String?
        if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("DANE TLSA ") }) {
            let fields = line.split(separator: " ")
            if fields.count > 5 { combination = fields[2...4].joined(separator: " ") }
            if let last = fields.last { depth = Int(last) }
        }
        let refused = text.split(separator: "\n").filter { $0.contains("dane_tlsa_add") }.count
        let summary = text.split(separator: "\n").filter { $0.contains("Verify return code") || $0.hasPrefix("DANE TLSA") || $0.contains("dane_tlsa_add") || $0.contains("verify error") }.joined(separator: " | ")
        return SClientVerdict(verified: verified, depth: depth, combination: combination, refused: refused, summary: summary)
    }
}
