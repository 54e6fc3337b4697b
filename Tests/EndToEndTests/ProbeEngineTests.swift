import Foundation
import XCTest

#if canImport(MXCheckCore)
import MXCheckCore

/// The probe engine against the lab's Postfix, cross-checked with `openssl s_client` both ways: every
/// OpenSSL-known suite the engine reports negotiates with s_client, and every suite s_client negotiates is
/// in the engine's list.
final class ProbeEngineTests: XCTestCase {
    var lab: Lab!

    override func setUpWithError() throws {
        try super.setUpWithError()
        lab = try Lab.shared()
    }

    // MARK: cases

    func testPostfixDefaults() throws {
        let (result, target) = try probe("valid", knownAccepted: .tls13)
        XCTAssertFalse(result.incomplete, "\(result.incompleteReasons)")
        XCTAssertEqual(result.accepts(.sslv2), false)
        XCTAssertEqual(result.accepts(.sslv3), false)
        XCTAssertEqual(result.accepts(.tls12), true)
        XCTAssertEqual(result.accepts(.tls13), true)
        XCTAssertEqual(result.ciphers["TLSv1.2"]?.serverOrder, false, "Postfix defaults to the client's order")
        XCTAssertEqual(result.ciphers["TLSv1.3"]?.serverOrder, false)
        XCTAssertTrue(result.groups.contains("x25519"), "\(result.groups)")
        XCTAssertTrue(result.ciphers["TLSv1.3"]?.suites.contains("TLS_AES_256_GCM_SHA384") == true)
        // Issue 3's budget counts the basic check's connection too.
        XCTAssertLessThanOrEqual(result.connections + 1, result.connectionBudget, "connections over budget")
        try crossCheck(result, target: target)
        print("probe figures (valid): pairs \(result.acceptedPairs), groups \(result.groups.count), connections \(result.connections) + 1 basic, budget \(result.connectionBudget), \(Int(result.durationMilliseconds)) ms")
    }

    func testLegacyOnlyServer() throws {
        let (result, target) = try probe("legacy_tls", knownAccepted: .tls11)
        XCTAssertFalse(result.incomplete, "\(result.incompleteReasons)")
        XCTAssertEqual(result.accepts(.tls10), true)
        XCTAssertEqual(result.accepts(.tls11), true)
        XCTAssertEqual(result.accepts(.tls12), false)
        XCTAssertEqual(result.accepts(.tls13), false)
        XCTAssertEqual(result.accepts(.sslv3), false)
        XCTAssertNil(result.ciphers["TLSv1.2"])
        let ids = ProbeRules.findings(for: result).map(\.id)
        XCTAssertTrue(ids.contains(.tlsLegacyProtocol))
        XCTAssertFalse(ids.contains(.tlsObsoleteProtocol))
        XCTAssertLessThanOrEqual(result.connections + 1, result.connectionBudget)
        try crossCheck(result, target: target)
    }

    func testTLS13OnlyServer() throws {
        let (result, target) = try probe("tls13_only", knownAccepted: .tls13)
        XCTAssertFalse(result.incomplete, "\(result.incompleteReasons)")
        for version in ProtocolVersion.allCases {
            XCTAssertEqual(result.accepts(version), version == .tls13, version.rawValue)
        }
        XCTAssertEqual(Set(result.ciphers.keys), ["TLSv1.3"])
        XCTAssertFalse(result.groups.isEmpty)
        XCTAssertNil(result.dhBits)
        XCTAssertEqual(ProbeRules.findings(for: result), [])
        XCTAssertLessThanOrEqual(result.connections + 1, result.connectionBudget)
        try crossCheck(result, target: target)
    }

    func testDHE1024IsAWeakDHFinding() throws {
        let (result, target) = try probe("dhe1024", knownAccepted: .tls12)
        XCTAssertFalse(result.incomplete, "\(result.incompleteReasons)")
        XCTAssertEqual(result.dhBits, 1024)
        XCTAssertEqual(result.accepts(.tls13), false)
        for name in result.ciphers.values.flatMap(\.suites) {
            XCTAssertEqual(CipherSuite.named(name)?.keyExchange, .dhe, "\(name) is not a DHE suite")
        }
        let weakDH = ProbeRules.findings(for: result).filter { $0.id == .tlsWeakDH }
        XCTAssertEqual(weakDH.count, 1)
        XCTAssertEqual(weakDH.first?.severity, .warning)
        XCTAssertTrue(weakDH.first?.message.contains("1024") == true)
        try crossCheck(result, target: target)
    }

    /// Needs a lab service with `-o tls_preempt_cipherlist=yes` (case `server_order`).
    func testServerThatEnforcesItsOrder() throws {
        guard lab.cases["server_order"] != nil else {
            throw XCTSkip("the lab has no server_order case (master.cf: smtpd -o tls_preempt_cipherlist=yes)")
        }
        let (result, target) = try probe("server_order", knownAccepted: .tls13)
        XCTAssertFalse(result.incomplete, "\(result.incompleteReasons)")
        for (version, list) in result.ciphers where list.suites.count >= 2 {
            XCTAssertEqual(list.serverOrder, true, version)
        }
        // The server's first choice from everything s_client offers is the first suite of the list.
        let first = try XCTUnwrap(result.ciphers["TLSv1.2"]?.suites.first.flatMap { CipherSuite.named($0)?.opensslName })
        let chosen = Self.sClient(target, serverName: lab.serverName, version: .tls12, cipherList: "ALL:COMPLEMENTOFALL:@SECLEVEL=0")
        XCTAssertEqual(chosen, first)
        try crossCheck(result, target: target)
    }

    /// `--protocols` alone: one probe per version not already known, at most 7 beyond the basic check.
    func testProtocolsAloneProbesEachVersionOnce() throws {
        let (full, _) = try probe("valid", knownAccepted: .tls13)
        let (quick, _) = try probe("valid", ciphers: false, knownAccepted: .tls13)
        XCTAssertFalse(quick.incomplete, "\(quick.incompleteReasons)")
        XCTAssertEqual(quick.protocols, full.protocols)
        XCTAssertLessThanOrEqual(quick.connections, 7)
        XCTAssertTrue(quick.ciphers.isEmpty)
        XCTAssertTrue(quick.groups.isEmpty)
    }

    /// A server that answers 421 to every connection after the second: back-off, then incomplete, never "refused".
    func testPersistentRateLimitMarksTheResultIncomplete() throws {
        let backoff = [0.1, 0.2]
        let started = Date()
        let (result, _) = try probe("rate_limit_after_2", backoff: backoff)
        XCTAssertTrue(result.rateLimited)
        XCTAssertTrue(result.incomplete)
        XCTAssertFalse(result.protocols.values.contains(false), "a rate-limited probe must not say 'refused': \(result.protocols)")
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(started), backoff.reduce(0, +))
        // Two workers, each at most one try plus one per pause, on top of the two answered connections.
        XCTAssertLessThanOrEqual(result.connections, 2 + 2 * (1 + backoff.count))
        XCTAssertTrue(ProbeRules.findings(for: result).contains { $0.id == .smtpRateLimited })
    }

    /// A ServerHello cut off mid-record is an unreadable answer: unknown, not refused, and no hang.
    func testTruncatedServerHelloIsUnknown() throws {
        let started = Date()
        let (result, _) = try probe("tls_close_midhandshake")
        XCTAssertLessThan(Date().timeIntervalSince(started), 10)
        XCTAssertTrue(result.incomplete)
        for version in [ProtocolVersion.sslv3, .tls10, .tls11, .tls12, .tls13] {
            XCTAssertNil(result.accepts(version), version.rawValue)
        }
        XCTAssertTrue(result.incompleteReasons.contains { $0.contains("ended after") }, "\(result.incompleteReasons)")
    }

    // MARK: helpers

    private func probe(
        _ name: String, ciphers: Bool = true, knownAccepted: ProtocolVersion? = nil, backoff: [Double] = [1, 2, 4]
    ) throws -> (ProbeResult, Lab.Case) {
        let target = try lab.case(name)
        let endpoint = Endpoint(
            host: lab.serverName, address: target.address, port: UInt16(target.port),
            tls: target.tls == "implicit" ? .implicit : .starttls, serverName: lab.serverName, referenceIdentity: lab.serverName)
        let checker = Checker(
            context: try TLSClientContext(), trustStore: try TrustStore(extraCAFile: lab.rootCA),
            settings: CheckSettings(ehloName: "probe.lab.example", timeout: 10))
        let settings = ProbeSettings(ciphers: ciphers, timeout: 10, backoffSeconds: backoff)
        return (Prober(checker: checker, endpoint: endpoint, settings: settings).run(knownAccepted: knownAccepted), target)
    }

    /// Both directions, for every version s_client can speak (OpenSSL 3 has no SSLv2 or SSLv3).
    private func crossCheck(_ result: ProbeResult, target: Lab.Case, file: StaticString = #filePath, line: UInt = #line) throws {
        let known = try Self.openSSLSuites()
        var jobs: [(ProtocolVersion, String, Bool)] = []
        for version in [ProtocolVersion.tls10, .tls11, .tls12, .tls13] {
            let reported = Set(result.ciphers[version.rawValue]?.suites ?? [])
            for name in known[version] ?? [] {
                guard let suite = CipherSuite.named(name) else {
                    XCTFail("OpenSSL suite \(name) is missing from the table", file: file, line: line)
                    continue
                }
                jobs.append((version, name, reported.contains(suite.name)))
            }
            // Every reported suite OpenSSL cannot name is outside what s_client can check; say so.
            for name in reported where CipherSuite.named(name)?.opensslName.map({ (known[version] ?? []).contains($0) }) != true {
                print("cross-check: \(version.rawValue) \(name) is not an OpenSSL suite here, not checked")
            }
        }
        let disagreements = Disagreements()
        let serverName = lab.serverName
        Batch.run(jobs, concurrency: 6, work: { job -> String? in
            let (version, name, reported) = job
            let negotiated = Self.sClient(target, serverName: serverName, version: version, cipherList: name) == name
            guard negotiated != reported else { return nil }
            return reported ? "\(version.rawValue) \(name): the engine reports it, s_client cannot negotiate it"
                : "\(version.rawValue) \(name): s_client negotiates it, the engine missed it"
        }, onResult: { if let text = $0 { disagreements.add(text) } })
        XCTAssertEqual(disagreements.all, [], "engine and s_client disagree", file: file, line: line)
    }

    private final class Disagreements: @unchecked Sendable {
        private let lock = NSLock()
        private var items: [String] = []
        func add(_ item: String) { lock.withLock { items.append(item) } }
        var all: [String] { lock.withLock { items.sorted() } }
    }

    /// The suite s_client negotiated with `cipherList` (TLS 1.3: `-ciphersuites`), by OpenSSL name; nil when none.
    private static func sClient(_ target: Lab.Case, serverName: String, version: ProtocolVersion, cipherList: String) -> String? {
        let flag: String
        switch version {
        case .tls10: flag = "-tls1"
        case .tls11: flag = "-tls1_1"
        case .tls12: flag = "-tls1_2"
        case .tls13: flag = "-tls1_3"
        case .sslv2, .sslv3: return nil
        }
        var arguments = ["/usr/bin/env", "openssl", "s_client", "-connect", target.target, "-servername", serverName, flag]
        if target.tls != "implicit" { arguments += ["-starttls", "smtp"] }
        arguments += version == .tls13 ? ["-ciphersuites", cipherList] : ["-cipher", cipherList.contains("@") ? cipherList : "\(cipherList):@SECLEVEL=0"]
        let run = Command.run(arguments, stdin: "", timeout: 20)
        for line in run.stdout.split(separator: "\n") where line.contains("Cipher is ") {
            guard let range = line.range(of: "Cipher is ") else { continue }
            let name = String(line[range.upperBound...]).trimmingCharacters(in: .whitespaces)
            return name == "(NONE)" ? nil : name
        }
        return nil
    }

    /// OpenSSL's suite names per version, from `openssl ciphers -V` at security level 0.
    private static func openSSLSuites() throws -> [ProtocolVersion: [String]] {
        let run = Command.run(["/usr/bin/env", "openssl", "ciphers", "-V", "ALL:COMPLEMENTOFALL:@SECLEVEL=0"], timeout: 20)
        guard run.status == 0 else { throw XCTSkip("openssl ciphers failed: \(run.stderr)") }
        var suites: [ProtocolVersion: [String]] = [:]
        for line in run.stdout.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 4 else { continue }
            let name = String(fields[2])
            switch fields[3] {
            case "TLSv1.3": suites[.tls13, default: []].append(name)
            case "TLSv1.2": suites[.tls12, default: []].append(name)
            default: for version in [ProtocolVersion.tls10, .tls11, .tls12] { suites[version, default: []].append(name) }
            }
        }
        // TLS 1.3 suites OpenSSL knows but leaves out of its default list.
        for name in ["TLS_AES_128_CCM_SHA256", "TLS_AES_128_CCM_8_SHA256"] where !(suites[.tls13] ?? []).contains(name) {
            suites[.tls13, default: []].append(name)
        }
        return suites
    }
}
#else
final class ProbeEngineTests: XCTestCase {
    func testProbeEngineNeedsMXCheckCore() throws {
        throw XCTSkip("EndToEndTests must depend on MXCheckCore (Package.swift) for the probe engine tests")
    }
}
#endif
