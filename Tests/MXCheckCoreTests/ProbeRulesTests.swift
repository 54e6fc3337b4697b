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

    func testCleanServerHasNoFindings() {
        let clean = result([.tls12: true, .tls13: true, .tls11: false, .tls10: false, .sslv3: false, .sslv2: false], [
            .tls12: ["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA"],
            .tls13: ["TLS_AES_128_GCM_SHA256"],
        ], dhBits: 2048)
        XCTAssertEqual(ProbeRules.findings(for: clean), [])
    }

    func testProtocolFindings() {
        let findings = ProbeRules.findings(for: result([.sslv2: true, .sslv3: true, .tls10: true, .tls11: false]))
        XCTAssertEqual(findings.map(\.id), [.tlsObsoleteProtocol, .tlsLegacyProtocol])
        XCTAssertEqual(findings.map(\.severity), [.critical, .warning])
        XCTAssertEqual(findings.first?.message, "SSLv2 and SSLv3 accepted")
        XCTAssertEqual(findings.last?.message, "TLSv1.0 accepted")
        XCTAssertFalse(findings.last?.fix.isEmpty ?? true)
        // Unknown is not accepted.
        XCTAssertEqual(ProbeRules.findings(for: ProbeResult()), [])
    }

    func testOneCipherFindingPerSeverityNamingEachSuiteOnce() {
        let findings = ProbeRules.findings(for: result([.tls10: true, .tls12: true], [
            .tls10: ["TLS_RSA_WITH_RC4_128_SHA", "TLS_RSA_WITH_3DES_EDE_CBC_SHA", "TLS_RSA_EXPORT_WITH_RC4_40_MD5"],
            .tls12: ["TLS_RSA_WITH_RC4_128_SHA", "TLS_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_DH_anon_WITH_AES_128_CBC_SHA"],
        ]))
        let weak = findings.filter { $0.id == .tlsWeakCipher }
        XCTAssertEqual(weak.map(\.severity), [.critical, .warning])
        let critical = weak[0].message
        XCTAssertTrue(critical.hasPrefix("3 insecure suites accepted"), critical)
        XCTAssertTrue(critical.contains("TLS_RSA_WITH_RC4_128_SHA (RC4; TLSv1.0, TLSv1.2)"), critical)
        XCTAssertTrue(critical.contains("TLS_RSA_EXPORT_WITH_RC4_40_MD5 (export grade; TLSv1.0)"), critical)
        XCTAssertTrue(critical.contains("TLS_DH_anon_WITH_AES_128_CBC_SHA (anonymous; TLSv1.2)"), critical)
        let warning = weak[1].message
        XCTAssertTrue(warning.hasPrefix("2 weak suites accepted"), warning)
        XCTAssertTrue(warning.contains("TLS_RSA_WITH_3DES_EDE_CBC_SHA (3DES; TLSv1.0)"), warning)
        XCTAssertTrue(warning.contains("TLS_RSA_WITH_AES_128_GCM_SHA256 (no forward secrecy; TLSv1.2)"), warning)
        XCTAssertFalse(findings.contains { $0.message.contains("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256") })
    }

    func testWeakDH() {
        var probed = result([.tls12: true], dhBits: 1024)
        probed.dhSuite = "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256"
        XCTAssertEqual(ProbeRules.findings(for: probed), [Finding(.tlsWeakDH, message: "DHE key exchange with a 1024-bit group (TLS_DHE_RSA_WITH_AES_128_GCM_SHA256)")])
        XCTAssertEqual(ProbeRules.findings(for: result([.tls12: true], dhBits: 2048)), [])
    }

    func testRateLimitedRunSaysSo() {
        var limited = ProbeResult()
        limited.rateLimited = true
        limited.incomplete = true
        XCTAssertEqual(ProbeRules.findings(for: limited).map(\.id), [.smtpRateLimited])
        XCTAssertEqual(ProbeRules.findings(for: limited).first?.severity, .unknown)
    }

    func testBudget() {
        var probed = result([.tls12: true, .tls13: true], [.tls12: ["A", "B"], .tls13: ["C"]])
        probed.groups = ["x25519", "secp256r1"]
        XCTAssertEqual(probed.acceptedPairs, 3)
        XCTAssertEqual(probed.connectionBudget, 3 + 2 + 12 + 10)
    }
}
