import Foundation
import XCTest

/// `--role`: the lab's stock Postfix (case `valid`) with `--ciphers`, judged as a relay and as a submission port.
final class RoleTests: EndToEndTestCase {
    private func weakCipherFindings(_ json: [String: Any]) -> [[String: Any]] {
        ((json["findings"] as? [[String: Any]]) ?? []).filter { $0["id"] as? String == "tls.weak_cipher" }
    }

    private func severities(_ json: [String: Any]) -> [String: String] {
        var worst: [String: String] = [:]
        let order = ["info", "warning", "unknown", "critical"]
        for finding in (json["findings"] as? [[String: Any]]) ?? [] {
            guard let id = finding["id"] as? String, let severity = finding["severity"] as? String else { continue }
            if order.firstIndex(of: severity) ?? 0 >= order.firstIndex(of: worst[id] ?? "info") ?? 0 { worst[id] = severity }
        }
        return worst
    }

    func testStockPostfixOnARelayPortIsAtWorstAWarning() throws {
        let port = try lab.case("valid").port
        let (status, json) = try check("valid", ["--ciphers"])
        XCTAssertEqual(status, 1, "TLS 1.0/1.1 accepted: WARNING; anonymous and static-RSA suites are no fault on a relay")
        XCTAssertEqual(json["status"] as? String, "warning")
        let weak = weakCipherFindings(json)
        XCTAssertEqual(weak.map { $0["severity"] as? String }, ["info"], "\(weak)")
        let message = weak.first?["message"] as? String ?? ""
        XCTAssertTrue(message.contains("TLS_DH_anon_WITH_AES_256_CBC_SHA (anonymous"), message)
        XCTAssertTrue(message.contains("(no forward secrecy"), message)
        XCTAssertTrue(message.hasSuffix("; port \(port): judged as a relay (opportunistic TLS)"), message)
        XCTAssertEqual(severities(json)["tls.legacy_protocol"], "warning")
        XCTAssertFalse(severities(json).values.contains("critical"), "\(severities(json))")
    }

    func testExplicitRelayRoleSaysSo() throws {
        let (status, json) = try check("valid", ["--ciphers", "--role", "relay"])
        XCTAssertEqual(status, 1)
        let weak = weakCipherFindings(json)
        XCTAssertEqual(weak.map { $0["severity"] as? String }, ["info"])
        let message = weak.first?["message"] as? String ?? ""
        XCTAssertTrue(message.hasSuffix("; --role relay: judged as a relay (opportunistic TLS)"), message)
    }

    func testStockPostfixAsASubmissionPortIsCritical() throws {
        let (status, json) = try check("valid", ["--ciphers", "--role", "submission"])
        XCTAssertEqual(status, 2, "anonymous suites where passwords travel: CRITICAL")
        XCTAssertEqual(json["status"] as? String, "critical")
        let weak = weakCipherFindings(json)
        XCTAssertEqual(weak.map { $0["severity"] as? String }, ["critical", "warning"], "\(weak)")
        let critical = weak.first?["message"] as? String ?? ""
        XCTAssertTrue(critical.contains("TLS_DH_anon_WITH_AES_256_CBC_SHA (anonymous"), critical)
        XCTAssertFalse(critical.contains("no forward secrecy"), "static RSA is a warning, not critical: \(critical)")
        let warning = weak.last?["message"] as? String ?? ""
        XCTAssertTrue(warning.contains("TLS_RSA_WITH_AES_256_GCM_SHA384 (no forward secrecy"), warning)
        for message in [critical, warning] {
            XCTAssertTrue(message.hasSuffix("; --role submission: passwords travel here"), message)
        }
        // Text output carries the same verdict and reason.
        let target = try lab.case("valid")
        let text = mxcheck(["smtp", "--ciphers", "--role", "submission", "--ca-file", lab.rootCA, target.target])
        XCTAssertEqual(text.status, 2)
        XCTAssertTrue(text.stdout.contains("CRITICAL tls.weak_cipher: "), text.stdout)
        XCTAssertTrue(text.stdout.contains("--role submission: passwords travel here"), text.stdout)
    }

    func testMXHostsAreJudgedAsRelays() throws {
        // --mx: every endpoint is an MX host, so a relay unless --role says otherwise (587 too: RulesTests).
        let dns = try DNSLab.shared()
        let pool = try lab.case("mx_pool")
        for (extra, severity, reason) in [
            ([String](), "info", "MX host port \(pool.port): judged as a relay (opportunistic TLS)"),
            (["--role", "submission"], "critical", "--role submission: passwords travel here"),
        ] {
            let result = mxcheck(["smtp", "--mx", "--no-dane", "--json", "--ciphers", "--resolver", "127.0.0.1:\(dns.port)", "--port", String(pool.port),
                                  "--ca-file", lab.rootCA, "--timeout", "10"] + extra + ["two-mx.lab.example"])
            let objects = result.stdout.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            XCTAssertEqual(objects.count, 2, result.stdout + result.stderr)
            for object in objects {
                let weak = weakCipherFindings(object)
                XCTAssertEqual(weak.first?["severity"] as? String, severity, "\(extra): \(weak)")
                XCTAssertTrue((weak.first?["message"] as? String ?? "").hasSuffix(reason), "\(weak)")
            }
        }
    }

    func testAnUnknownRoleIsAUsageError() {
        let result = mxcheck(["smtp", "--role", "mx", "127.0.0.1:1"])
        XCTAssertEqual(result.status, 3)
        XCTAssertTrue(result.stderr.contains("--role"), result.stderr)
    }
}
