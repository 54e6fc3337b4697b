import Foundation
import XCTest

/// The MTA-STS policy hosts of the lab: Tests/Lab/mtasts_server.py, a real HTTPS server on port 443 of the DNS lab's policy address (127.0.9.x) with
/// certificates from the Postfix lab's PKI, started once for the test run and stopped when the bundle finishes.
final class PolicyServer: @unchecked Sendable {
    let directory: String
    private let pid: Int32

    private static let lock = NSLock()
    nonisolated(unsafe) private static var started: Result<PolicyServer, DNSLab.LabError>?

    static func shared(pki: String, address: String) throws -> PolicyServer {
        try lock.withLock {
            if let started { return try started.get() }
            let result = Result { () throws(DNSLab.LabError) -> PolicyServer in try start(pki: pki, address: address) }
            started = result
            return try result.get()
        }
    }

    private static func start(pki: String, address: String) throws(DNSLab.LabError) -> PolicyServer {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mxcheck-mtasts-\(getpid())").path
        try? FileManager.default.removeItem(atPath: directory)
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let script = "\(Lab.packageRoot)/Tests/Lab/mtasts_server.py"
        // setsid and a pid file: the server outlives this shell, and only its own pid is ever signalled.
        let launch = Command.run(["/bin/bash", "-c", "setsid python3 \"$0\" \"$1\" \"$2\" \(address) 443 >\"$2/server.log\" 2>&1 </dev/null & echo $! >\"$2/server.pid\"",
                                  script, pki, directory], timeout: 10)
        guard launch.status == 0, let text = try? String(contentsOfFile: "\(directory)/server.pid", encoding: .utf8),
              let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
        else { throw DNSLab.LabError(description: "the policy server did not start: \(launch.stderr)") }
        let server = PolicyServer(directory: directory, pid: pid)
        BundleTeardown.register { server.stop() }
        // Certificate generation and the bind: bounded.
        for _ in 0..<600 {
            if FileManager.default.fileExists(atPath: "\(directory)/mtasts-ready") { return server }
            if kill(pid, 0) != 0 { break }
            usleep(100_000)
        }
        let log = (try? String(contentsOfFile: "\(directory)/server.log", encoding: .utf8)) ?? ""
        server.stop()
        throw DNSLab.LabError(description: "the policy server is not listening on \(address):443: \(log)")
    }

    private init(directory: String, pid: Int32) {
        self.directory = directory
        self.pid = pid
    }

    func stop() {
        kill(pid, SIGTERM)
    }
}

/// `--mx` with MTA-STS and TLS-RPT through the binary: the DNS lab's sts-*/rpt-* domains (Tests/Lab/mtasts_zone.sh),
/// whose MX hosts are the Postfix lab's mx_pool and whose policies the PolicyServer serves.
final class MTASTSCommandTests: EndToEndTestCase {
    var dns: DNSLab!

    var policyServer: PolicyServer!

    override func setUpWithError() throws {
        try super.setUpWithError()
        dns = try DNSLab.shared()
        policyServer = try PolicyServer.shared(pki: "\(lab.stateDirectory)/pki", address: dns.policyAddress)
    }

    /// How many policy requests the server has answered for one site so far.
    func fetches(of site: String) -> Int {
        let log = (try? String(contentsOfFile: "\(policyServer.directory)/requests.log", encoding: .utf8)) ?? ""
        return log.split(separator: "\n").filter { $0 == site }.count
    }

    func run(_ domain: String, _ extra: [String] = [], timeout: String = "10") throws -> (CommandResult, [[String: Any]]) {
        let pool = try lab.case("mx_pool")
        let arguments = ["smtp", "--mx", "--no-dane", "--json", "--resolver", "127.0.0.1:\(dns.port)", "--port", String(pool.port),
                         "--ca-file", lab.rootCA, "--timeout", timeout, "--no-injection-test"] + extra + ["\(domain).lab.example"]
        let result = mxcheck(arguments)
        let objects = result.stdout.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        XCTAssertFalse(objects.isEmpty, result.stdout + result.stderr)
        return (result, objects.sorted { (field($0, "mx.preference") as? Int ?? 0) < (field($1, "mx.preference") as? Int ?? 0) })
    }

    /// The ids beyond the domain-independent ones every endpoint of the pool has (none: the pool is healthy).
    func policyIDs(_ object: [String: Any]) -> [String] {
        findingIDs(object).filter { $0.hasPrefix("mtasts.") || $0.hasPrefix("tlsrpt.") }
    }

    func testEnforceWithEveryMXCovered() throws {
        let (result, objects) = try run("sts-enforce")
        XCTAssertEqual(result.status, 0, result.stdout)
        XCTAssertEqual(objects.count, 2)
        for object in objects {
            XCTAssertEqual(field(object, "mtaSts.status") as? String, "enforce")
            XCTAssertEqual(field(object, "mtaSts.mxMatch") as? Bool, true)
            // Two strings joined without a space; the unrelated TXT record beside it ignored.
            XCTAssertEqual(field(object, "mtaSts.record") as? String, "v=STSv1; id=20260101T000000")
            XCTAssertEqual(field(object, "mtaSts.id") as? String, "20260101T000000")
            XCTAssertEqual(field(object, "mtaSts.policy.mode") as? String, "enforce")
            XCTAssertEqual(field(object, "mtaSts.policy.maxAge") as? Int, 604800)
            XCTAssertEqual(field(object, "mtaSts.policy.mx") as? [String], ["mx1.lab.example", "mx2.lab.example"])
            XCTAssertEqual(field(object, "mtaSts.fetch.httpStatus") as? Int, 200)
            XCTAssertEqual(field(object, "mtaSts.fetch.contentType") as? String, "text/plain; charset=utf-8")
            XCTAssertEqual(field(object, "mtaSts.policyUrl") as? String, "https://mta-sts.sts-enforce.lab.example/.well-known/mta-sts.txt")
            XCTAssertEqual(field(object, "tlsRpt.status") as? String, "valid")
            XCTAssertEqual(field(object, "tlsRpt.rua") as? [String], ["mailto:tls@sts-enforce.lab.example"])
            XCTAssertEqual(policyIDs(object), [])
            XCTAssertEqual(field(object, "smtp.requireTLS") as? Bool, false, "Postfix has no REQUIRETLS")
        }
        let text = mxcheck(["smtp", "--mx", "--no-dane", "--long", "--resolver", "127.0.0.1:\(dns.port)", "--port", String(try lab.case("mx_pool").port),
                            "--ca-file", lab.rootCA, "--no-injection-test", "sts-enforce.lab.example"])
        XCTAssertEqual(text.status, 0)
        let lines = text.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines[1], "  policy   MTA-STS enforce (id 20260101T000000, max_age 7 d), TLS-RPT mailto:tls@sts-enforce.lab.example", text.stdout)
        XCTAssertTrue(text.stdout.contains("mta-sts  MX mx2.lab.example covered by the enforce policy"), text.stdout)
        XCTAssertTrue(text.stdout.contains("REQUIRETLS not advertised"), text.stdout)
    }

    /// One policy fetch per domain per run, none per endpoint: a two-MX domain given twice in one run is fetched once.
    func testOneFetchPerDomainPerRun() throws {
        let before = fetches(of: "sts-enforce")
        let (result, objects) = try run("sts-enforce", ["sts-enforce.lab.example"])
        XCTAssertEqual(result.status, 0, result.stdout)
        XCTAssertEqual(objects.count, 2, "the domain once, its two MX endpoints")
        XCTAssertEqual(fetches(of: "sts-enforce") - before, 1)
        let skipped = fetches(of: "sts-enforce")
        _ = try run("sts-enforce", ["--no-mta-sts"])
        XCTAssertEqual(fetches(of: "sts-enforce"), skipped, "--no-mta-sts fetches nothing")
    }

    func testNoMTASTSSkipsTheStep() throws {
        let (result, objects) = try run("sts-uncovered", ["--no-mta-sts"])
        XCTAssertEqual(result.status, 0, result.stdout)
        XCTAssertTrue(objects.allSatisfy { $0["mtaSts"] is NSNull && $0["tlsRpt"] is NSNull })
        XCTAssertTrue(objects.allSatisfy { policyIDs($0).isEmpty })
    }

    func testTestingModeAndAbsentTLSRPT() throws {
        let (result, objects) = try run("sts-testing")
        XCTAssertEqual(result.status, 1, result.stdout)
        XCTAssertEqual(field(objects[0], "mtaSts.status") as? String, "testing")
        XCTAssertEqual(policyIDs(objects[0]), ["mtasts.testing", "tlsrpt.absent"])
        XCTAssertEqual(finding("tlsrpt.absent", in: objects[0])?["severity"] as? String, "warning", "a warning beside MTA-STS")
        XCTAssertEqual(field(objects[0], "tlsRpt.status") as? String, "absent")
    }

    func testModeNone() throws {
        let (result, objects) = try run("sts-none")
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(field(objects[0], "mtaSts.status") as? String, "none")
        XCTAssertTrue(field(objects[0], "mtaSts.mxMatch") is NSNull)
        XCTAssertEqual(policyIDs(objects[0]), ["mtasts.mode_none"])
    }

    func testAnMXNotCovered() throws {
        let (result, objects) = try run("sts-uncovered")
        XCTAssertEqual(result.status, 2)
        XCTAssertEqual(field(objects[0], "mtaSts.mxMatch") as? Bool, true)
        XCTAssertEqual(policyIDs(objects[0]), [])
        XCTAssertEqual(field(objects[1], "mtaSts.mxMatch") as? Bool, false)
        let uncovered = try XCTUnwrap(finding("mtasts.mx_not_covered", in: objects[1]))
        XCTAssertEqual(uncovered["severity"] as? String, "critical")
        XCTAssertTrue((uncovered["fix"] as? String ?? "").contains("'mx: mx2.lab.example'"))
    }

    func testWildcardIsOneLabelNotTwo() throws {
        let (two, twoObjects) = try run("sts-wild2")
        XCTAssertEqual(two.status, 2, "*.example does not cover mx1.lab.example")
        XCTAssertEqual(field(twoObjects[0], "mtaSts.mxMatch") as? Bool, false)
        XCTAssertEqual(policyIDs(twoObjects[0]), ["mtasts.mx_not_covered"])
        let (one, oneObjects) = try run("sts-wild1")
        XCTAssertEqual(one.status, 0, "*.lab.example covers mx1.lab.example")
        XCTAssertEqual(field(oneObjects[0], "mtaSts.mxMatch") as? Bool, true)
    }

    func testFetchFailures() throws {
        let (redirect, redirectObjects) = try run("sts-redirect")
        XCTAssertEqual(redirect.status, 2)
        XCTAssertEqual(field(redirectObjects[0], "mtaSts.status") as? String, "error")
        XCTAssertEqual(field(redirectObjects[0], "mtaSts.fetch.httpStatus") as? Int, 301)
        XCTAssertEqual(policyIDs(redirectObjects[0]), ["mtasts.policy_fetch_failed"])
        XCTAssertTrue((finding("mtasts.policy_fetch_failed", in: redirectObjects[0])?["message"] as? String ?? "").contains("https://www.sts-redirect.lab.example/mta-sts.txt"))

        let (notFound, notFoundObjects) = try run("sts-404")
        XCTAssertEqual(notFound.status, 2)
        XCTAssertEqual(field(notFoundObjects[0], "mtaSts.fetch.httpStatus") as? Int, 404)
        XCTAssertEqual(policyIDs(notFoundObjects[0]), ["mtasts.policy_fetch_failed"])

        let (big, bigObjects) = try run("sts-big")
        XCTAssertEqual(big.status, 2)
        XCTAssertEqual(policyIDs(bigObjects[0]), ["mtasts.policy_fetch_failed"])
        XCTAssertTrue((field(bigObjects[0], "mtaSts.fetch.error") as? String ?? "").contains("64 KiB"))

        let (refused, refusedObjects) = try run("sts-refused")
        XCTAssertEqual(refused.status, 2)
        XCTAssertTrue((field(refusedObjects[0], "mtaSts.fetch.error") as? String ?? "").contains("cannot connect"))

        let (noColon, noColonObjects) = try run("sts-nocolon")
        XCTAssertEqual(noColon.status, 2)
        XCTAssertTrue((field(noColonObjects[0], "mtaSts.fetch.error") as? String ?? "").contains("without a colon"))

        let (signed, signedObjects) = try run("sts-signedchunk")
        XCTAssertEqual(signed.status, 2, signed.stdout)
        XCTAssertEqual(policyIDs(signedObjects[0]), ["mtasts.policy_fetch_failed"])
        XCTAssertTrue((field(signedObjects[0], "mtaSts.fetch.error") as? String ?? "").contains("malformed chunk"))
    }

    func testServersThatDripOrNeverAnswerEndWithinTheTimeout() throws {
        for site in ["sts-drip", "sts-silent"] {
            let started = Date()
            let (result, objects) = try run(site, timeout: "3")
            XCTAssertLessThan(Date().timeIntervalSince(started), 8 + Self.sanitizerSlack, site)
            XCTAssertEqual(result.status, 2, site)
            XCTAssertEqual(policyIDs(objects[0]), ["mtasts.policy_fetch_failed"], site)
            XCTAssertTrue((field(objects[0], "mtaSts.fetch.error") as? String ?? "").contains("time bound"), site)
        }
    }

    func testEveryPolicyCertificateDefect() throws {
        for site in ["sts-wrongname", "sts-partial", "sts-unknownca", "sts-expired", "sts-cnonly"] {
            let (result, objects) = try run(site)
            XCTAssertEqual(result.status, 2, site)
            XCTAssertEqual(field(objects[0], "mtaSts.status") as? String, "error", site)
            XCTAssertEqual(policyIDs(objects[0]), ["mtasts.policy_cert_invalid"], site)
            XCTAssertTrue((finding("mtasts.policy_cert_invalid", in: objects[0])?["fix"] as? String ?? "").contains("DNS:mta-sts.\(site).lab.example"), site)
        }
    }

    func testPolicyTextDefects() throws {
        let (maxAge, maxAgeObjects) = try run("sts-maxage")
        XCTAssertEqual(maxAge.status, 2)
        XCTAssertEqual(field(maxAgeObjects[0], "mtaSts.status") as? String, "invalid")
        XCTAssertEqual(policyIDs(maxAgeObjects[0]), ["mtasts.policy_invalid"])

        let (short, shortObjects) = try run("sts-short")
        XCTAssertEqual(short.status, 1)
        XCTAssertEqual(policyIDs(shortObjects[0]), ["mtasts.max_age_short"])

        let (noMX, noMXObjects) = try run("sts-nomx")
        XCTAssertEqual(noMX.status, 2)
        XCTAssertTrue((finding("mtasts.policy_invalid", in: noMXObjects[0])?["fix"] as? String ?? "").contains("'mx: mx1.lab.example'"))

        let (html, htmlObjects) = try run("sts-html")
        XCTAssertEqual(html.status, 2, "text/html is critical under enforce")
        XCTAssertEqual(policyIDs(htmlObjects[0]), ["mtasts.content_type"])
        XCTAssertEqual(field(htmlObjects[0], "mtaSts.status") as? String, "enforce", "still evaluated")

        let (duplicate, duplicateObjects) = try run("sts-dupkeys")
        XCTAssertEqual(duplicate.status, 1)
        XCTAssertEqual(field(duplicateObjects[0], "mtaSts.policy.mode") as? String, "testing", "the first occurrence wins")
        XCTAssertEqual(field(duplicateObjects[0], "mtaSts.policy.maxAge") as? Int, 604800)

        let (chunked, chunkedObjects) = try run("sts-chunked")
        XCTAssertEqual(chunked.status, 0, chunked.stdout)
        XCTAssertEqual(field(chunkedObjects[0], "mtaSts.status") as? String, "enforce")

        let (garbage, garbageObjects) = try run("sts-garbage")
        XCTAssertEqual(garbage.status, 2)
        XCTAssertEqual(policyIDs(garbageObjects[0]), ["mtasts.policy_invalid"])
    }

    func testRecordDefects() throws {
        for site in ["sts-tworecords", "sts-badid"] {
            let (result, objects) = try run(site)
            XCTAssertEqual(result.status, 2, site)
            XCTAssertEqual(field(objects[0], "mtaSts.status") as? String, "invalid", site)
            XCTAssertTrue(field(objects[0], "mtaSts.fetch") is NSNull, "no fetch for an invalid record")
            XCTAssertEqual(policyIDs(objects[0]), ["mtasts.record_invalid"], site)
        }
    }

    func testTLSRPTRecords() throws {
        let (two, twoObjects) = try run("rpt-two-uris")
        XCTAssertEqual(field(twoObjects[0], "tlsRpt.rua") as? [String], ["mailto:tls@lab.example", "https://reports.lab.example/v1/"])
        XCTAssertEqual(field(twoObjects[0], "mtaSts.status") as? String, "absent")
        XCTAssertEqual(policyIDs(twoObjects[0]), ["mtasts.absent"])
        XCTAssertEqual(two.status, 0, "mtasts.absent is info")
        for site in ["rpt-norua", "rpt-http", "rpt-double"] {
            let (result, objects) = try run(site)
            XCTAssertEqual(result.status, 1, site)
            XCTAssertEqual(field(objects[0], "tlsRpt.status") as? String, "invalid", site)
            XCTAssertEqual(policyIDs(objects[0]), ["mtasts.absent", "tlsrpt.invalid"], site)
        }
        // No policy of any kind: both absent, info only.
        let (bare, bareObjects) = try run("two-mx")
        XCTAssertEqual(bare.status, 0)
        XCTAssertEqual(policyIDs(bareObjects[0]), ["mtasts.absent", "tlsrpt.absent"])
        XCTAssertEqual(finding("tlsrpt.absent", in: bareObjects[0])?["severity"] as? String, "info")
    }

    /// Under enforce the PKIX findings stay critical and say that MTA-STS senders will not deliver.
    func testEnforceKeepsACertificateNameMismatchCritical() throws {
        let (result, objects) = try run("sts-certname")
        XCTAssertEqual(result.status, 2)
        XCTAssertEqual(field(objects[0], "mtaSts.mxMatch") as? Bool, true)
        let mismatch = try XCTUnwrap(finding("cert.hostname_mismatch", in: objects[0]), "\(findingIDs(objects[0]))")
        XCTAssertEqual(mismatch["severity"] as? String, "critical")
        XCTAssertTrue((mismatch["message"] as? String ?? "").contains("MTA-STS senders will not deliver"), "\(mismatch)")
        let (_, without) = try run("sts-certname", ["--no-mta-sts"])
        XCTAssertFalse((finding("cert.hostname_mismatch", in: without[0])?["message"] as? String ?? "").contains("MTA-STS"))
    }

    /// REQUIRETLS counts only in the EHLO reply inside TLS, for any STARTTLS check (not only --mx): the lab's
    /// Postfix has none, so oddsmtp.py's scripted modes show it.
    func testRequireTLSInsideTLSBeforeTLSOnlyAndNotAtAll() throws {
        for (mode, expected, text) in [("requiretls_tls", true, "REQUIRETLS advertised inside TLS"),
                                       ("requiretls_plain_only", false, "REQUIRETLS advertised before TLS only, which does not count"),
                                       ("starttls_ok", false, "REQUIRETLS not advertised")] {
            let server = try lab.case(mode)
            let json = mxcheck(["smtp", "--json", "--no-injection-test", "--ca-file", lab.rootCA, "--servername", "mx.lab.example", server.target])
            let object = try XCTUnwrap(try? JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any], json.stdout + json.stderr)
            XCTAssertEqual(field(object, "smtp.requireTLS") as? Bool, expected, mode)
            XCTAssertEqual((field(object, "smtp.ehloCapabilities") as? [String])?.contains("REQUIRETLS"), mode == "requiretls_plain_only", mode)
            XCTAssertTrue(object["mtaSts"] is NSNull, "MTA-STS is --mx only")
            let plain = mxcheck(["smtp", "--no-injection-test", "--ca-file", lab.rootCA, "--servername", "mx.lab.example", server.target])
            XCTAssertTrue(plain.stdout.contains(text), mode + ": " + plain.stdout)
        }
    }

    func testOutputMatchesTheSchema() throws {
        let (result, _) = try run("sts-uncovered")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("mtasts-\(getpid()).jsonl").path
        try result.stdout.write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let validation = Command.run(["/usr/bin/env", "python3", "\(Lab.packageRoot)/Tests/Lab/validate_schema.py", "\(Lab.packageRoot)/docs/schema.json", file])
        XCTAssertEqual(validation.status, 0, validation.stdout + validation.stderr)
    }
}
