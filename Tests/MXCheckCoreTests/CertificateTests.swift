import Foundation
import XCTest
@testable import MXCheckCore

/// Certificate facts and chain verification with OpenSSL, on fixed fixtures and a fixed clock.
/// Fixtures: an EC P-256 root (2026-01-01 to 2036-01-01) and an RSA-2048 leaf it signed
/// (2026-06-01 to 2026-12-01, SANs mx.fixture.example, *.fixture.example, 192.0.2.25, 2001:db8::25).
final class CertificateTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func der(_ name: String) throws -> [UInt8] {
        let pem = try String(contentsOf: fixtures.appendingPathComponent(name), encoding: .utf8)
        let body = pem.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        return Array(try XCTUnwrap(Data(base64Encoded: body)))
    }

    /// A new empty directory of this process's, for files the test writes; the caller removes it.
    static func scratchDirectory(line: Int = #line) throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mxcheck-cafile-\(getpid())-\(line)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    static func date(_ text: String) -> Date {
        ISO8601DateFormatter().date(from: text)!
    }

    func testLeafFacts() throws {
        let facts = try CertificateFacts(der: Self.der("leaf.pem"))
        XCTAssertEqual(facts.subject, "CN=mx.fixture.example")
        XCTAssertEqual(facts.issuer, "O=mxcheck fixtures,CN=Fixture Root")
        XCTAssertEqual(facts.commonName, "mx.fixture.example")
        XCTAssertEqual(facts.dnsNames, ["mx.fixture.example", "*.fixture.example"])
        XCTAssertEqual(facts.ipAddresses, ["192.0.2.25", "2001:db8::25"])
        XCTAssertEqual(facts.keyType, .rsa)
        XCTAssertEqual(facts.keyBits, 2048)
        XCTAssertEqual(facts.signatureAlgorithm, "ecdsa-with-SHA256")
        XCTAssertEqual(facts.notBefore, Self.date("2026-06-01T00:00:00Z"))
        XCTAssertEqual(facts.notAfter, Self.date("2026-12-01T00:00:00Z"))
        XCTAssertEqual(facts.sha256, "c4f91c7b0dd3bbc320e71ce8f387f4efacf49ee11843aca791e57eda5f6d898e")
        XCTAssertFalse(facts.selfSigned)
    }

    func testRootFacts() throws {
        let facts = try CertificateFacts(der: Self.der("root.pem"))
        XCTAssertEqual(facts.keyType, .ec)
        XCTAssertEqual(facts.keyBits, 256)
        XCTAssertTrue(facts.selfSigned)
        XCTAssertEqual(facts.names, [])
        // Ten years and three leap days (2028, 2032) apart: the validity dates are UTC calendar dates.
        XCTAssertEqual(facts.notBefore, Self.date("2026-01-01T00:00:00Z"))
        XCTAssertEqual(facts.notAfter, Self.date("2036-01-01T00:00:00Z"))
    }

    func testGarbageIsAnErrorNotACrash() {
        XCTAssertThrowsError(try CertificateFacts(der: []))
        XCTAssertThrowsError(try CertificateFacts(der: Array("not a certificate".utf8)))
        XCTAssertThrowsError(try CertificateFacts(der: [0x30, 0x82, 0xFF, 0xFF, 0x30]))
    }

    func testChainVerificationFollowsTheClock() throws {
        let store = try TrustStore(extraCAFile: Self.fixtures.appendingPathComponent("root.pem").path)
        let chain = [try Self.der("leaf.pem")]
        XCTAssertTrue(store.verify(chainDER: chain, at: Self.date("2026-09-01T00:00:00Z")).trusted)
        let late = store.verify(chainDER: chain, at: Self.date("2026-12-15T00:00:00Z"))
        XCTAssertEqual(late.errors.map(\.code), [VerifyError.Code.expired])
        XCTAssertEqual(late.errors.first?.depth, 0)
        let early = store.verify(chainDER: chain, at: Self.date("2026-05-01T00:00:00Z"))
        XCTAssertEqual(early.errors.map(\.code), [VerifyError.Code.notYetValid])
    }

    func testUnknownIssuerBecomesChainIncomplete() throws {
        let store = try TrustStore(extraCAFile: nil)
        let chain = [try Self.der("leaf.pem")]
        let now = Self.date("2026-09-01T00:00:00Z")
        let verification = store.verify(chainDER: chain, at: now)
        XCTAssertFalse(verification.trusted)
        var observation = Observation(endpoint: Endpoint(host: "mx.fixture.example", address: "192.0.2.25", port: 25, tls: .starttls, serverName: "mx.fixture.example", referenceIdentity: "mx.fixture.example"))
        observation.tls = NegotiatedTLS(version: .tls13, cipher: "TLS_AES_128_GCM_SHA256", group: KeyExchangeGroup(name: "x25519"), keyExchangeBits: 253, chainDER: chain)
        observation.chain = [try CertificateFacts(der: chain[0])]
        observation.verification = verification
        let report = EndpointReport(observation: observation, settings: RuleSettings(now: now))
        XCTAssertEqual(report.findings.map(\.id), [.certChainIncomplete])
    }

    func testSelfSignedRootAsLeaf() throws {
        let store = try TrustStore(extraCAFile: nil)
        let verification = store.verify(chainDER: [try Self.der("root.pem")], at: Self.date("2026-09-01T00:00:00Z"))
        XCTAssertEqual(verification.errors.map(\.code), [VerifyError.Code.depthZeroSelfSigned])
    }

    func testSystemAnchorsAreFound() throws {
        // A root of the system store checked as a chain of its own: found as a trust anchor (lazily, by hash),
        // so the only complaint left is that a CA certificate is no TLS server certificate.
        let path = "/etc/ssl/certs/ISRG_Root_X1.pem"
        guard FileManager.default.isReadableFile(atPath: path) else { throw XCTSkip("no ISRG Root X1 in the system store") }
        let pem = try String(contentsOfFile: path, encoding: .utf8)
        let der = Array(try XCTUnwrap(Data(base64Encoded: pem.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined())))
        let store = try TrustStore(extraCAFile: nil)
        let codes = store.verify(chainDER: [der], at: Self.date("2027-01-01T00:00:00Z")).errors.map(\.code)
        XCTAssertFalse(codes.contains(VerifyError.Code.depthZeroSelfSigned), "\(codes)")
        XCTAssertFalse(codes.contains(VerifyError.Code.unableToGetIssuerLocally), "\(codes)")
        let untrusted = try TrustStore.withoutSystemAnchors().verify(chainDER: [der], at: Self.date("2027-01-01T00:00:00Z")).errors.map(\.code)
        XCTAssertTrue(untrusted.contains(VerifyError.Code.depthZeroSelfSigned), "without the system store the same root is unknown: \(untrusted)")
    }

    /// Security level 2: a 1024-bit key or a SHA-1 signature fails verification, and the specific findings stand
    /// instead of cert.untrusted; a level-2 error nothing in the chain explains stays cert.untrusted.
    func testSecurityLevelTwoErrorsAreExplainedByTheSpecificFindings() {
        let now = Self.date("2026-09-01T00:00:00Z")
        func facts(bits: Int, signature: String, selfSigned: Bool = false) -> CertificateFacts {
            CertificateFacts(
                subject: "CN=mx.fixture.example", issuer: "CN=Intermediate", commonName: "mx.fixture.example",
                notBefore: Self.date("2026-06-01T00:00:00Z"), notAfter: Self.date("2026-12-01T00:00:00Z"),
                dnsNames: ["mx.fixture.example"], ipAddresses: [], keyType: .rsa, keyBits: bits, signatureAlgorithm: signature,
                sha256: String(repeating: "0", count: 64), selfSigned: selfSigned)
        }
        func ids(_ chain: [CertificateFacts], _ errors: [VerifyError]) -> [FindingID] {
            var observation = Observation(endpoint: Endpoint(
                host: "mx.fixture.example", address: "192.0.2.25", port: 25, tls: .starttls, serverName: "mx.fixture.example",
                referenceIdentity: "mx.fixture.example"))
            observation.tls = NegotiatedTLS(version: .tls13, cipher: "TLS_AES_128_GCM_SHA256", group: KeyExchangeGroup(name: "x25519"), keyExchangeBits: 253, chainDER: [])
            observation.chain = chain
            observation.verification = ChainVerification(errors: errors)
            return EndpointReport(observation: observation, settings: RuleSettings(now: now)).findings.map(\.id).sorted { $0.rawValue < $1.rawValue }
        }
        let weakLeaf = facts(bits: 1024, signature: "sha1WithRSAEncryption")
        let strongCA = facts(bits: 4096, signature: "sha256WithRSAEncryption")
        let leafErrors = [
            VerifyError(depth: 0, code: VerifyError.Code.leafKeyTooSmall, message: "EE certificate key too weak"),
            VerifyError(depth: 0, code: VerifyError.Code.signatureDigestTooWeak, message: "CA signature digest algorithm too weak"),
        ]
        XCTAssertEqual(ids([weakLeaf, strongCA], leafErrors), [.certWeakKey, .certWeakSignature])
        // A weak trust anchor is not in the chain sent: its own cert.weak_key, still no cert.untrusted.
        let anchor = [VerifyError(depth: 2, code: VerifyError.Code.issuerKeyTooSmall, message: "CA certificate key too weak")]
        XCTAssertEqual(ids([strongCA, strongCA], anchor), [.certWeakKey])
        // OpenSSL objects to a certificate the rules see no weakness in: nothing specific explains it.
        let unexplained = [VerifyError(depth: 0, code: VerifyError.Code.leafKeyTooSmall, message: "EE certificate key too weak")]
        XCTAssertEqual(ids([strongCA, strongCA], unexplained), [.certUntrusted])
    }

    /// The store verifies at level 2: a chain a default OpenSSL 3 client refuses is not trusted here either.
    func testTheStoreVerifiesAtSecurityLevelTwo() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mxcheck-level2-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        func openssl(_ arguments: [String]) throws {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["openssl"] + arguments
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else { throw XCTSkip("openssl \(arguments.first ?? "") failed") }
        }
        let path = directory.path
        try openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "\(path)/ca.key", "-out", "\(path)/ca.pem",
                     "-days", "2", "-subj", "/CN=Level Two Root", "-addext", "basicConstraints=critical,CA:TRUE"])
        try openssl(["req", "-new", "-newkey", "rsa:1024", "-nodes", "-keyout", "\(path)/leaf.key", "-out", "\(path)/leaf.csr", "-subj", "/CN=mx.level.example"])
        try openssl(["x509", "-req", "-in", "\(path)/leaf.csr", "-CA", "\(path)/ca.pem", "-CAkey", "\(path)/ca.key", "-CAcreateserial",
                     "-days", "2", "-sha1", "-outform", "DER", "-out", "\(path)/leaf.der"])
        let store = try TrustStore.withoutSystemAnchors(extraCAFile: "\(path)/ca.pem")
        let leaf = Array(try Data(contentsOf: directory.appendingPathComponent("leaf.der")))
        let codes = store.verify(chainDER: [leaf], at: Date()).errors.map(\.code)
        XCTAssertEqual(Set(codes), [VerifyError.Code.leafKeyTooSmall, VerifyError.Code.signatureDigestTooWeak])
    }

    func testMissingCAFileIsATypedError() {
        XCTAssertThrowsError(try TrustStore(extraCAFile: "/nonexistent/ca.pem")) { error in
            guard case .cannotLoad(let path, _) = error as? TrustStoreError else { return XCTFail("\(error)") }
            XCTAssertEqual(path, "/nonexistent/ca.pem")
        }
    }

    func testCAFileWithoutAPEMCertificateIsATypedError() throws {
        let directory = try Self.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        // A DER certificate, a private key and an empty file: none is a PEM certificate or CRL.
        let der = directory.appendingPathComponent("root.der")
        try Data(Self.der("root.pem")).write(to: der)
        let key = directory.appendingPathComponent("key.pem")
        try Data("-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n".utf8).write(to: key)
        let empty = directory.appendingPathComponent("empty.pem")
        try Data().write(to: empty)
        for file in [der, key, empty] {
            XCTAssertThrowsError(try TrustStore(extraCAFile: file.path), file.lastPathComponent) { error in
                guard case .cannotLoad(let path, let reason) = error as? TrustStoreError else { return XCTFail("\(error)") }
                XCTAssertEqual(path, file.path)
                XCTAssertTrue(reason.contains("no PEM certificate"), reason)
            }
        }
        // Text before the first block, and a bundle's second certificate, are fine.
        let bundle = directory.appendingPathComponent("bundle.pem")
        let root = try String(contentsOf: Self.fixtures.appendingPathComponent("root.pem"), encoding: .utf8)
        try Data(("Subject: a comment ----- of some kind\n" + root + root).utf8).write(to: bundle)
        XCTAssertTrue(TrustStore.holdsPEMCertificate(bundle.path))
        XCTAssertNoThrow(try TrustStore(extraCAFile: bundle.path))
    }

    /// The `--ca-file` is parsed when a chain is first verified (or loadAnchors is called): a block that does not
    /// decode is reported then, and the chain is judged without the file's anchors.
    func testCAFileThatDoesNotParseIsAProblemOnceLoaded() throws {
        let directory = try Self.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let broken = directory.appendingPathComponent("broken.pem")
        try Data("-----BEGIN CERTIFICATE-----\nthis is not base64 !!\n-----END CERTIFICATE-----\n".utf8).write(to: broken)
        let store = try TrustStore.withoutSystemAnchors(extraCAFile: broken.path)
        XCTAssertNil(store.anchorProblem, "not parsed yet")
        let verification = store.verify(chainDER: [try Self.der("leaf.pem")], at: Self.date("2026-09-01T00:00:00Z"))
        XCTAssertFalse(verification.trusted)
        guard case .cannotLoad(let path, _)? = store.anchorProblem else { return XCTFail("\(String(describing: store.anchorProblem))") }
        XCTAssertEqual(path, broken.path)
        // Loading again changes nothing, and a good file loaded late still anchors.
        store.loadAnchors()
        XCTAssertNotNil(store.anchorProblem)
        let good = try TrustStore.withoutSystemAnchors(extraCAFile: Self.fixtures.appendingPathComponent("root.pem").path)
        good.loadAnchors()
        XCTAssertNil(good.anchorProblem)
        XCTAssertTrue(good.verify(chainDER: [try Self.der("leaf.pem")], at: Self.date("2026-09-01T00:00:00Z")).trusted)
    }

    func testFindingCatalogueIsDocumented() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let catalogue = try String(contentsOf: root.appendingPathComponent("docs/findings.md"), encoding: .utf8)
        for id in FindingID.allCases {
            XCTAssertTrue(catalogue.contains("`\(id.rawValue)`"), "docs/findings.md lacks \(id.rawValue)")
            XCTAssertTrue(catalogue.contains(FindingCatalogue.entry(for: id).fix), "docs/findings.md lacks the fix of \(id.rawValue)")
        }
    }
}
