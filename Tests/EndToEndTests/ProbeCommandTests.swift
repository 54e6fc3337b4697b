import Foundation
import XCTest

/// --protocols and --ciphers through the binary, against the lab's Postfix and scripted servers.
final class ProbeCommandTests: EndToEndTestCase {
    /// `ciphers.<version>`: versions contain dots, so no dotted path.
    private func cipherList(_ json: [String: Any], _ version: String) -> [String: Any] {
        (json["ciphers"] as? [String: Any])?[version] as? [String: Any] ?? [:]
    }

    private func suites(_ json: [String: Any], _ version: String) -> [String] {
        cipherList(json, version)["suites"] as? [String] ?? []
    }

    func testProtocolsOnPostfixDefaults() throws {
        let (status, json) = try check("valid", ["--protocols"])
        XCTAssertEqual(status, 1, "Postfix's defaults still accept TLS 1.0 and 1.1")
        XCTAssertEqual(json["protocols"] as? [String: Bool], ["SSLv2": false, "SSLv3": false, "TLSv1.0": true, "TLSv1.1": true, "TLSv1.2": true, "TLSv1.3": true])
        XCTAssertEqual(findingIDs(json), ["tls.legacy_protocol"])
        XCTAssertTrue((finding("tls.legacy_protocol", in: json)?["message"] as? String ?? "").contains("TLSv1.0 and TLSv1.1 accepted"))
        XCTAssertTrue(json["ciphers"] is NSNull, "--protocols alone enumerates no suites")
        let connections = json["connections"] as? Int ?? 99
        XCTAssertLessThanOrEqual(connections, 2 + 7, "--protocols: at most 7 connections beyond the basic check")
        XCTAssertEqual(json["incomplete"] as? Bool, false)
    }

    func testCiphersOnPostfixDefaultsWithinTheConnectionBudget() throws {
        let (status, json) = try check("valid", ["--ciphers"])
        XCTAssertEqual(status, 1, "Postfix's defaults accept TLS 1.0/1.1; their anonymous suites are no fault on a relay port")
        let versions = ["TLSv1.0", "TLSv1.1", "TLSv1.2", "TLSv1.3"]
        XCTAssertEqual(Set((json["ciphers"] as? [String: Any] ?? [:]).keys), Set(versions))
        XCTAssertEqual(Set(suites(json, "TLSv1.3")), ["TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_GCM_SHA256"])
        XCTAssertTrue(suites(json, "TLSv1.2").contains("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"))
        XCTAssertTrue(suites(json, "TLSv1.2").contains("TLS_DH_anon_WITH_AES_256_CBC_SHA"))
        XCTAssertEqual(cipherList(json, "TLSv1.2")["serverOrder"] as? Bool, false)
        let groups = json["groups"] as? [String] ?? []
        XCTAssertTrue(groups.contains("x25519") && groups.contains("secp256r1"), "\(groups)")
        let pairs = versions.reduce(0) { $0 + suites(json, $1).count }
        let budget = pairs + groups.count + 2 * 6 + 10
        let connections = json["connections"] as? Int ?? Int.max
        print("--ciphers on Postfix defaults: \(pairs) accepted pairs, \(groups.count) groups, \(connections) connections (budget \(budget))")
        XCTAssertLessThanOrEqual(connections, budget)
        XCTAssertEqual(finding("tls.weak_cipher", in: json)?["severity"] as? String, "info", "judged as a relay (RoleTests)")
        XCTAssertTrue(findingIDs(json).contains("tls.weak_dh"))
    }

    func testServerOrderIsDetected() throws {
        let (_, json) = try check("server_order", ["--ciphers"])
        XCTAssertEqual(cipherList(json, "TLSv1.2")["serverOrder"] as? Bool, true)
        XCTAssertEqual(cipherList(json, "TLSv1.3")["serverOrder"] as? Bool, true)
    }

    func testTLS13OnlyServer() throws {
        let (status, json) = try check("tls13_only", ["--ciphers"])
        XCTAssertEqual(status, 0)
        XCTAssertEqual(json["protocols"] as? [String: Bool], ["SSLv2": false, "SSLv3": false, "TLSv1.0": false, "TLSv1.1": false, "TLSv1.2": false, "TLSv1.3": true])
        XCTAssertEqual(Array((json["ciphers"] as? [String: Any] ?? [:]).keys), ["TLSv1.3"])
        XCTAssertEqual(findingIDs(json), [])
    }

    func testWeakDHGroup() throws {
        let (_, json) = try check("dhe1024", ["--ciphers"])
        XCTAssertTrue(findingIDs(json).contains("tls.weak_dh"))
        XCTAssertTrue((finding("tls.weak_dh", in: json)?["message"] as? String ?? "").contains("1024-bit"))
        XCTAssertTrue(suites(json, "TLSv1.2").allSatisfy { $0.contains("_DHE_") || $0.contains("_DH_") }, "\(suites(json, "TLSv1.2"))")
    }

    /// One spelling: the basic check's group and the probe's groups come from the same table (IANA names).
    func testTLSGroupAndGroupsAreSpelledAlike() throws {
        let (_, json) = try check("valid", ["--ciphers"])
        let group = try XCTUnwrap(field(json, "tls.group") as? String)
        let groups = json["groups"] as? [String] ?? []
        XCTAssertEqual(group, "x25519", "OpenSSL's X25519 is spelled as IANA registers it")
        XCTAssertTrue(groups.contains(group), "tls.group \(group) is among groups \(groups)")
        XCTAssertTrue(groups.contains("secp256r1") && !groups.contains("prime256v1"), "\(groups)")
        // Postfix's DHE groups (OpenSSL's automatic ones) are not RFC 7919 groups: dh<bits>, never "DH".
        XCTAssertTrue(groups.contains("dh1024"), "\(groups)")
        XCTAssertFalse(groups.contains("DH") || groups.contains("X25519"), "\(groups)")
    }

    func testAFiniteFieldGroupOutsideRFC7919IsDHBits() throws {
        let (_, json) = try check("dhe1024", ["--ciphers"])
        XCTAssertEqual(field(json, "tls.group") as? String, "dh1024")
        XCTAssertEqual(field(json, "tls.keyExchangeBits") as? Int, 1024)
        XCTAssertEqual(json["groups"] as? [String], ["dh1024"], "the same spelling in the probe's list")
    }

    /// GnuTLS refuses SSLv3 to TLS 1.1 hellos with a protocol_version alert in a record marked 0xFEFD: "no", not null.
    func testAVersionAlertInAnOddRecordVersionIsARefusal() throws {
        let (status, json) = try check("gnutls_version_alert", ["--protocols"])
        XCTAssertEqual(status, 0)
        XCTAssertEqual(json["protocols"] as? [String: Bool], ["SSLv2": false, "SSLv3": false, "TLSv1.0": false, "TLSv1.1": false, "TLSv1.2": true, "TLSv1.3": true])
        XCTAssertEqual(json["incomplete"] as? Bool, false)
        XCTAssertEqual(findingIDs(json), [])
    }

    func testNoProbesWithoutWorkingTLS() throws {
        let (_, json) = try check("no_starttls", ["--ciphers"])
        XCTAssertTrue(json["protocols"] is NSNull)
        XCTAssertEqual(json["connections"] as? Int, 2)
    }

    func testPersistentRateLimitMarksTheResultIncomplete() throws {
        let reset = try lab.case("rate_limit_reset")
        _ = mxcheck(["smtp", "--json", "--no-injection-test", "--timeout", "5", reset.target])
        let (status, json) = try check("rate_limit_after_3", ["--protocols", "--per-host", "1"])
        XCTAssertEqual(status, 3, "rate limited: UNKNOWN, never a verdict on what was not probed")
        XCTAssertEqual(json["incomplete"] as? Bool, true)
        XCTAssertTrue(findingIDs(json).contains("smtp.rate_limited"))
        let protocols = json["protocols"] as? [String: Any] ?? [:]
        XCTAssertEqual(protocols["TLSv1.3"] as? Bool, true, "the basic check's own handshake still counts")
        XCTAssertTrue(protocols.values.contains { $0 is NSNull }, "versions the server would not let us probe are null, not false: \(protocols)")
    }

    /// Each weak suite is labelled as its finding judges it on the port's role (a lab port is a relay by default).
    func testTextShowsTheSuitesWithWeakOnesMarked() throws {
        let target = try lab.case("legacy_tls")
        let result = mxcheck(["smtp", "--ciphers", "--ca-file", lab.rootCA, target.target])
        XCTAssertTrue(result.stdout.contains("TLSv1.0 yes (legacy)"), result.stdout)
        XCTAssertTrue(result.stdout.contains("TLS_DH_anon_WITH_AES_256_CBC_SHA"), result.stdout)
        XCTAssertTrue(result.stdout.contains("weak: anonymous"), "info on a relay: \(result.stdout)")
        XCTAssertFalse(result.stdout.contains("insecure:"), "no critical suite on a relay: \(result.stdout)")
        XCTAssertTrue(result.stdout.contains("weak: no forward secrecy"), result.stdout)
        let submission = mxcheck(["smtp", "--ciphers", "--role", "submission", "--ca-file", lab.rootCA, target.target])
        XCTAssertTrue(submission.stdout.contains("insecure: anonymous"), submission.stdout)
        XCTAssertTrue(submission.stdout.contains("weak: no forward secrecy"), submission.stdout)
        XCTAssertFalse(submission.stdout.contains("weak: anonymous"), submission.stdout)
    }
}
