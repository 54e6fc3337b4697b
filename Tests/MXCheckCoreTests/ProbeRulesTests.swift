import Foundation
import XCTest
@testable import MXCheckCore

/// Probe results → findings: one finding per id and severity, the right severities, nothing for a clean server.
final class ProbeRulesTests: XCTestCase {
    private func result(_ protocols: [ProtocolVersion: Bool], _ ciphers: [ProtocolVersion: [String]] = [:], dhBits: Int? = nil) -> ProbeResult {
        var result = ProbeResult()
        for (version, accepted) in protocols { result.protocols[version.rawValue] = accepted }
        for (version, suites) in ciphers { result.ciphers[version.rawValue] = CipherList(serverOrder: nil, suites: suites) }
        result.dhBits = dhBits
        return result
    }

    private let relay25 = AssumedRole(explicit: nil, port: 25, domainMode: false)
    private let submission587 = AssumedRole(explicit: nil, port: 587, domainMode: false)

    private func judge(_ result: ProbeResult, _ role: AssumedRole? = nil, negotiated: NegotiatedTLS? = nil) -> [Finding] {
        ProbeRules.findings(for: result, role: role ?? relay25, negotiated: negotiated)
    }

    func testCleanServerHasNoFindings() {
        let clean = result([.tls12: true, .tls13: true, .tls11: false, .tls10: false, .sslv3: false, .sslv2: false], [
            .tls12: ["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA"],
            .tls13: ["TLS_AES_128_GCM_SHA256"],
        ], dhBits: 2048)
        XCTAssertEqual(judge(clean), [])
    }

    func testProtocolFindings() {
        let findings = judge(result([.sslv2: true, .sslv3: true, .tls10: true, .tls11: false]))
        XCTAssertEqual(findings.map(\.id), [.tlsObsoleteProtocol, .tlsLegacyProtocol])
        XCTAssertEqual(findings.map(\.severity), [.critical, .warning])
        XCTAssertEqual(findings.first?.message, "SSLv2 and SSLv3 accepted")
        XCTAssertEqual(findings.last?.message, "TLSv1.0 accepted")
        XCTAssertFalse(findings.last?.fix.isEmpty ?? true)
        // Unknown is not accepted.
        XCTAssertEqual(judge(ProbeResult()), [])
    }

    private var mixed: ProbeResult {
        result([.tls10: true, .tls12: true], [
            .tls10: ["TLS_RSA_WITH_RC4_128_SHA", "TLS_RSA_WITH_3DES_EDE_CBC_SHA", "TLS_RSA_EXPORT_WITH_RC4_40_MD5"],
            .tls12: ["TLS_RSA_WITH_RC4_128_SHA", "TLS_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_DH_anon_WITH_AES_128_CBC_SHA"],
        ])
    }

    func testOneCipherFindingPerSeverityNamingEachSuiteOnce() {
        let findings = judge(mixed, submission587)
        let weak = findings.filter { $0.id == .tlsWeakCipher }
        XCTAssertEqual(weak.map(\.severity), [.critical, .warning])
        let critical = weak[0].message
        XCTAssertTrue(critical.hasPrefix("4 insecure suites accepted"), critical)
        XCTAssertTrue(critical.contains("TLS_RSA_WITH_RC4_128_SHA (RC4; TLSv1.0, TLSv1.2)"), critical)
        XCTAssertTrue(critical.contains("TLS_RSA_EXPORT_WITH_RC4_40_MD5 (export grade; TLSv1.0)"), critical)
        XCTAssertTrue(critical.contains("TLS_DH_anon_WITH_AES_128_CBC_SHA (anonymous; TLSv1.2)"), critical)
        XCTAssertTrue(critical.contains("TLS_RSA_WITH_3DES_EDE_CBC_SHA (3DES; TLSv1.0)"), "3DES is critical where passwords travel: \(critical)")
        XCTAssertTrue(critical.hasSuffix("; port 587: judged as a submission port (passwords travel here)"), critical)
        let warning = weak[1].message
        XCTAssertTrue(warning.hasPrefix("1 weak suite accepted"), warning)
        XCTAssertTrue(warning.contains("TLS_RSA_WITH_AES_128_GCM_SHA256 (no forward secrecy; TLSv1.2)"), warning)
        XCTAssertFalse(findings.contains { $0.message.contains("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256") })
    }

    func testOnARelayBrokenEncryptionWarnsAndMissingAuthenticationInforms() {
        let weak = judge(mixed, relay25).filter { $0.id == .tlsWeakCipher }
        XCTAssertEqual(weak.map(\.severity), [.warning, .info])
        let warning = weak[0].message
        XCTAssertTrue(warning.hasPrefix("3 weak suites accepted"), warning)
        for item in ["TLS_RSA_WITH_RC4_128_SHA (RC4; TLSv1.0, TLSv1.2)", "TLS_RSA_EXPORT_WITH_RC4_40_MD5 (export grade; TLSv1.0)", "TLS_RSA_WITH_3DES_EDE_CBC_SHA (3DES; TLSv1.0)"] {
            XCTAssertTrue(warning.contains(item), "\(item) in \(warning)")
        }
        XCTAssertTrue(warning.hasSuffix("; port 25: judged as a relay (opportunistic TLS)"), warning)
        let info = weak[1].message
        XCTAssertTrue(info.contains("TLS_DH_anon_WITH_AES_128_CBC_SHA (anonymous; TLSv1.2)"), info)
        XCTAssertTrue(info.contains("TLS_RSA_WITH_AES_128_GCM_SHA256 (no forward secrecy; TLSv1.2)"), info)
        XCTAssertFalse(info.contains("RC4"), info)
    }

    func testRoleDefaultsAndTheirReasons() {
        XCTAssertEqual(PortRole.default(forPort: 25, domainMode: false), .relay)
        XCTAssertEqual(PortRole.default(forPort: 2525, domainMode: false), .relay)
        XCTAssertEqual(PortRole.default(forPort: 587, domainMode: false), .submission)
        XCTAssertEqual(PortRole.default(forPort: 465, domainMode: false), .submission)
        XCTAssertEqual(PortRole.default(forPort: 587, domainMode: true), .relay, "every --mx endpoint is a relay")
        XCTAssertEqual(AssumedRole(explicit: .submission, port: 25, domainMode: false),
                       AssumedRole(role: .submission, reason: "--role submission: passwords travel here"))
        XCTAssertEqual(AssumedRole(explicit: .relay, port: 587, domainMode: false),
                       AssumedRole(role: .relay, reason: "--role relay: judged as a relay (opportunistic TLS)"))
        XCTAssertEqual(AssumedRole(explicit: nil, port: 465, domainMode: false).reason, "port 465: judged as a submission port (passwords travel here)")
        XCTAssertEqual(AssumedRole(explicit: nil, port: 25, domainMode: true).reason, "MX host port 25: judged as a relay (opportunistic TLS)")
    }

    func testTheSeverityTableRowByRow() {
        // One suite per weakness (or pair), judged three ways: negotiated, accepted on a relay, on a submission port.
        let rows: [(String, Severity, Severity, Severity)] = [
            ("TLS_RSA_EXPORT_WITH_RC4_40_MD5", .critical, .warning, .critical),
            ("TLS_RSA_WITH_NULL_SHA256", .critical, .warning, .critical),
            ("TLS_DH_anon_WITH_AES_256_GCM_SHA384", .critical, .info, .critical),
            ("TLS_ECDHE_RSA_WITH_RC4_128_SHA", .critical, .warning, .critical),
            ("TLS_RSA_WITH_DES_CBC_SHA", .critical, .warning, .critical),
            ("TLS_RSA_WITH_3DES_EDE_CBC_SHA", .warning, .warning, .critical),
            ("TLS_DH_anon_WITH_3DES_EDE_CBC_SHA", .critical, .warning, .critical),
            ("TLS_RSA_WITH_AES_128_GCM_SHA256", .warning, .info, .warning),
            ("TLS_ECDH_ECDSA_WITH_AES_128_GCM_SHA256", .warning, .info, .warning),
        ]
        for (name, negotiated, relay, submission) in rows {
            guard let suite = CipherSuite.named(name) else { return XCTFail("no suite \(name)") }
            XCTAssertEqual(suite.judged(.negotiated)?.severity, negotiated, name)
            XCTAssertEqual(suite.judged(.accepted(.relay))?.severity, relay, name)
            XCTAssertEqual(suite.judged(.accepted(.submission))?.severity, submission, name)
        }
        XCTAssertNil(CipherSuite.named("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")?.judged(.accepted(.submission)))
        // Every weakness has its row, and the negotiated column keeps the verdicts mxcheck always gave, by family.
        XCTAssertEqual(Set(CipherSuite.severityTable.keys), Set(CipherSuite.Weakness.allCases))
        for suite in CipherSuite.all {
            let broken = suite.isExport || suite.cipher == "NULL" || suite.isAnonymous || suite.cipher.hasPrefix("RC4")
                || suite.cipher == "RC2" || suite.cipher == "DES" || suite.bits < 112
            let weak = suite.cipher == "3DES" || !suite.isForwardSecret
            let expected: Severity? = broken ? .critical : (weak ? .warning : nil)
            XCTAssertEqual(suite.judged(.negotiated)?.severity, expected, "\(suite)")
            XCTAssertEqual(suite.weaknesses.isEmpty, expected == nil, "\(suite)")
        }
    }

    func testTheNegotiatedSuiteIsNeverJudgedMoreLeniently() {
        // A relay whose own choice for a modern client is static RSA: the negotiated suite keeps its warning.
        let probed = result([.tls12: true], [.tls12: ["TLS_RSA_WITH_AES_128_GCM_SHA256", "TLS_DH_anon_WITH_AES_128_CBC_SHA"]])
        let negotiated = NegotiatedTLS(version: .tls12, cipher: "TLS_RSA_WITH_AES_128_GCM_SHA256", group: nil, keyExchangeBits: nil, chainDER: [])
        let weak = judge(probed, relay25, negotiated: negotiated).filter { $0.id == .tlsWeakCipher }
        XCTAssertEqual(weak.map(\.severity), [.warning, .info])
        XCTAssertTrue(weak[0].message.contains("TLS_RSA_WITH_AES_128_GCM_SHA256 (no forward secrecy; TLSv1.2; negotiated)"), weak[0].message)
        XCTAssertTrue(weak[1].message.contains("TLS_DH_anon_WITH_AES_128_CBC_SHA"), weak[1].message)
        // A negotiated suite the enumeration missed still counts.
        let missed = judge(result([.tls12: true], [.tls12: ["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"]]), relay25, negotiated: negotiated)
        XCTAssertEqual(missed.map(\.severity), [.warning])
    }

    func testTheDHThresholdIsTheSameForProbedAndNegotiatedGroups() {
        XCTAssertEqual(judge(result([.tls12: true], dhBits: RuleThresholds.minimumDHBits - 1)).map(\.id), [.tlsWeakDH])
        XCTAssertEqual(judge(result([.tls12: true], dhBits: RuleThresholds.minimumDHBits)), [])
        func negotiated(_ bits: Int) -> [FindingID] {
            Rules.protocolFindings(NegotiatedTLS(version: .tls12, cipher: "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", group: KeyExchangeGroup(name: "dh\(bits)"), keyExchangeBits: bits, chainDER: [])).map(\.id)
        }
        XCTAssertEqual(negotiated(RuleThresholds.minimumDHBits - 1), [.tlsWeakDH])
        XCTAssertEqual(negotiated(RuleThresholds.minimumDHBits), [])
    }

    /// One judgement per version, whether mxcheck's client negotiated it or a probe found it accepted.
    func testEachVersionIsJudgedOnceForProbeAndNegotiation() {
        XCTAssertEqual(ProtocolVersion.allCases.map { Rules.protocolFinding(for: $0) },
                       [.tlsObsoleteProtocol, .tlsObsoleteProtocol, .tlsLegacyProtocol, .tlsLegacyProtocol, nil, nil])
        for version in ProtocolVersion.allCases {
            let accepted = judge(result([version: true])).map(\.id)
            let negotiated = Rules.protocolFindings(NegotiatedTLS(version: version, cipher: "TLS_AES_128_GCM_SHA256", group: nil, keyExchangeBits: nil, chainDER: [])).map(\.id)
            XCTAssertEqual(accepted, Rules.protocolFinding(for: version).map { [$0] } ?? [], "\(version)")
            XCTAssertEqual(negotiated, accepted, "\(version)")
        }
    }

    func testTheVerdictOfOneSuiteAndItsLabel() {
        guard let anonymous = CipherSuite.named("TLS_DH_anon_WITH_AES_128_CBC_SHA"), let staticRSA = CipherSuite.named("TLS_RSA_WITH_AES_128_GCM_SHA256"),
              let modern = CipherSuite.named("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256") else { return XCTFail("suites missing from the table") }
        XCTAssertEqual(ProbeRules.verdict(for: anonymous, role: .relay, negotiated: false)?.severity, .info)
        XCTAssertEqual(ProbeRules.verdict(for: anonymous, role: .submission, negotiated: false)?.severity, .critical)
        XCTAssertEqual(ProbeRules.verdict(for: anonymous, role: .relay, negotiated: false)?.weakness, .anonymous)
        XCTAssertEqual(ProbeRules.verdict(for: staticRSA, role: .relay, negotiated: false)?.severity, .info)
        XCTAssertEqual(ProbeRules.verdict(for: staticRSA, role: .relay, negotiated: true)?.severity, .warning, "negotiated: never more lenient")
        XCTAssertNil(ProbeRules.verdict(for: modern, role: .submission, negotiated: true))
        XCTAssertEqual(Severity.allCases.map(ProbeRules.suiteLabel), ["weak", "weak", "weak", "insecure"])
    }

    /// The text output's per-suite labels say what the findings say on this port's role, not the suite's class.
    func testTextLabelsFollowThePortRole() {
        let suites = ["TLS_DH_anon_WITH_AES_128_CBC_SHA", "TLS_RSA_WITH_AES_128_GCM_SHA256", "TLS_RSA_WITH_RC4_128_SHA", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"]
        func render(port: UInt16) -> (text: String, findings: [Finding]) {
            var observation = Observation(endpoint: Endpoint(
                host: "mx.example.com", address: "192.0.2.1", port: port, tls: .starttls, serverName: "mx.example.com", referenceIdentity: "mx.example.com"))
            observation.tls = NegotiatedTLS(version: .tls12, cipher: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", group: KeyExchangeGroup(name: "x25519"), keyExchangeBits: 253, chainDER: [])
            observation.probe = result([.tls12: true], [.tls12: suites])
            let report = EndpointReport(observation: observation, settings: RuleSettings(now: Date()))
            return (TextReport(colour: false).render(report), report.findings.filter { $0.id == .tlsWeakCipher })
        }
        let relay = render(port: 25)
        XCTAssertTrue(relay.text.contains("TLS_DH_anon_WITH_AES_128_CBC_SHA       weak: anonymous"), relay.text)
        XCTAssertTrue(relay.text.contains("TLS_RSA_WITH_AES_128_GCM_SHA256        weak: no forward secrecy"), relay.text)
        XCTAssertTrue(relay.text.contains("TLS_RSA_WITH_RC4_128_SHA               weak: RC4"), relay.text)
        XCTAssertEqual(relay.findings.map(\.severity), [.warning, .info], "RC4 warns on a relay; anonymous and static RSA inform")
        let submission = render(port: 587)
        XCTAssertTrue(submission.text.contains("TLS_DH_anon_WITH_AES_128_CBC_SHA       insecure: anonymous"), submission.text)
        XCTAssertTrue(submission.text.contains("TLS_RSA_WITH_AES_128_GCM_SHA256        weak: no forward secrecy"), submission.text)
        XCTAssertTrue(submission.text.contains("TLS_RSA_WITH_RC4_128_SHA               insecure: RC4"), submission.text)
        XCTAssertEqual(submission.findings.map(\.severity), [.critical, .warning])
        for text in [relay.text, submission.text] {
            let line = text.split(separator: "\n").last { $0.contains("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256") }
            XCTAssertEqual(line?.trimmingCharacters(in: .whitespaces), "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "a strong suite has no label")
        }
    }

    func testWeakDH() {
        var probed = result([.tls12: true], dhBits: 1024)
        probed.dhSuite = "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256"
        XCTAssertEqual(judge(probed), [Finding(.tlsWeakDH, message: "DHE key exchange with a 1024-bit group (TLS_DHE_RSA_WITH_AES_128_GCM_SHA256)")])
        XCTAssertEqual(judge(result([.tls12: true], dhBits: 2048)), [])
    }

    func testRateLimitedRunSaysSo() {
        var limited = ProbeResult()
        limited.rateLimited = true
        limited.incomplete = true
        XCTAssertEqual(judge(limited).map(\.id), [.smtpRateLimited])
        XCTAssertEqual(judge(limited).first?.severity, .unknown)
    }

    func testBudget() {
        var probed = result([.tls12: true, .tls13: true], [.tls12: ["A", "B"], .tls13: ["C"]])
        probed.groups = ["x25519", "secp256r1"]
        XCTAssertEqual(probed.acceptedPairs, 3)
        XCTAssertEqual(probed.connectionBudget, 3 + 2 + 12 + 10)
    }
}
