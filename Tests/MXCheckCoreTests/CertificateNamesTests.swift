import Foundation
import XCTest
@testable import MXCheckCore

/// Every subjectAltName counts: certificates made here with the openssl CLI, with more names than the display cap.
final class CertificateNamesTests: XCTestCase {
    private static let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mxcheck-names-\(getpid())")

    override class func tearDown() {
        try? FileManager.default.removeItem(at: directory)
        super.tearDown()
    }

    /// A self-signed P-256 certificate with these SANs (`DNS:...`, `IP:...`), as DER.
    static func certificate(named name: String, sans: [String]) throws -> [UInt8] {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let base = directory.appendingPathComponent(name).path
        let config = """
            [req]
            distinguished_name = dn
            prompt = no
            x509_extensions = ext
            [dn]
            CN = \(name).names.example
            [ext]
            basicConstraints = critical, CA:FALSE
            subjectAltName = \(sans.joined(separator: ","))

            """
        try config.write(toFile: "\(base).cnf", atomically: true, encoding: .utf8)
        try run([
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "\(base).key",
            "-days", "2", "-config", "\(base).cnf", "-outform", "DER", "-out", "\(base).der",
        ])
        return Array(try Data(contentsOf: URL(fileURLWithPath: "\(base).der")))
    }

    private static func run(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl"] + arguments
        process.standardOutput = FileHandle.nullDevice
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw XCTSkip("openssl \(arguments.first ?? "") failed: \(String(decoding: message, as: UTF8.self))")
        }
    }

    /// 1,000 other names, then the MX host's: the 1,001st name is the one that matches.
    static let manyNames = (1...1000).map { "DNS:n\($0).names.example" } + ["DNS:mx.names.example"]

    func testTheLastOf1001NamesMatches() throws {
        let facts = try CertificateFacts(der: Self.certificate(named: "many", sans: Self.manyNames))
        // openssl made it valid from now for two days: today's date reads back as the clock's.
        XCTAssertLessThan(abs(facts.notBefore.timeIntervalSinceNow), 600)
        XCTAssertEqual(facts.notAfter.timeIntervalSince(facts.notBefore), 2 * 86_400)
        XCTAssertEqual(facts.namesTotal, 1001)
        XCTAssertEqual(facts.dnsNames.count, 1001, "every name is kept for matching")
        XCTAssertEqual(facts.dnsNames.last, "mx.names.example")
        XCTAssertEqual(
            NameMatcher.match(reference: "mx.names.example", dnsNames: facts.dnsNames, ipAddresses: facts.ipAddresses, commonName: facts.commonName),
            .subjectAltName("mx.names.example"))
        XCTAssertEqual(facts.names.count, CertificateFacts.displayedNamesLimit, "the display list is capped")
        XCTAssertEqual(facts.names.first, "n1.names.example")
    }

    func testTheRulesSeeTheLastName() throws {
        let der = try Self.certificate(named: "rules", sans: Self.manyNames)
        var observation = Observation(endpoint: Endpoint(
            host: "mx.names.example", address: "192.0.2.25", port: 25, tls: .starttls, serverName: "mx.names.example",
            referenceIdentity: "mx.names.example"))
        observation.tls = NegotiatedTLS(version: .tls13, cipher: "TLS_AES_128_GCM_SHA256", group: KeyExchangeGroup(name: "x25519"), keyExchangeBits: 253, chainDER: [der])
        observation.chain = [try CertificateFacts(der: der)]
        observation.verification = ChainVerification(errors: [])
        let ids = EndpointReport(observation: observation, settings: RuleSettings(now: Date())).findings.map(\.id)
        XCTAssertFalse(ids.contains(.certHostnameMismatch), "\(ids)")
        XCTAssertFalse(ids.contains(.certCNOnly), "\(ids)")
    }

    func testIPNamesAfterManyDNSNamesAreKeptAndCounted() throws {
        let sans = (1...1200).map { "DNS:n\($0).names.example" } + ["IP:192.0.2.25", "IP:2001:db8::25"]
        let facts = try CertificateFacts(der: Self.certificate(named: "ips", sans: sans))
        XCTAssertEqual(facts.namesTotal, 1202)
        XCTAssertEqual(facts.ipAddresses, ["192.0.2.25", "2001:db8::25"])
        XCTAssertEqual(
            NameMatcher.match(reference: "2001:db8::25", dnsNames: facts.dnsNames, ipAddresses: facts.ipAddresses, commonName: nil),
            .subjectAltName("2001:db8::25"))
    }

    func testAFewNamesAreShownAllAndCounted() throws {
        let facts = try CertificateFacts(der: Self.certificate(named: "few", sans: ["DNS:mx.names.example", "IP:192.0.2.25"]))
        XCTAssertEqual(facts.names, ["mx.names.example", "192.0.2.25"])
        XCTAssertEqual(facts.namesTotal, 2)
    }

    /// Not a timed test: prints how long decoding 1,001 names takes, for the record.
    func testDecodingTimeOf1001NamesIsPrinted() throws {
        let der = try Self.certificate(named: "timing", sans: Self.manyNames)
        _ = try CertificateFacts(der: der)
        let rounds = 5
        let started = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<rounds { _ = try CertificateFacts(der: der) }
        let milliseconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1_000_000 / Double(rounds)
        print("CertificateFacts(der:) with 1,001 names: \(String(format: "%.2f", milliseconds)) ms")
    }
}
