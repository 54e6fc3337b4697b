import Foundation
import XCTest

/// `--mx DOMAIN` and `--resolver` through the binary: the DNS lab's zone (nsd on loopback) names MX hosts
/// on 127.0.0.2-6, 127.0.1.1-12 and ::1, where the private Postfix's `mx_pool` service listens on one port.
/// That zone is unsigned, so DANE is left out (`--no-dane`): DANECommandTests covers it with the DNSSEC lab.
final class DomainModeTests: EndToEndTestCase {
    var dns: DNSLab!

    override func setUpWithError() throws {
        try super.setUpWithError()
        dns = try DNSLab.shared()
    }

    /// These tests are about MX resolution: the lab's plain domains publish no MTA-STS or TLS-RPT, whose info
    /// findings and policy line MTASTSCommandTests covers.
    let noPolicy = "--no-mta-sts"

    /// `--resolver` as a user writes it: IP:port.
    var resolver: String { "127.0.0.1:\(dns.port)" }

    func domains(_ names: [String], _ extra: [String] = []) throws -> (CommandResult, [[String: Any]]) {
        let pool = try lab.case("mx_pool")
        let arguments = ["smtp", "--mx", "--no-dane", noPolicy, "--json", "--resolver", resolver, "--port", String(pool.port), "--ca-file", lab.rootCA, "--timeout", "10"]
            + extra + names.map { "\($0).lab.example" }
        let result = mxcheck(arguments)
        let objects = result.stdout.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        XCTAssertEqual(objects.count, result.stdout.split(separator: "\n").count, "every line is one JSON object")
        return (result, objects)
    }

    func testTwoMXAtDifferentPreferences() throws {
        let (result, objects) = try domains(["two-mx"])
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        let sorted = objects.sorted { (field($0, "mx.preference") as? Int ?? 0) < (field($1, "mx.preference") as? Int ?? 0) }
        XCTAssertEqual(sorted.compactMap { field($0, "mx.host") as? String }, ["mx1.lab.example", "mx2.lab.example"])
        XCTAssertEqual(sorted.compactMap { field($0, "mx.preference") as? Int }, [10, 20])
        XCTAssertEqual(sorted.compactMap { field($0, "target.address") as? String }, ["127.0.0.2", "127.0.0.3"])
        XCTAssertEqual(sorted.compactMap { field($0, "target.host") as? String }, ["mx1.lab.example", "mx2.lab.example"], "the certificate is checked against the MX host name")
        XCTAssertTrue(objects.allSatisfy { $0["domain"] as? String == "two-mx.lab.example" })
        XCTAssertTrue(objects.allSatisfy { field($0, "certificate.hostnameMatch") as? Bool == true })
    }

    func testTextIsGroupedByDomainInMXOrder() throws {
        let pool = try lab.case("mx_pool")
        let result = mxcheck(["smtp", "--mx", "--no-dane", noPolicy, "--long", "--resolver", resolver, "--port", String(pool.port), "--ca-file", lab.rootCA, "two-mx.lab.example", "null-mx.lab.example"])
        XCTAssertTrue(result.stdout.contains("two-mx.lab.example  OK  MX 10 mx1.lab.example, 20 mx2.lab.example"), result.stdout)
        let first = try XCTUnwrap(result.stdout.range(of: "mx1.lab.example 127.0.0.2"))
        let second = try XCTUnwrap(result.stdout.range(of: "mx2.lab.example 127.0.0.3"))
        XCTAssertLessThan(first.lowerBound, second.lowerBound)
        XCTAssertTrue(result.stdout.contains("null-mx.lab.example  OK  no endpoint"), result.stdout)
    }

    /// Many endpoints at a glance: one table line each, aligned, and no full block when all are OK.
    func testThreeOKEndpointsGiveATableAndNoFullBlock() throws {
        let pool = try lab.case("mx_pool")
        let arguments = ["smtp", "--mx", "--no-dane", noPolicy, "--resolver", resolver, "--port", String(pool.port), "--ca-file", lab.rootCA, "three-mx.lab.example"]
        let result = mxcheck(arguments)
        XCTAssertEqual(result.status, 0, result.stdout)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, "three-mx.lab.example  OK  MX 10 mx1.lab.example, 20 mx2.lab.example, 30 mx3.lab.example")
        XCTAssertTrue(lines[1].hasPrefix("STATUS   HOST"), result.stdout)
        let rows = lines.dropFirst(2)
        XCTAssertEqual(rows.count, 3, "one line per endpoint and nothing else: \(result.stdout)")
        XCTAssertEqual(rows.map { $0.split(separator: " ").prefix(3).joined(separator: " ") },
                       ["OK mx1.lab.example 127.0.0.2:\(pool.port)", "OK mx2.lab.example 127.0.0.3:\(pool.port)", "OK mx3.lab.example 127.0.0.5:\(pool.port)"])
        XCTAssertTrue(rows.allSatisfy { $0.count <= 100 && $0.contains("TLS 1.3") && $0.contains(" 100 ") }, result.stdout)
        XCTAssertEqual(Set(rows.map { $0.firstRange(of: "127.0.0")!.lowerBound.utf16Offset(in: $0) }).count, 1, "columns aligned")
        XCTAssertFalse(result.stdout.contains("findings"), "no full block when every endpoint is OK")

        let long = mxcheck(arguments + ["--long"])
        XCTAssertEqual(long.stdout.components(separatedBy: "findings none").count - 1, 3, "--long prints every endpoint in full: \(long.stdout)")
    }

    func testNullMXMakesNoConnection() throws {
        let (result, objects) = try domains(["null-mx"])
        XCTAssertEqual(result.status, 0)
        XCTAssertEqual(objects.count, 1)
        XCTAssertTrue(objects[0]["target"] is NSNull)
        XCTAssertEqual(objects[0]["domain"] as? String, "null-mx.lab.example")
        XCTAssertEqual(findingIDs(objects[0]), ["dns.null_mx"])
        XCTAssertEqual(objects[0]["connections"] as? Int, 0)
    }

    /// An MX host without address beside a healthy one: an object of its own (address null, its mx, its
    /// finding), and the healthy host's object does not carry that finding.
    func testMXHostWithoutAddressIsAnObjectOfItsOwn() throws {
        let (result, objects) = try domains(["half-empty"])
        XCTAssertEqual(result.status, 2)
        XCTAssertEqual(objects.count, 2)
        XCTAssertEqual(objects.compactMap { field($0, "mx.host") as? String }, ["no-address-host.lab.example", "mx2.lab.example"], "in MX order")
        XCTAssertTrue(field(objects[0], "target.address") is NSNull)
        XCTAssertEqual(field(objects[0], "target.host") as? String, "no-address-host.lab.example")
        XCTAssertEqual(findingIDs(objects[0]), ["dns.mx_no_address"])
        XCTAssertEqual(objects[0]["connections"] as? Int, 0)
        XCTAssertEqual(findingIDs(objects[1]), [])
        XCTAssertEqual(objects[1]["status"] as? String, "ok")
        XCTAssertTrue(objects.allSatisfy { $0["input"] as? String == "half-empty.lab.example" })
    }

    func testNXDomainAndMXWithoutAddress() throws {
        let (result, objects) = try domains(["does-not-exist", "no-address"])
        XCTAssertEqual(result.status, 2)
        let byDomain = Dictionary(uniqueKeysWithValues: objects.compactMap { object in (object["domain"] as? String).map { ($0, object) } })
        XCTAssertEqual(findingIDs(byDomain["does-not-exist.lab.example"] ?? [:]), ["dns.nxdomain"])
        XCTAssertEqual(findingIDs(byDomain["no-address.lab.example"] ?? [:]), ["dns.mx_no_address"])
    }

    func testImplicitMXUsesTheDomainsOwnAddress() throws {
        let (result, objects) = try domains(["implicit"])
        XCTAssertEqual(result.status, 0, result.stdout)
        XCTAssertEqual(objects.count, 1)
        XCTAssertEqual(field(objects[0], "target.address") as? String, "127.0.0.5")
        XCTAssertEqual(findingIDs(objects[0]), ["dns.implicit_mx"])
        XCTAssertEqual(finding("dns.implicit_mx", in: objects[0])?["severity"] as? String, "info")
    }

    func testMXHostWithAAndAAAAGivesTwoEndpoints() throws {
        let (result, objects) = try domains(["dual"])
        XCTAssertEqual(result.status, 0, result.stdout)
        XCTAssertEqual(objects.compactMap { field($0, "target.address") as? String }.sorted(), ["127.0.0.4", "::1"])
        let onlySix = try domains(["dual"], ["-6"]).1
        XCTAssertEqual(onlySix.compactMap { field($0, "target.address") as? String }, ["::1"])
    }

    func testMXThatIsACNAMEIsAWarningAndStillChecked() throws {
        let (result, objects) = try domains(["cname"])
        XCTAssertEqual(result.status, 1)
        let alias = objects.first { field($0, "mx.host") as? String == "mx-alias.lab.example" }
        XCTAssertEqual(findingIDs(alias ?? [:]), ["dns.mx_cname"])
        XCTAssertEqual(objects.count, 2)
    }

    func testMoreThanTwentyMXAreCutWithAFinding() throws {
        let (result, objects) = try domains(["many-mx"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(objects.count, 20)
        XCTAssertTrue(objects.allSatisfy { findingIDs($0).contains("dns.skipped") })
        XCTAssertTrue((finding("dns.skipped", in: objects[0])?["message"] as? String ?? "").contains("mx21.many-mx.lab.example"))
    }

    func testResolverThatNeverAnswersIsATimeout() throws {
        // DANE stays on: its DNSSEC check of the resolver is bounded by --timeout too.
        let silent = try DNSLab.silentPort()
        let result = mxcheck(["smtp", "--mx", "--json", "--resolver", "127.0.0.1:\(silent)", "--timeout", "3", "two-mx.lab.example"], timeout: 60)
        XCTAssertEqual(result.status, 3)
        XCTAssertTrue(result.stdout.contains("\"dns.timeout\""), result.stdout)
        XCTAssertLessThan(result.seconds, 10 + Self.sanitizerSlack)
    }

    func testResolverServesPlainHostNamesToo() throws {
        let pool = try lab.case("mx_pool")
        let result = mxcheck(["smtp", "--json", "--resolver", resolver, "--ca-file", lab.rootCA, "mx1.lab.example:\(pool.port)"])
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        XCTAssertEqual(field(try object(result), "target.address") as? String, "127.0.0.2")
        let missing = mxcheck(["smtp", "--json", "--resolver", resolver, "nowhere.lab.example:\(pool.port)"])
        XCTAssertEqual(missing.status, 3)
    }

    func testAnAddressSeenThroughSeveralDomainsIsCheckedOnce() throws {
        // two-mx and cname share mx2.lab.example (127.0.0.3): four endpoint objects, three checks.
        let before = lab.postfixConnections(service: "mx_pool")
        let (_, objects) = try domains(["two-mx", "cname"], ["--no-injection-test"])
        XCTAssertEqual(objects.count, 4)
        // Postfix's log arrives a little later: wait (bounded) for the third connection, then make sure no fourth comes.
        let deadline = Date().addingTimeInterval(10)
        while lab.postfixConnections(service: "mx_pool") - before < 3 && Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        Thread.sleep(forTimeInterval: 1)
        XCTAssertEqual(lab.postfixConnections(service: "mx_pool") - before, 3, lab.postfixLogSummary())
    }

    func testBatchOfDomainsStreamsEveryResultAndExitsWithTheWorst() throws {
        let pool = try lab.case("mx_pool")
        let input = "# domains\ntwo-mx.lab.example\nnull-mx.lab.example\n\ndoes-not-exist.lab.example\nnot a domain!\ndual.lab.example\n"
        let result = mxcheck(["smtp", "--mx", "--no-dane", noPolicy, "--json", "--resolver", resolver, "--port", String(pool.port), "--ca-file", lab.rootCA, "--input", "-"], stdin: input)
        let objects = result.stdout.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        XCTAssertEqual(Set(objects.compactMap { $0["domain"] as? String }), ["two-mx.lab.example", "null-mx.lab.example", "does-not-exist.lab.example", "dual.lab.example"])
        XCTAssertEqual(objects.count, 2 + 1 + 1 + 1 + 2)
        let invalid = try XCTUnwrap(objects.first { $0["input"] as? String == "not a domain!" })
        XCTAssertEqual(findingIDs(invalid), ["input.invalid"])
        XCTAssertTrue(invalid["domain"] is NSNull)
        XCTAssertEqual(Set(objects.compactMap { $0["input"] as? String }).count, 5, "every object carries its input")
        XCTAssertEqual(result.status, 2)
    }
}
