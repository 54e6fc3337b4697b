import Foundation
import XCTest

/// DANE through the binary: `mxcheck smtp --mx` (and `--dane` for host targets) against the DNSSEC lab
/// (Tests/Lab/dnssec.sh: signed zones, a loopback iterating unbound, the lab's Postfix), always with `--resolver`
/// on loopback and the lab's trust anchor. Each case of the lab is checked for its exit code, finding ids and the
/// `dane` JSON fields.
final class DANECommandTests: EndToEndTestCase {
    var dnssec: DNSSECLab!

    /// Only the DNSSEC lab is needed, not the main lab EndToEndTestCase starts.
    override func setUpWithError() throws {
        dnssec = try DNSSECLab.shared()
        try XCTSkipIf(dnssec.smtpServer == nil, "the DNSSEC lab runs without its SMTP servers (not root)")
    }

    /// `--resolver` as a user writes it: 127.0.0.1:PORT.
    private var resolver: String { dnssec.resolver.replacingOccurrences(of: "@", with: ":") }
    private var port: Int { dnssec.smtpPort }

    /// MTA-STS is left out (the DNSSEC lab publishes none); testDANEDeploymentMakesAMissingTLSRPTAWarning has it on.
    private func base(resolver: String? = nil) -> [String] {
        ["smtp", "--json", "--no-mta-sts", "--resolver", resolver ?? self.resolver, "--trust-anchor", dnssec.trustAnchor, "--port", String(port),
         "--ca-file", dnssec.rootCA, "--timeout", "10"]
    }

    private func objects(_ result: CommandResult, file: StaticString = #filePath, line: UInt = #line) -> [[String: Any]] {
        let lines = result.stdout.split(separator: "\n")
        let parsed = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        XCTAssertEqual(parsed.count, lines.count, "every line is one JSON object: \(result.stdout)", file: file, line: line)
        return parsed
    }

    private func daneIDs(_ object: [String: Any]) -> [String] {
        findingIDs(object).filter { $0.hasPrefix("dane.") }
    }

    /// The exit code a case must give: the worst severity of its expected dane.* findings (the PKIX findings are
    /// info under a valid match, and critical ones stand only beside a critical DANE verdict), and the CNAME'd MX
    /// hosts' dns.mx_cname warning.
    private func expectedExit(_ entry: DNSSECLab.Case) -> Int32 {
        let severity: [String: Int32] = ["dane.mismatch": 2, "dane.dnssec_bogus": 2, "dane.lookup_failed": 2, "dane.unusable": 1, "dane.stale_record": 1]
        let dane = entry.expect.findings.map { severity[$0] ?? 0 }.max() ?? 0
        return max(dane, entry.cname != nil ? 1 : 0)
    }

    func testEveryCaseThroughTheBinary() throws {
        var checked = 0
        for (key, entry) in dnssec.cases.sorted(by: { $0.key < $1.key }) where entry.expect.perMX == nil {
            let result = mxcheck(base() + ["--mx", entry.domain])
            let all = objects(result)
            XCTAssertEqual(all.count, 1, "\(key): one MX host, one address: \(result.stdout)")
            guard let object = all.first else { continue }
            let expect = entry.expect
            XCTAssertEqual(result.status, expectedExit(entry), "\(key): \(result.stdout)")
            XCTAssertEqual(object["status"] as? String, ["ok", "warning", "critical"][Int(expectedExit(entry))], key)
            XCTAssertEqual(daneIDs(object), expect.findings.sorted(), "\(key): dane findings")
            XCTAssertEqual(field(object, "dane.status") as? String, expect.status, key)
            XCTAssertEqual(field(object, "dane.dnssec") as? String, expect.daneDnssec, "\(key): dane.dnssec")
            XCTAssertEqual(field(object, "mx.dnssec") as? String, expect.mxDnssec, "\(key): mx.dnssec")
            // Even a bogus MX RRset or bogus addresses give an endpoint that is checked: DANE costs no connection.
            XCTAssertEqual(field(object, "target.address") as? String, entry.address, key)
            XCTAssertEqual(object["connections"] as? Int, 2, "\(key): the check and the injection probe, nothing for DANE")
            // The lab names the port-25 owner; the TLSA base domain is the expanded name only where the records are.
            XCTAssertEqual(field(object, "dane.name") as? String, "_\(port)._tcp." + entry.tlsaName.dropFirst("_25._tcp.".count), key)
            if expect.status == "valid" {
                XCTAssertEqual(field(object, "dane.matchedDepth") as? Int, expect.matchedDepth, "\(key): matchedDepth")
                let pkix = ((object["findings"] as? [[String: Any]]) ?? []).filter { ($0["id"] as? String)?.hasPrefix("cert.") == true }
                XCTAssertTrue(pkix.allSatisfy { $0["severity"] as? String == "info" }, "\(key): DANE authenticates the server: \(pkix)")
            } else {
                XCTAssertTrue(field(object, "dane.matchedDepth") is NSNull, key)
            }
            if ["valid", "mismatch", "unusable"].contains(expect.status) {
                let records = (field(object, "dane.records") as? [[String: Any]]) ?? []
                let shown = records.map { "\($0["usage"] as? Int ?? -1) \($0["selector"] as? Int ?? -1) \($0["matchingType"] as? Int ?? -1) \($0["data"] as? String ?? "")" }
                XCTAssertEqual(field(object, "dane.recordsTotal") as? Int, entry.tlsaRecords.count, key)
                if entry.tlsaRecords.count <= 20 {
                    XCTAssertEqual(shown.sorted(), entry.tlsaRecords.sorted(), "\(key): records as published")
                } else {
                    XCTAssertEqual(records.count, 20, "\(key): records capped, recordsTotal not")
                }
                if expect.status == "valid" && records.count == entry.tlsaRecords.count {
                    XCTAssertTrue(records.contains { $0["matched"] as? Bool == true && $0["used"] as? Bool == true }, key)
                }
                if expect.status == "unusable" {
                    XCTAssertTrue(records.allSatisfy { $0["usable"] as? Bool == false && $0["used"] as? Bool == false }, key)
                }
            }
            checked += 1
        }
        XCTAssertGreaterThanOrEqual(checked, 29)
    }

    func testTwoMXWithTLSAOnOneOnly() throws {
        let entry = try dnssec.case("two_mx")
        let result = mxcheck(base() + ["--mx", entry.domain])
        let all = objects(result)
        XCTAssertEqual(all.compactMap { field($0, "mx.host") as? String }, entry.mx.map(\.host))
        for object in all {
            let host = try XCTUnwrap(field(object, "mx.host") as? String)
            XCTAssertEqual(field(object, "dane.status") as? String, entry.expect.perMX?[host], host)
            XCTAssertEqual(field(object, "mx.dnssec") as? String, "secure", host)
        }
        XCTAssertEqual(result.status, 0, "valid and absent: \(result.stdout)")
    }

    /// With MTA-STS evaluated beside DANE: a domain whose MX host has secure TLSA records but no TLS-RPT record
    /// gets `tlsrpt.absent` as a warning that names DANE; the unsigned domain in the same run keeps it at info.
    func testDANEDeploymentMakesAMissingTLSRPTAWarning() throws {
        let signed = try dnssec.case("ee_spki_sha256"), unsigned = try dnssec.case("insecure")
        let all = objects(mxcheck(base().filter { $0 != "--no-mta-sts" } + ["--mx", signed.domain, unsigned.domain]))
        let deployed = try XCTUnwrap(all.first { $0["domain"] as? String == signed.domain }, "\(all)")
        let absent = try XCTUnwrap(finding("tlsrpt.absent", in: deployed), "\(deployed)")
        XCTAssertEqual(absent["severity"] as? String, "warning")
        XCTAssertTrue((absent["message"] as? String)?.contains("DANE") == true, "\(absent)")
        XCTAssertEqual(field(deployed, "mtaSts.status") as? String, "absent")
        XCTAssertEqual(field(deployed, "dane.status") as? String, "valid")
        let plain = try XCTUnwrap(all.first { $0["domain"] as? String == unsigned.domain }, "\(all)")
        XCTAssertEqual(finding("tlsrpt.absent", in: plain)?["severity"] as? String, "info", "\(plain)")
    }

    /// `--no-dane`: the same checks and connections, no DANE fields, and the PKIX findings stay as they are.
    func testNoDANESkipsItAndCostsTheSameConnections() throws {
        let entry = try dnssec.case("ee_selfsigned")
        let with = try XCTUnwrap(objects(mxcheck(base() + ["--mx", entry.domain])).first)
        let result = mxcheck(base() + ["--mx", "--no-dane", entry.domain])
        let without = try XCTUnwrap(objects(result).first)
        XCTAssertTrue(without["dane"] is NSNull)
        XCTAssertTrue(field(without, "mx.dnssec") is NSNull)
        XCTAssertEqual(daneIDs(without), [])
        XCTAssertEqual(finding("cert.self_signed", in: without)?["severity"] as? String, "critical")
        XCTAssertEqual(result.status, 2)
        XCTAssertEqual(finding("cert.self_signed", in: with)?["severity"] as? String, "info", "DANE-EE vouches for the self-signed leaf")
        XCTAssertEqual(without["connections"] as? Int, with["connections"] as? Int)
        XCTAssertEqual(field(without, "target.address") as? String, field(with, "target.address") as? String)
    }

    /// `--dane` on a host target: `_PORT._tcp.<host>`, its addresses through the DNS library; without it, no DANE.
    func testDANEOnAHostTarget() throws {
        let entry = try dnssec.case("ee_spki_sha256")
        let result = mxcheck(base() + ["--dane", entry.host])
        let object = try XCTUnwrap(objects(result).first)
        XCTAssertEqual(result.status, 0, result.stdout)
        XCTAssertEqual(field(object, "dane.status") as? String, "valid")
        XCTAssertEqual(field(object, "dane.name") as? String, "_\(port)._tcp.\(entry.host)")
        XCTAssertEqual(field(object, "target.address") as? String, entry.address)
        XCTAssertTrue(object["mx"] is NSNull)
        XCTAssertEqual(daneIDs(object), ["dane.no_rollover"])

        let stale = mxcheck(base() + ["--dane", try dnssec.case("ee_stale").host])
        XCTAssertEqual(stale.status, 2)
        XCTAssertEqual(daneIDs(try XCTUnwrap(objects(stale).first)), ["dane.mismatch"])

        let bogus = mxcheck(base() + ["--dane", try dnssec.case("tampered_address").host])
        let bogusObject = try XCTUnwrap(objects(bogus).first, bogus.stdout + bogus.stderr)
        XCTAssertEqual(daneIDs(bogusObject), ["dane.dnssec_bogus"], "bogus addresses are still checked, and DANE says why senders give up")
        XCTAssertEqual(field(bogusObject, "dane.dnssec") as? String, "bogus")
        XCTAssertEqual(bogus.status, 2)

        let plain = try XCTUnwrap(objects(mxcheck(base() + [entry.host])).first)
        XCTAssertTrue(plain["dane"] is NSNull, "host targets get DANE only with --dane")
        XCTAssertEqual(plain["connections"] as? Int, object["connections"] as? Int)
        // An IP target names no TLSA base domain.
        let literal = try XCTUnwrap(objects(mxcheck(base() + ["--dane", try XCTUnwrap(entry.address)])).first)
        XCTAssertTrue(literal["dane"] is NSNull)
    }

    func testTrustAnchorThatCannotBeUsedIsAUsageError() throws {
        let entry = try dnssec.case("ee_spki_sha256")
        let missing = mxcheck(["smtp", "--mx", "--resolver", resolver, "--trust-anchor", "/nonexistent/root.key", entry.domain])
        XCTAssertEqual(missing.status, 3)
        XCTAssertEqual(missing.stdout, "")
        XCTAssertTrue(missing.stderr.contains("/nonexistent/root.key"), missing.stderr)
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("mxcheck-anchor-\(getpid()).key")
        try "; no DS or DNSKEY record here\n".write(to: empty, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: empty) }
        let useless = mxcheck(["smtp", "--mx", "--resolver", resolver, "--trust-anchor", empty.path, entry.domain])
        XCTAssertEqual(useless.status, 3)
        XCTAssertTrue(useless.stderr.contains("no DS or DNSKEY"), useless.stderr)
        XCTAssertEqual(mxcheck(["smtp", "--mx", "--dane", "--no-dane", entry.domain]).status, 3, "--dane and --no-dane exclude each other")
    }

    /// A resolver that strips DNSSEC records: DANE not evaluated, each endpoint says so, none is called bogus.
    func testResolverWithoutDNSSECIsUnusableNotBogus() throws {
        let entry = try dnssec.case("two_mx")
        let result = mxcheck(base(resolver: dnssec.stripped.replacingOccurrences(of: "@", with: ":")) + ["--mx", entry.domain])
        let all = objects(result)
        XCTAssertEqual(all.count, 2, result.stdout + result.stderr)
        for object in all {
            XCTAssertEqual(daneIDs(object), ["dane.resolver_unusable"], "\(object)")
            XCTAssertEqual(object["status"] as? String, "unknown")
            XCTAssertTrue(object["dane"] is NSNull)
            XCTAssertEqual(object["connections"] as? Int, 2, "the endpoints are still checked")
        }
        XCTAssertEqual(result.status, 3)
    }

    /// A secure TLSA RRset and a failed handshake: DANE senders defer, so the failure is critical and says why.
    func testFailedHandshakeUnderTLSAIsUnverifiedAndCritical() throws {
        let entry = try dnssec.case("ee_spki_sha256")
        let result = mxcheck(base() + ["--mx", "--tls", "implicit", entry.domain])
        let object = try XCTUnwrap(objects(result).first)
        XCTAssertEqual(field(object, "dane.status") as? String, "unverified")
        let failed = try XCTUnwrap(finding("starttls.failed", in: object), "\(object)")
        XCTAssertEqual(failed["severity"] as? String, "critical")
        XCTAssertTrue((failed["message"] as? String)?.contains("DANE senders never fall back") == true, "\(failed)")
        XCTAssertEqual(result.status, 2)
    }

    func testTextHasOneDANELinePerEndpoint() throws {
        let good = try dnssec.case("ee_spki_sha256")
        let arguments = ["smtp", "--long", "--no-mta-sts", "--resolver", resolver, "--trust-anchor", dnssec.trustAnchor, "--port", String(port), "--ca-file", dnssec.rootCA, "--mx"]
        let result = mxcheck(arguments + [try dnssec.case("two_mx").domain])
        let lines = result.stdout.split(separator: "\n").map(String.init).filter { $0.hasPrefix("  dane ") }
        XCTAssertEqual(lines.count, 2, result.stdout)
        XCTAssertEqual(lines.first, "  dane     valid: 3 1 1 matched the leaf (DNSSEC secure)")
        // Both servers send the lab's good leaf: the record suggested for the host without TLSA is ee_spki_sha256's.
        let record = try XCTUnwrap(good.tlsaRecords.first)
        XCTAssertEqual(lines.last, "  dane     absent: no TLSA records at _\(port)._tcp.mx-no-tlsa.dane.example (DNSSEC secure); would match: _\(port)._tcp.mx-no-tlsa.dane.example. IN TLSA \(record)")
        let stale = mxcheck(arguments + [try dnssec.case("ee_stale").domain])
        XCTAssertTrue(stale.stdout.contains("  dane     mismatch: no TLSA record of _\(port)._tcp.mx-ee-stale.dane.example matches"), stale.stdout)
        XCTAssertTrue(stale.stdout.contains("would match: _\(port)._tcp.mx-ee-stale.dane.example. IN TLSA \(record)"), stale.stdout)
        XCTAssertTrue(stale.stdout.contains("fix: Publish a record that matches what the server sends now, _\(port)._tcp.mx-ee-stale.dane.example. IN TLSA \(record)"), stale.stdout)
    }

    /// Through a counting forwarder: two domains whose MX hosts overlap, and every question reaches the resolver
    /// once (MX resolution and DANE share one validating context and its answers once the DNSSEC check passed).
    func testEachNameIsAskedOncePerRun() throws {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("mxcheck-dnscount-\(getpid()).log")
        defer { try? FileManager.default.removeItem(at: log) }
        let counter = try BackgroundServer(["/usr/bin/env", "python3", "\(Lab.packageRoot)/Tests/Lab/dnscount.py", "--upstream", resolver, "--log", log.path])
        defer { counter.stop() }
        let port = try XCTUnwrap(counter.description["port"] as? Int)
        let shared = try dnssec.case("two_mx"), single = try dnssec.case("ee_spki_sha256")
        let result = mxcheck(base(resolver: "127.0.0.1:\(port)") + ["--mx", shared.domain, single.domain])
        XCTAssertEqual(objects(result).compactMap { field($0, "dane.status") as? String }.sorted(), ["absent", "valid", "valid"], result.stdout)
        let asked = Lab.text(of: log.path).split(separator: "\n").map(String.init)
        XCTAssertEqual(asked.count, Set(asked).count, "a question asked twice: \(asked.sorted())")
        let tlsa = asked.filter { $0.hasPrefix("_\(self.port)._tcp.\(single.host). ") }
        XCTAssertEqual(tlsa.count, 1, "the MX host both domains name: one TLSA question (\(asked))")
        XCTAssertEqual(asked.filter { $0.hasPrefix("example. ") && $0.hasSuffix(" 48") }.count, 1, "the DNSSEC check of the resolver: one DNSKEY question")
    }

    func testDANEObjectsMatchTheSchema() throws {
        let domains = dnssec.cases.values.map(\.domain).sorted()
        let result = mxcheck(base() + ["--mx"] + domains, timeout: 120)
        let lines = result.stdout.split(separator: "\n")
        XCTAssertEqual(lines.count, domains.count + 1, "one object per domain, two for two_mx")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("mxcheck-dane-schema-\(getpid()).jsonl")
        try result.stdout.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let validation = Command.run(["/usr/bin/env", "python3", "\(Lab.packageRoot)/Tests/Lab/validate_schema.py", "\(Lab.packageRoot)/docs/schema.json", file.path], timeout: 60)
        XCTAssertEqual(validation.status, 0, validation.stdout + validation.stderr)
        XCTAssertTrue(validation.stdout.contains("\(lines.count) objects valid"), validation.stdout)
    }
}
