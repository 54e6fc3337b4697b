import Foundation
import XCTest
@testable import MXCheckCore

/// The enumeration engine against simulated servers: what it finds, in which order, in how many connections,
/// and how it behaves when the server drops hellos, refuses in silence or rate-limits.
final class ProbeEnumerationTests: XCTestCase {
    /// A Postfix-like server: TLS 1.2 and 1.3, client order.
    static let modern = SimulatedServer.Config(
        suites: [
            .tls12: ["TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
                     "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_RSA_WITH_AES_128_CBC_SHA", "TLS_DH_anon_WITH_AES_128_CBC_SHA"],
            .tls13: ["TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_GCM_SHA256"],
        ],
        groups13: ["x25519", "secp256r1", "x448", "ffdhe2048"], curves: ["x25519", "secp256r1", "secp384r1", "brainpoolP256r1"])

    func testFindsEverySuiteVersionAndGroup() {
        let server = SimulatedServer(Self.modern)
        let result = Prober.simulated(server).run(knownAccepted: .tls13)
        XCTAssertFalse(result.incomplete, "\(result.incompleteReasons)")
        XCTAssertEqual(result.protocols, ["SSLv2": false, "SSLv3": false, "TLSv1.0": false, "TLSv1.1": false, "TLSv1.2": true, "TLSv1.3": true])
        XCTAssertEqual(Set(result.ciphers["TLSv1.2"]?.suites ?? []), Set(Self.modern.suites[.tls12] ?? []))
        XCTAssertEqual(Set(result.ciphers["TLSv1.3"]?.suites ?? []), Set(Self.modern.suites[.tls13] ?? []))
        XCTAssertEqual(result.ciphers["TLSv1.2"]?.serverOrder, false)
        XCTAssertEqual(result.ciphers["TLSv1.3"]?.serverOrder, false)
        // TLS 1.3 groups by HelloRetryRequest, then the TLS 1.2-only curves by ServerKeyExchange.
        // And the DHE suite's own (non-RFC 7919) group, from the suite enumeration's ServerKeyExchange.
        XCTAssertEqual(Set(result.groups), ["x25519", "secp256r1", "x448", "ffdhe2048", "secp384r1", "brainpoolP256r1", "dh2048"])
        XCTAssertEqual(result.dhBits, 2048)
        XCTAssertEqual(result.connections, server.connections)
        XCTAssertLessThanOrEqual(result.connections + 1, result.connectionBudget)
    }

    func testClientOrderListsSuitesInTheOrderOffered() {
        let result = Prober.simulated(SimulatedServer(Self.modern)).run()
        let offered = CipherSuite.candidates(for: .tls12).map(\.name)
        let listed = result.ciphers["TLSv1.2"]?.suites ?? []
        XCTAssertEqual(listed, offered.filter(listed.contains))
    }

    func testServerOrderIsDetectedAndKept() {
        var config = Self.modern
        config.serverOrder = true
        config.suites[.tls12] = ["TLS_RSA_WITH_AES_128_CBC_SHA", "TLS_DH_anon_WITH_AES_128_CBC_SHA", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"]
        config.suites[.tls13] = ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384"]
        let result = Prober.simulated(SimulatedServer(config)).run()
        XCTAssertEqual(result.ciphers["TLSv1.2"], CipherList(serverOrder: true, suites: config.suites[.tls12] ?? []))
        XCTAssertEqual(result.ciphers["TLSv1.3"], CipherList(serverOrder: true, suites: config.suites[.tls13] ?? []))
        XCTAssertEqual(result.groups.prefix(4), ["x25519", "secp256r1", "x448", "ffdhe2048"], "the server's group order")
    }

    func testOneSuiteLeavesTheOrderUnknown() {
        let config = SimulatedServer.Config(suites: [.tls12: ["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"]], curves: ["secp256r1"])
        let result = Prober.simulated(SimulatedServer(config)).run()
        XCTAssertEqual(result.ciphers["TLSv1.2"], CipherList(serverOrder: nil, suites: ["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"]))
        XCTAssertEqual(result.groups, ["secp256r1"])
    }

    /// What OpenSSL 3 cannot send: SSLv2, SSLv3, export, RC4, single DES, NULL.
    func testLegacyServer() {
        let config = SimulatedServer.Config(
            suites: [
                .sslv3: ["TLS_RSA_WITH_RC4_128_MD5", "TLS_RSA_EXPORT_WITH_RC4_40_MD5", "TLS_RSA_WITH_DES_CBC_SHA"],
                .tls10: ["TLS_RSA_WITH_RC4_128_MD5", "TLS_RSA_WITH_3DES_EDE_CBC_SHA", "TLS_RSA_WITH_NULL_SHA", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"],
            ],
            curves: ["secp256r1", "sect283k1"], dhBits: 512, sslv2: ["SSL_CK_RC4_128_WITH_MD5", "SSL_CK_DES_192_EDE3_CBC_WITH_MD5"])
        let server = SimulatedServer(config)
        let result = Prober.simulated(server).run()
        XCTAssertFalse(result.incomplete, "\(result.incompleteReasons)")
        XCTAssertEqual(result.protocols, ["SSLv2": true, "SSLv3": true, "TLSv1.0": true, "TLSv1.1": false, "TLSv1.2": false, "TLSv1.3": false])
        XCTAssertEqual(Set(result.ciphers["SSLv2"]?.suites ?? []), ["SSL_CK_RC4_128_WITH_MD5", "SSL_CK_DES_192_EDE3_CBC_WITH_MD5"])
        XCTAssertNil(result.ciphers["SSLv2"]?.serverOrder)
        XCTAssertEqual(Set(result.ciphers["SSLv3"]?.suites ?? []), Set(config.suites[.sslv3] ?? []))
        XCTAssertEqual(Set(result.ciphers["TLSv1.0"]?.suites ?? []), Set(config.suites[.tls10] ?? []))
        XCTAssertEqual(Set(result.groups), ["secp256r1", "sect283k1"], "curves by TLS 1.0 ECDHE")
        XCTAssertLessThanOrEqual(result.connections + 1, result.connectionBudget)
        let submission = AssumedRole(explicit: .submission, port: 25, domainMode: false)
        let ids = ProbeRules.findings(for: result, role: submission).map { "\($0.id.rawValue)/\($0.severity.rawValue)" }
        XCTAssertEqual(Set(ids), ["tls.obsolete_protocol/critical", "tls.legacy_protocol/warning", "tls.weak_cipher/critical"])
        let relay = AssumedRole(explicit: .relay, port: 25, domainMode: false)
        let relayIDs = ProbeRules.findings(for: result, role: relay).map { "\($0.id.rawValue)/\($0.severity.rawValue)" }
        XCTAssertEqual(Set(relayIDs), ["tls.obsolete_protocol/critical", "tls.legacy_protocol/warning", "tls.weak_cipher/warning"])
        // The SSLv2 probe spoke SSLv2's own format; the SSLv3 probes carried no extensions.
        let hellos = server.allHellos
        XCTAssertTrue(hellos.contains { $0.first.map { $0 & 0x80 != 0 } == true })
        let sslv3 = hellos.compactMap { try? ParsedClientHello($0) }.filter { $0.clientVersion == 0x0300 }
        XCTAssertFalse(sslv3.isEmpty)
        XCTAssertTrue(sslv3.allSatisfy { $0.extensions == nil })
    }

    func testEveryHelloIsWellFormedAndBounded() {
        let server = SimulatedServer(Self.modern)
        _ = Prober.simulated(server).run()
        for bytes in server.allHellos where bytes.first.map({ $0 & 0x80 == 0 }) == true {
            guard let hello = try? ParsedClientHello(bytes) else { return XCTFail("unparseable hello") }
            XCTAssertLessThanOrEqual(hello.suites.count, 128)
            XCTAssertFalse(hello.suites.contains(0x5600), "never TLS_FALLBACK_SCSV")
            XCTAssertEqual(hello.serverName.map { $0 }, hello.clientVersion == 0x0300 ? nil : "mx.example.com")
            if hello.supportedVersions == [0x0304] {
                XCTAssertTrue(hello.keyShares.allSatisfy { $0.group == 0x001D && $0.key.count == 32 })
            }
        }
    }

    /// Chains stop: n + 1 per batch of 128 candidates, one order probe per version, n + 1 for groups.
    func testConnectionCountIsNearTheLowerBound() {
        let server = SimulatedServer(Self.modern)
        let result = Prober.simulated(server).run(knownAccepted: .tls13)
        // TLS 1.2: 5 accepted + 3 refused batches (352 candidates) + 1 order; TLS 1.3: 3 + 1 + 1;
        // groups: 4 + 1 (TLS 1.3) and 2 + 1 (TLS 1.2); SSLv2 1; SSLv3, 1.0, 1.1 refuse at once (protocol_version).
        XCTAssertEqual(result.connections, (5 + 3 + 1) + (3 + 1 + 1) + (4 + 1) + (2 + 1) + 1 + 3)
    }

    /// GnuTLS answers the old hellos it refuses with protocol_version in a record marked 0xFEFD: still "no".
    func testVersionAlertsInAnOddRecordVersionAreRefusals() {
        var config = Self.modern
        config.alertRecordVersion = 0xFEFD
        let result = Prober.simulated(SimulatedServer(config), ciphers: false).run(knownAccepted: .tls13)
        XCTAssertFalse(result.incomplete, "\(result.incompleteReasons)")
        XCTAssertEqual(result.protocols, ["SSLv2": false, "SSLv3": false, "TLSv1.0": false, "TLSv1.1": false, "TLSv1.2": true, "TLSv1.3": true])
    }

    /// The hybrids come by HelloRetryRequest like any TLS 1.3 group: no ML-KEM share is ever sent.
    func testPostQuantumGroupsAreFoundWithoutAKeyShare() {
        var config = Self.modern
        config.serverOrder = true
        config.groups13 = ["X25519MLKEM768", "x25519", "SecP256r1MLKEM768", "secp256r1"]
        let server = SimulatedServer(config)
        let result = Prober.simulated(server).run(knownAccepted: .tls13)
        XCTAssertFalse(result.incomplete, "\(result.incompleteReasons)")
        XCTAssertEqual(Array(result.groups.prefix(4)), ["X25519MLKEM768", "x25519", "SecP256r1MLKEM768", "secp256r1"], "the server's order")
        let tls13 = server.allHellos.compactMap { try? ParsedClientHello($0) }.filter { $0.supportedVersions == [0x0304] }
        XCTAssertTrue(tls13.allSatisfy { $0.keyShares.allSatisfy { $0.group == 0x001D } }, "only x25519 shares")
        XCTAssertEqual(tls13.filter { $0.keyShares.isEmpty }.count, 4 + 1, "one group hello per accepted group, one refused")
    }

    /// RFC 7919 below TLS 1.3: DHE suites with only the FFDHE groups not seen yet, until the server refuses.
    func testRFC7919GroupsAreEnumeratedInTLS12() throws {
        var config = SimulatedServer.Config(
            suites: [.tls12: ["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384"]],
            curves: ["secp256r1"])
        config.ffdhe12 = try ["ffdhe3072", "ffdhe2048", "ffdhe4096"].map { ($0, try FFDHEPrimes.prime($0)) }
        let server = SimulatedServer(config)
        let result = Prober.simulated(server).run(knownAccepted: .tls12)
        XCTAssertFalse(result.incomplete, "\(result.incompleteReasons)")
        XCTAssertEqual(result.groups, ["secp256r1", "ffdhe2048", "ffdhe3072", "ffdhe4096"])
        XCTAssertEqual(result.dhBits, 2048)
        let ffdheOnly = server.allHellos.compactMap { try? ParsedClientHello($0) }.filter { hello in
            !hello.groups.isEmpty && hello.groups.allSatisfy { (0x0100...0x01FF).contains($0) }
        }
        // ffdhe2048 came with the suite enumeration; 3072 and 4096 one hello each; then insufficient_security.
        XCTAssertEqual(ffdheOnly.count, 3)
        XCTAssertTrue(ffdheOnly.allSatisfy { $0.suites.allSatisfy { CipherSuite.tls(code: $0)?.keyExchange == .dhe } }, "DHE suites only")
        XCTAssertFalse(ffdheOnly.contains { $0.groups.contains(0x0100) }, "ffdhe2048 is not offered again")
        XCTAssertLessThanOrEqual(result.connections + 1, result.connectionBudget)
    }

    /// A server that uses ffdhe2048 whatever is offered (OpenSSL's automatic DH) costs one hello that shows it.
    func testAServersOwnRFC7919GroupCostsOneHello() throws {
        var config = SimulatedServer.Config(suites: [.tls12: ["TLS_DHE_RSA_WITH_AES_128_GCM_SHA256"]])
        config.dhPrime = try FFDHEPrimes.prime("ffdhe2048")
        let server = SimulatedServer(config)
        let result = Prober.simulated(server).run(knownAccepted: .tls12)
        XCTAssertFalse(result.incomplete, "\(result.incompleteReasons)")
        XCTAssertEqual(result.groups, ["ffdhe2048"])
        let ffdheOnly = server.allHellos.compactMap { try? ParsedClientHello($0) }.filter { hello in
            !hello.groups.isEmpty && hello.groups.allSatisfy { (0x0100...0x01FF).contains($0) }
        }
        XCTAssertEqual(ffdheOnly.count, 1)
    }

    /// A group outside RFC 7919 is `dh<bits>`, known from the suite enumeration: no extra connection.
    func testACustomDHGroupCostsNoConnection() {
        var config = SimulatedServer.Config(suites: [.tls12: ["TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_RSA_WITH_AES_128_CBC_SHA"]])
        config.dhBits = 1024
        let server = SimulatedServer(config)
        let result = Prober.simulated(server).run(knownAccepted: .tls12)
        XCTAssertEqual(result.groups, ["dh1024"])
        XCTAssertEqual(result.dhBits, 1024)
        XCTAssertFalse(server.allHellos.compactMap { try? ParsedClientHello($0) }.contains { hello in
            !hello.groups.isEmpty && hello.groups.allSatisfy { (0x0100...0x01FF).contains($0) }
        })
    }

    func testProtocolsAloneIsOneProbePerUnknownVersion() {
        let server = SimulatedServer(Self.modern)
        let result = Prober.simulated(server, ciphers: false).run(knownAccepted: .tls13)
        XCTAssertEqual(result.connections, 5)
        XCTAssertEqual(result.accepts(.tls13), true)
        XCTAssertEqual(result.accepts(.tls12), true)
        XCTAssertEqual(result.accepts(.tls11), false)
        XCTAssertTrue(result.ciphers.isEmpty)
        XCTAssertTrue(result.groups.isEmpty)
        XCTAssertEqual(server.allHellos.count, 5)
    }

    func testSilentRefusalsCostOneRetryNotMore() {
        var config = Self.modern
        config.silentRefusals = true
        let server = SimulatedServer(config)
        let result = Prober.simulated(server).run()
        XCTAssertFalse(result.incomplete, "\(result.incompleteReasons)")
        XCTAssertEqual(Set(result.ciphers["TLSv1.2"]?.suites ?? []), Set(config.suites[.tls12] ?? []))
        XCTAssertEqual(result.accepts(.tls11), false)
        XCTAssertLessThanOrEqual(result.connections + 1, result.connectionBudget)
    }

    func testHellosDroppedWhenLargeFallBackToSmallerOnes() {
        var config = Self.modern
        config.dropsHellosAbove = 70
        let server = SimulatedServer(config)
        let result = Prober.simulated(server).run()
        XCTAssertFalse(result.incomplete, "\(result.incompleteReasons)")
        XCTAssertEqual(Set(result.ciphers["TLSv1.2"]?.suites ?? []), Set(config.suites[.tls12] ?? []))
        XCTAssertEqual(result.accepts(.tls12), true)
        let sizes = server.allHellos.compactMap { try? ParsedClientHello($0) }.map(\.suites.count)
        XCTAssertTrue(sizes.contains { $0 > 70 }, "starts large")
        XCTAssertEqual(sizes.last.map { $0 <= 64 }, true, "ends with the smaller hellos")
    }

    func testPersistentRateLimitIsIncompleteNeverRefused() {
        var config = Self.modern
        config.rateLimitAfter = 3
        let server = SimulatedServer(config)
        let backoff = [0.05, 0.1, 0.2]
        let started = Date()
        let result = Prober.simulated(server, backoff: backoff).run()
        XCTAssertTrue(result.rateLimited)
        XCTAssertTrue(result.incomplete)
        XCTAssertTrue(result.incompleteReasons.contains { $0.contains("421") }, "\(result.incompleteReasons)")
        XCTAssertFalse(result.protocols.values.contains(false), "\(result.protocols)")
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(started), backoff.reduce(0, +) * 0.9)
        // Three answered, then per worker one try and one retry per pause at most.
        XCTAssertLessThanOrEqual(result.connections, 3 + 2 * (1 + backoff.count))
        XCTAssertTrue(ProbeRules.findings(for: result, role: AssumedRole(explicit: nil, port: 25, domainMode: false)).contains { $0.id == .smtpRateLimited && $0.severity == .unknown })
    }

    func testTransientRateLimitRecoversAfterTheBackOff() {
        final class Flaky: ProbeTransport, @unchecked Sendable {
            let inner: SimulatedServer
            let lock = NSLock()
            var refusals = 2

            init(_ inner: SimulatedServer) { self.inner = inner }

            func exchange(_ hello: [UInt8], keyExchange: Bool) throws(DialogFailure) -> ProbeReply {
                let refuse = lock.withLock { () -> Bool in
                    defer { refusals -= 1 }
                    return refusals > 0
                }
                if refuse { throw .closed(phase: "waiting for the greeting") }
                return try inner.exchange(hello, keyExchange: keyExchange)
            }
        }
        let flaky = Flaky(SimulatedServer(Self.modern))
        let prober = Prober(
            settings: ProbeSettings(ciphers: true, timeout: 5, perHost: 1, backoffSeconds: [0.01, 0.02, 0.04]),
            transport: flaky, serverName: nil, randomBytes: { [UInt8](repeating: 1, count: $0) })
        let result = prober.run()
        XCTAssertFalse(result.incomplete, "\(result.incompleteReasons)")
        XCTAssertFalse(result.rateLimited)
        XCTAssertEqual(Set(result.ciphers["TLSv1.2"]?.suites ?? []), Set(Self.modern.suites[.tls12] ?? []))
    }

    func testOtherDialogFailuresStopTheRunAsIncomplete() {
        struct NoSTARTTLS: ProbeTransport {
            func exchange(_ hello: [UInt8], keyExchange: Bool) throws(DialogFailure) -> ProbeReply { throw .starttlsMissing }
        }
        let result = Prober(settings: ProbeSettings(ciphers: true), transport: NoSTARTTLS(), serverName: nil).run()
        XCTAssertTrue(result.incomplete)
        XCTAssertFalse(result.rateLimited)
        XCTAssertEqual(result.connections, 1, "the first failure stops every worker")
        XCTAssertFalse(result.protocols.values.contains { $0 != nil })
    }

    func testPerHostLimitAndDelay() {
        var config = Self.modern
        config.secondsPerConnection = 0.01
        for perHost in [1, 2, 3] {
            let server = SimulatedServer(config)
            _ = Prober.simulated(server, ciphers: false, perHost: perHost).run()
            XCTAssertLessThanOrEqual(server.mostAtOnce, perHost)
        }
        let server = SimulatedServer(Self.modern)
        _ = Prober.simulated(server, ciphers: false, perHost: 2, delay: 40).run()
        let starts = server.starts.sorted()
        for (earlier, later) in zip(starts, starts.dropFirst()) {
            XCTAssertGreaterThanOrEqual(later - earlier, 0.035, "--delay between connection starts")
        }
    }

    func testServerAnsweringAnotherVersionOrSuiteIsUnknown() {
        struct Liar: ProbeTransport {
            func exchange(_ hello: [UInt8], keyExchange: Bool) throws(DialogFailure) -> ProbeReply {
                // Always TLS 1.2 with a suite nobody offered.
                .answer(.hello(ServerHello(legacyVersion: 0x0303, random: [UInt8](repeating: 0, count: 32), sessionID: [], cipherSuite: 0xFFFF, compressionMethod: 0, extensions: [], keyExchange: nil)))
            }
        }
        let result = Prober(settings: ProbeSettings(ciphers: true), transport: Liar(), serverName: nil).run()
        XCTAssertTrue(result.incomplete)
        XCTAssertNil(result.accepts(.tls12))
        XCTAssertEqual(result.accepts(.tls13), false, "a TLS 1.2 answer to a TLS 1.3 hello")
        XCTAssertTrue(result.incompleteReasons.contains { $0.contains("not offered") })
    }
}
