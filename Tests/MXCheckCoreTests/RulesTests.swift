import XCTest
@testable import MXCheckCore

/// Every rule against a fixed clock: 2026-11-23T12:00:00Z.
final class RulesTests: XCTestCase {
    /// JSON dates are written digit by digit: the same text printf's %04d-%02d-... gives, padding included.
    func testJSONDatesMatchPrintf() {
        var seconds: Int64 = -62_135_596_800  // 0001-01-01T00:00:00Z
        var step: Int64 = 86_399 * 37 + 11
        for _ in 0..<4000 {
            var time = time_t(seconds)
            var parts = tm()
            gmtime_r(&time, &parts)
            let expected = String(cFormat: "%04d-%02d-%02dT%02d:%02d:%02dZ", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
                                  parts.tm_hour, parts.tm_min, parts.tm_sec)
            XCTAssertEqual(JSONDates.format(Date(timeIntervalSince1970: Double(seconds))), expected)
            seconds += step
            step = step * 3 % 9_000_000_007 + 1
        }
        XCTAssertEqual(JSONDates.format(Date(timeIntervalSince1970: 1_796_000_000.9)), "2026-11-30T00:53:20Z")
    }

    let now = Date(timeIntervalSince1970: 1_795_435_200)
    let day: TimeInterval = 86_400

    private func leaf(
        notBefore: TimeInterval = -30, notAfter: TimeInterval = 60, dns: [String] = ["mx.example.com"], ips: [String] = [],
        cn: String? = "mx.example.com", keyType: PublicKeyType = .rsa, bits: Int = 2048,
        signature: String = "sha256WithRSAEncryption", selfSigned: Bool = false, issuer: String = "CN=Intermediate"
    ) -> CertificateFacts {
        CertificateFacts(
            subject: cn.map { "CN=\($0)" } ?? "", issuer: issuer, commonName: cn,
            notBefore: now.addingTimeInterval(notBefore * day), notAfter: now.addingTimeInterval(notAfter * day),
            dnsNames: dns, ipAddresses: ips, keyType: keyType, keyBits: bits, signatureAlgorithm: signature,
            sha256: String(repeating: "0", count: 64), selfSigned: selfSigned)
    }

    private let intermediate = CertificateFacts(
        subject: "CN=Intermediate", issuer: "CN=Root", commonName: "Intermediate",
        notBefore: Date(timeIntervalSince1970: 1_700_000_000), notAfter: Date(timeIntervalSince1970: 1_900_000_000),
        dnsNames: [], ipAddresses: [], keyType: .rsa, keyBits: 4096, signatureAlgorithm: "sha256WithRSAEncryption",
        sha256: String(repeating: "1", count: 64), selfSigned: false)

    private func observe(
        _ chain: [CertificateFacts], errors: [VerifyError] = [], version: ProtocolVersion = .tls13,
        cipher: String = "TLS_AES_256_GCM_SHA384", group: KeyExchangeGroup? = KeyExchangeGroup(name: "x25519"), bits: Int? = 253, reference: String = "mx.example.com"
    ) -> Observation {
        var observation = Observation(endpoint: Endpoint(
            host: reference, address: "192.0.2.1", port: 25, tls: .starttls, serverName: reference, referenceIdentity: reference))
        observation.tls = NegotiatedTLS(version: version, cipher: cipher, group: group, keyExchangeBits: bits, chainDER: [])
        observation.chain = chain
        observation.verification = ChainVerification(errors: errors)
        observation.starttlsOffered = true
        return observation
    }

    private func ids(_ observation: Observation, warn: Int = 14, crit: Int = 7) -> [String] {
        Rules.findings(for: observation, settings: RuleSettings(now: now, warnDays: warn, critDays: crit)).map(\.id.rawValue).sorted()
    }

    private func report(_ observation: Observation) -> EndpointReport {
        EndpointReport(observation: observation, settings: RuleSettings(now: now))
    }

    func testCleanEndpoint() {
        let result = report(observe([leaf(), intermediate]))
        XCTAssertEqual(result.findings, [])
        XCTAssertEqual(result.status, .ok)
        XCTAssertEqual(result.score, 100)
        XCTAssertEqual(result.hostnameMatch, true)
    }

    func testExpiredAndNotYetValidByTheClock() {
        XCTAssertEqual(ids(observe([leaf(notBefore: -400, notAfter: -1)], errors: [VerifyError(depth: 0, code: VerifyError.Code.expired, message: "certificate has expired")])), ["cert.expired"])
        XCTAssertEqual(ids(observe([leaf(notBefore: 2, notAfter: 300)], errors: [VerifyError(depth: 0, code: VerifyError.Code.notYetValid, message: "certificate is not yet valid")])), ["cert.not_yet_valid"])
        XCTAssertEqual(report(observe([leaf(notAfter: -1)])).status, .critical)
    }

    func testExpiringThresholds() {
        let crit = Rules.findings(for: observe([leaf(notAfter: 3)]), settings: RuleSettings(now: now))
        XCTAssertEqual(crit.map(\.id), [.certExpiring])
        XCTAssertEqual(crit.first?.severity, .critical)
        let warn = Rules.findings(for: observe([leaf(notAfter: 10)]), settings: RuleSettings(now: now))
        XCTAssertEqual(warn.first?.severity, .warning)
        XCTAssertEqual(ids(observe([leaf(notAfter: 15)])), [])
        XCTAssertEqual(ids(observe([leaf(notAfter: 15)]), warn: 20, crit: 2), ["cert.expiring"])
        XCTAssertEqual(report(observe([leaf(notAfter: 10)])).status, .warning)
        XCTAssertEqual(report(observe([leaf(notAfter: 3)])).status, .critical)
    }

    func testSelfSignedStandsInsteadOfUntrusted() {
        let errors = [VerifyError(depth: 0, code: VerifyError.Code.depthZeroSelfSigned, message: "self-signed certificate")]
        XCTAssertEqual(ids(observe([leaf(selfSigned: true, issuer: "CN=mx.example.com")], errors: errors)), ["cert.self_signed"])
    }

    func testChainIncompleteWhenOnlyTheLeafCame() {
        let errors = [
            VerifyError(depth: 0, code: VerifyError.Code.unableToGetIssuerLocally, message: "unable to get local issuer certificate"),
            VerifyError(depth: 0, code: VerifyError.Code.unableToVerifyLeafSignature, message: "unable to verify the first certificate"),
        ]
        XCTAssertEqual(ids(observe([leaf()], errors: errors)), ["cert.chain_incomplete"])
    }

    func testUnknownCAIsUntrusted() {
        let errors = [VerifyError(depth: 1, code: VerifyError.Code.unableToGetIssuerLocally, message: "unable to get local issuer certificate")]
        let findings = Rules.findings(for: observe([leaf(), intermediate], errors: errors), settings: RuleSettings(now: now))
        XCTAssertEqual(findings.map(\.id), [.certUntrusted])
        XCTAssertTrue(findings[0].message.contains("unable to get local issuer certificate"))
        XCTAssertEqual(report(observe([leaf(), intermediate], errors: errors)).status, .critical)
    }

    func testExpiredIntermediateNamesItsDepth() {
        let errors = [VerifyError(depth: 1, code: VerifyError.Code.expired, message: "certificate has expired")]
        let findings = Rules.findings(for: observe([leaf(), intermediate], errors: errors), settings: RuleSettings(now: now))
        XCTAssertEqual(findings.map(\.id), [.certExpired])
        XCTAssertTrue(findings[0].message.contains("depth 1"))
    }

    func testHostnameMismatchAndCNOnly() {
        XCTAssertEqual(ids(observe([leaf(dns: ["other.example.com"])])), ["cert.hostname_mismatch"])
        let cnOnly = report(observe([leaf(dns: [], cn: "mx.example.com")]))
        XCTAssertEqual(cnOnly.findings.map(\.id), [.certCNOnly])
        XCTAssertEqual(cnOnly.hostnameMatch, true)
        XCTAssertEqual(cnOnly.status, .warning)
        XCTAssertEqual(report(observe([leaf(dns: ["other.example.com"])])).hostnameMatch, false)
        XCTAssertEqual(ids(observe([leaf(dns: ["mx.example.com"], ips: ["192.0.2.1"])], reference: "192.0.2.1")), [])
        XCTAssertEqual(ids(observe([leaf(dns: ["mx.example.com"])], reference: "192.0.2.1")), ["cert.hostname_mismatch"])
    }

    func testWeakKeysAndSignatures() {
        XCTAssertEqual(ids(observe([leaf(bits: 1024, signature: "sha1WithRSAEncryption")])), ["cert.weak_key", "cert.weak_signature"])
        XCTAssertEqual(ids(observe([leaf(keyType: .ec, bits: 256, signature: "ecdsa-with-SHA256")])), [])
        XCTAssertEqual(ids(observe([leaf(keyType: .ec, bits: 192, signature: "ecdsa-with-SHA256")])), ["cert.weak_key"])
        XCTAssertEqual(ids(observe([leaf(keyType: .dsa, bits: 1024, signature: "dsa_with_SHA256")])), ["cert.weak_key"])
        XCTAssertEqual(ids(observe([leaf(keyType: .ed25519, bits: 253, signature: "ED25519")])), [])
        XCTAssertEqual(ids(observe([leaf(signature: "md5WithRSAEncryption")])), ["cert.weak_signature"])
        // Matched in any case: OpenSSL's long names write the digest both ways.
        XCTAssertEqual(ids(observe([leaf(keyType: .ec, bits: 256, signature: "ecdsa-with-SHA1")])), ["cert.weak_signature"])
        XCTAssertEqual(ids(observe([leaf(signature: "MD2WITHRSAENCRYPTION")])), ["cert.weak_signature"])
        XCTAssertEqual(ids(observe([leaf(signature: "sha256WithRSAEncryption")])), [])
        var root = intermediate
        root.selfSigned = true
        root.signatureAlgorithm = "sha1WithRSAEncryption"
        XCTAssertEqual(ids(observe([leaf(), intermediate, root])), [], "a root's own signature does not count")
    }

    func testProtocolsAndCiphers() {
        XCTAssertEqual(ids(observe([leaf()], version: .tls10, cipher: "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA")), ["tls.legacy_protocol"])
        XCTAssertEqual(ids(observe([leaf()], version: .tls11, cipher: "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA")), ["tls.legacy_protocol"])
        XCTAssertEqual(ids(observe([leaf()], version: .sslv3, cipher: "TLS_RSA_WITH_RC4_128_SHA")), ["tls.obsolete_protocol", "tls.weak_cipher"])
        let rc4 = Rules.findings(for: observe([leaf()], version: .tls12, cipher: "TLS_RSA_WITH_RC4_128_SHA"), settings: RuleSettings(now: now))
        XCTAssertEqual(rc4.first?.severity, .critical)
        let kRSA = Rules.findings(for: observe([leaf()], version: .tls12, cipher: "TLS_RSA_WITH_AES_128_GCM_SHA256"), settings: RuleSettings(now: now))
        XCTAssertEqual(kRSA.map(\.id), [.tlsWeakCipher])
        XCTAssertEqual(kRSA.first?.severity, .warning)
        XCTAssertEqual(ids(observe([leaf()], version: .tls12, cipher: "TLS_RSA_WITH_3DES_EDE_CBC_SHA")), ["tls.weak_cipher"])
        XCTAssertEqual(ids(observe([leaf()], version: .tls12, cipher: "TLS_DH_anon_WITH_AES_128_CBC_SHA")), ["tls.weak_cipher"])
        XCTAssertEqual(ids(observe([leaf()], version: .tls12, cipher: "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", group: KeyExchangeGroup(name: "secp256r1"), bits: 256)), [])
        XCTAssertEqual(ids(observe([leaf()], version: .tls12, cipher: "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", group: .unlisted("DH"), bits: 1024)), ["tls.weak_dh"])
        XCTAssertEqual(ids(observe([leaf()], version: .tls12, cipher: "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", group: KeyExchangeGroup(name: "ffdhe2048"), bits: 2048)), [])
    }

    func testRoleDecidesHowAcceptedSuitesAreJudged() {
        // A stock Postfix: anonymous and static-RSA suites accepted beside good ones.
        func probed(port: UInt16) -> Observation {
            var observation = observe([leaf(), intermediate])
            observation.endpoint.port = port
            var probe = ProbeResult()
            probe.protocols["TLSv1.2"] = true
            probe.protocols["TLSv1.3"] = true
            probe.ciphers["TLSv1.2"] = CipherList(serverOrder: false, suites: [
                "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "TLS_DH_anon_WITH_AES_256_CBC_SHA", "TLS_RSA_WITH_AES_256_GCM_SHA384"])
            observation.probe = probe
            return observation
        }
        func weak(_ observation: Observation, _ settings: RuleSettings) -> [Finding] {
            Rules.findings(for: observation, settings: settings).filter { $0.id == .tlsWeakCipher }
        }
        let relay = weak(probed(port: 25), RuleSettings(now: now))
        XCTAssertEqual(relay.map(\.severity), [.info])
        XCTAssertTrue(relay[0].message.hasSuffix("port 25: judged as a relay (opportunistic TLS)"), relay[0].message)
        XCTAssertEqual(EndpointReport(observation: probed(port: 25), settings: RuleSettings(now: now)).status, .ok)

        let submission = weak(probed(port: 587), RuleSettings(now: now))
        XCTAssertEqual(submission.map(\.severity), [.critical, .warning])
        XCTAssertTrue(submission[0].message.contains("TLS_DH_anon_WITH_AES_256_CBC_SHA (anonymous; TLSv1.2)"), submission[0].message)
        XCTAssertTrue(submission[0].message.hasSuffix("port 587: judged as a submission port (passwords travel here)"), submission[0].message)
        XCTAssertTrue(submission[1].message.contains("TLS_RSA_WITH_AES_256_GCM_SHA384 (no forward secrecy; TLSv1.2)"), submission[1].message)

        let forced = weak(probed(port: 25), RuleSettings(now: now, role: .submission))
        XCTAssertEqual(forced.map(\.severity), [.critical, .warning])
        XCTAssertTrue(forced[0].message.hasSuffix("--role submission: passwords travel here"), forced[0].message)
        let mxMode = weak(probed(port: 587), RuleSettings(now: now, domainMode: true))
        XCTAssertEqual(mxMode.map(\.severity), [.info], "an MX host is a relay whatever its port")
        XCTAssertEqual(weak(probed(port: 587), RuleSettings(now: now, role: .relay)).first?.message.hasSuffix("--role relay: judged as a relay (opportunistic TLS)"), true)
    }

    func testNegotiatedSuitesAreJudgedAsBeforeWhateverTheRole() {
        for settings in [RuleSettings(now: now), RuleSettings(now: now, role: .relay), RuleSettings(now: now, role: .submission)] {
            let anonymous = Rules.findings(for: observe([leaf()], version: .tls12, cipher: "TLS_DH_anon_WITH_AES_128_CBC_SHA"), settings: settings)
            XCTAssertEqual(anonymous.filter { $0.id == .tlsWeakCipher }.map(\.severity), [.critical])
            XCTAssertEqual(anonymous.first { $0.id == .tlsWeakCipher }?.message, "TLS_DH_anon_WITH_AES_128_CBC_SHA negotiated: anonymous")
            let kRSA = Rules.findings(for: observe([leaf()], version: .tls12, cipher: "TLS_RSA_WITH_AES_128_GCM_SHA256"), settings: settings)
            XCTAssertEqual(kRSA.map(\.severity), [.warning])
        }
    }

    func testDialogFailuresMapToFindings() {
        let endpoint = Endpoint(host: "mx", address: "192.0.2.1", port: 25, tls: .starttls, serverName: "mx", referenceIdentity: "mx")
        let cases: [(DialogFailure, FindingID, Status)] = [
            (.connectFailed("Connection refused"), .smtpConnectFailed, .critical),
            (.timeout(phase: "waiting for the greeting"), .smtpTimeout, .critical),
            (.rateLimited(SMTPReply(code: 421, lines: ["busy"]), phase: "the connection"), .smtpRateLimited, .unknown),
            (.refused(SMTPReply(code: 554, lines: ["no"])), .smtpRefused, .unknown),
            (.ehloRejected(SMTPReply(code: 550, lines: ["no"])), .smtpEhloRejected, .critical),
            (.protocolError("bad"), .smtpProtocolError, .critical),
            (.starttlsMissing, .starttlsMissing, .critical),
            (.starttlsRejected(SMTPReply(code: 454, lines: ["TLS not available"])), .starttlsRejected, .critical),
            (.handshakeFailed("wrong version number"), .starttlsFailed, .critical),
        ]
        for (failure, id, status) in cases {
            var observation = Observation(endpoint: endpoint)
            observation.failure = failure
            let result = EndpointReport(observation: observation, settings: RuleSettings(now: now))
            XCTAssertEqual(result.findings.map(\.id), [id])
            XCTAssertEqual(result.status, status)
            XCTAssertFalse(result.findings[0].fix.isEmpty)
        }
    }

    func testPlaintextAfter220() {
        var observation = observe([leaf(), intermediate])
        observation.plaintextAfter220 = Array("250 injected\r\n".utf8)
        XCTAssertEqual(ids(observation), ["starttls.plaintext_after_220"])
    }

    /// Typed versions and key types keep the contract's spellings wherever they are written.
    func testTypedVersionsAndKeyTypesKeepTheirSpellings() {
        XCTAssertEqual(ProtocolVersion.allCases.map { "\($0)" }, ["SSLv2", "SSLv3", "TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3"])
        XCTAssertEqual([PublicKeyType.rsa, .ec, .ed25519, .ed448, .dsa, .other("ML-DSA-65")].map(\.name), ["RSA", "EC", "Ed25519", "Ed448", "DSA", "ML-DSA-65"])
        let findings = Rules.findings(for: observe([leaf(keyType: .dsa, bits: 1024, signature: "dsa_with_SHA256")], version: .tls11, cipher: "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA"),
                                      settings: RuleSettings(now: now))
        XCTAssertTrue(findings.contains { $0.message == "TLSv1.1 negotiated: the server offers nothing newer" }, "\(findings.map(\.message))")
        XCTAssertTrue(findings.contains { $0.message == "the leaf certificate has a DSA key of 1024 bits" }, "\(findings.map(\.message))")
    }
}
