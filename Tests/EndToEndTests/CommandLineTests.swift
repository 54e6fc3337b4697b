import Foundation
import XCTest

/// The command line as a user meets it: help, errors, text output, transcript, exit codes.
final class CommandLineTests: EndToEndTestCase {
    func testHelpAndVersion() {
        let help = mxcheck(["help", "smtp"])
        XCTAssertEqual(help.status, 0)
        for option in ["--servername", "--ehlo", "--ca-file", "--warn-days", "--crit-days", "--timeout", "--json", "--no-color", "--tls"] {
            XCTAssertTrue(help.stdout.contains(option), option)
        }
        let version = mxcheck(["--version"])
        XCTAssertEqual(version.status, 0)
        XCTAssertFalse(version.stdout.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty)
        // `--version` alone is answered before the parser: the same version the JSON objects carry, one line.
        XCTAssertEqual(version.stdout.filter { $0 == "\n" }.count, 1, version.stdout)
        let object = try? object(mxcheck(["smtp", "--json", "bad host!"]))
        XCTAssertEqual(object?["mxcheckVersion"] as? String, version.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        // With anything beside it, the parser answers as before.
        XCTAssertEqual(mxcheck(["--version", "--help"]).status, 0)
    }

    func testUsageErrorsExitUnknownWithoutAStackTrace() {
        for arguments in [["smtp"], ["smtp", "--timeout", "0", "x.example"], ["smtp", "--tls", "sometimes", "x.example"], ["smtp", "-4", "-6", "x.example"],
                          ["smtp", "--shard", "5/4", "x.example"], ["smtp", "--shard", "a/b", "x.example"], ["smtp", "--resume", "x.jsonl", "x.example"],
                          ["smtp", "--concurrency", "10001", "x.example"], ["smtp", "--deadline", "0", "x.example"], ["frobnicate"]] {
            let result = mxcheck(arguments)
            XCTAssertEqual(result.status, 3, arguments.joined(separator: " "))
            XCTAssertTrue(result.stdout.isEmpty, arguments.joined(separator: " "))
            XCTAssertFalse(result.stderr.isEmpty, arguments.joined(separator: " "))
            XCTAssertFalse(result.stderr.contains("Fatal error"), arguments.joined(separator: " "))
        }
    }

    /// A target that cannot be parsed is answered like an input line: an object with input.invalid, not a usage error.
    func testUnparsableTargetsAreAnsweredWithAnObject() throws {
        for text in ["bad host!", "[::1", "mx.example.com:99999"] {
            let result = mxcheck(["smtp", "--json", text])
            XCTAssertEqual(result.status, 3, text)
            let object = try object(result)
            XCTAssertEqual(object["input"] as? String, text)
            XCTAssertTrue(object["target"] is NSNull, text)
            XCTAssertTrue(object["score"] is NSNull, "no score for a check that was not made")
            XCTAssertEqual(object["status"] as? String, "unknown")
            XCTAssertEqual(findingIDs(object), ["input.invalid"], text)
            XCTAssertEqual(object["connections"] as? Int, 0)
        }
        let text = mxcheck(["smtp", "mx.example.com:99999"])
        XCTAssertTrue(text.stdout.contains("input.invalid: 'mx.example.com:99999' is not a target: invalid port '99999'"), text.stdout)
        XCTAssertTrue(text.stdout.contains("score -"), text.stdout)
    }

    /// A host that does not resolve (asked of the lab's DNS server) is one object with address null, and exit 3.
    func testUnresolvableHostIsAnsweredUnknown() throws {
        let dns = try DNSLab.shared()
        let result = mxcheck(["smtp", "--json", "--resolver", "127.0.0.1:\(dns.port)", "--timeout", "10", "no-such-host.lab.example"])
        XCTAssertEqual(result.status, 3)
        let object = try object(result)
        XCTAssertEqual(object["input"] as? String, "no-such-host.lab.example")
        XCTAssertEqual(field(object, "target.host") as? String, "no-such-host.lab.example")
        XCTAssertTrue(field(object, "target.address") is NSNull)
        XCTAssertEqual(field(object, "target.port") as? Int, 25)
        XCTAssertEqual(findingIDs(object), ["dns.host_unresolved"])
        XCTAssertEqual(finding("dns.host_unresolved", in: object)?["severity"] as? String, "unknown")
        XCTAssertTrue((finding("dns.host_unresolved", in: object)?["message"] as? String ?? "").contains("no such host"), result.stdout)
        XCTAssertTrue(object["score"] is NSNull)
    }

    func testUnreadableCAFileIsAUsageError() {
        let result = mxcheck(["smtp", "--ca-file", "/nonexistent/ca.pem", "127.0.0.1:25"])
        XCTAssertEqual(result.status, 3)
        XCTAssertTrue(result.stderr.contains("/nonexistent/ca.pem"))
    }

    /// A --ca-file with no PEM certificate in it is refused before any connection; one whose PEM block does
    /// not decode is parsed during the first handshake, so the run goes on, says so on stderr and counts as
    /// UNKNOWN at least (CRITICAL here: without the lab's root the chain is untrusted).
    func testCAFileThatIsNoPEMOrDoesNotParse() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mxcheck-cafile-e2e-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let text = directory.appendingPathComponent("notes.txt")
        try Data("not a certificate\n".utf8).write(to: text)
        let refused = mxcheck(["smtp", "--ca-file", text.path, "127.0.0.1:25"])
        XCTAssertEqual(refused.status, 3)
        XCTAssertTrue(refused.stderr.contains(text.path) && refused.stderr.contains("no PEM certificate"), refused.stderr)
        XCTAssertEqual(refused.stdout, "")

        let broken = directory.appendingPathComponent("broken.pem")
        try Data("-----BEGIN CERTIFICATE-----\nthis is not base64 !!\n-----END CERTIFICATE-----\n".utf8).write(to: broken)
        let target = try lab.case("valid")
        let result = mxcheck(["smtp", "--json", "--ca-file", broken.path, "--servername", lab.serverName, target.target])
        XCTAssertEqual(result.status, 2, result.stderr)
        XCTAssertTrue(result.stderr.contains("cannot load trust anchors from '\(broken.path)'"), result.stderr)
        XCTAssertTrue(result.stderr.contains("verified without its anchors"), result.stderr)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(field(object, "certificate.trusted") as? Bool, false, result.stdout)
    }

    func testTextOutputReadsWellAndHasNoColourOffATerminal() throws {
        let target = try lab.case("expiring_warn")
        let result = mxcheck(["smtp", "--ca-file", lab.rootCA, target.target])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stdout.contains("WARNING"))
        XCTAssertTrue(result.stdout.contains("cert.expiring"))
        XCTAssertTrue(result.stdout.contains("fix: "))
        XCTAssertTrue(result.stdout.contains("100 -10 cert.expiring = 90"), result.stdout)
        XCTAssertFalse(result.stdout.contains("\u{1B}["), "no colour when stdout is not a terminal")
    }

    func testColourOnATerminalUnlessNoColor() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/script") else { throw XCTSkip("script(1) from util-linux is needed for a pseudo-terminal") }
        let target = try lab.case("valid")
        let command = "\(Self.binary) smtp --ca-file \(lab.rootCA) \(target.target)"
        let coloured = Command.run(["/usr/bin/script", "-qec", command, "/dev/null"], environment: plainEnvironment(["TERM": "xterm"]))
        XCTAssertTrue(coloured.stdout.contains("\u{1B}["), "colour on a terminal")
        let noColor = Command.run(["/usr/bin/script", "-qec", command, "/dev/null"], environment: plainEnvironment(["TERM": "xterm", "NO_COLOR": "1"]))
        XCTAssertFalse(noColor.stdout.contains("\u{1B}["), "NO_COLOR honoured")
        let flag = Command.run(["/usr/bin/script", "-qec", command + " --no-color", "/dev/null"], environment: plainEnvironment(["TERM": "xterm"]))
        XCTAssertFalse(flag.stdout.contains("\u{1B}["), "--no-color honoured")
        XCTAssertTrue(flag.stdout.contains("OK"))
    }

    func testVerboseTranscriptOnStderr() throws {
        let target = try lab.case("valid")
        let result = mxcheck(["smtp", "-v", "--json", "--ehlo", "client.lab.example", "--ca-file", lab.rootCA, target.target])
        XCTAssertEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("S: 220 "))
        XCTAssertTrue(result.stderr.contains("C: EHLO client.lab.example"))
        XCTAssertTrue(result.stderr.contains("C: STARTTLS"))
        XCTAssertTrue(result.stderr.contains("C: QUIT"))
        XCTAssertEqual(result.stdout.split(separator: "\n").count, 1, "the transcript stays off stdout")

        // Every line names its connection; the main dialog reads in order, whole replies together.
        let lines = result.stderr.split(separator: "\n").map(String.init)
        XCTAssertFalse(lines.isEmpty)
        for line in lines {
            XCTAssertNotNil(line.wholeMatch(of: /\[(1|2 injection|probe [0-9]+)\] (C|S): .*/), "not a transcript line: \(line)")
        }
        let main = lines.filter { $0.hasPrefix("[1] ") }.map { String($0.dropFirst(4)) }
        let steps = ["S: 220 ", "C: EHLO client.lab.example", "S: 250-", "C: STARTTLS", "S: 220 ", "C: (TLS handshake", "S: (TLS established", "C: EHLO client.lab.example", "C: QUIT", "S: 221 "]
        var index = 0
        for line in main where index < steps.count && line.hasPrefix(steps[index]) { index += 1 }
        XCTAssertEqual(index, steps.count, "the main dialog in order: \(main)")
        // A multi-line reply is never split by another connection's line.
        let ehloReply = try XCTUnwrap(lines.firstIndex { $0.hasPrefix("[1] S: 250-") })
        let ehloEnd = try XCTUnwrap(lines[ehloReply...].firstIndex { $0.hasPrefix("[1] S: 250 ") })
        XCTAssertTrue(lines[ehloReply...ehloEnd].allSatisfy { $0.hasPrefix("[1] S: 250") })
        XCTAssertTrue(lines.contains { $0.hasPrefix("[2 injection] C: STARTTLS") })

        let probes = mxcheck(["smtp", "-v", "--json", "--protocols", "--ca-file", lab.rootCA, target.target])
        let probeLines = probes.stderr.split(separator: "\n").filter { $0.hasPrefix("[probe ") }
        XCTAssertGreaterThanOrEqual(probeLines.count, 4, probes.stderr)
        XCTAssertTrue(probeLines.allSatisfy { $0.contains("C: ") && $0.contains("hello") && $0.contains("; S: ") }, "one line each: what was offered, what came back")
    }

    func testSeveralTargetsExitWithTheWorstStatus() throws {
        let ok = try lab.case("valid").target
        let warn = try lab.case("expiring_warn").target
        let unknown = try lab.case("greet_421").target
        let critical = try lab.case("no_starttls").target
        let warnAndUnknown = mxcheck(["smtp", "--json", "--ca-file", lab.rootCA, ok, warn, unknown])
        XCTAssertEqual(warnAndUnknown.status, 3)
        XCTAssertEqual(warnAndUnknown.stdout.split(separator: "\n").count, 3, "one JSON line per endpoint")
        let all = mxcheck(["smtp", "--json", "--ca-file", lab.rootCA, ok, warn, unknown, critical])
        XCTAssertEqual(all.status, 2, "CRITICAL outranks UNKNOWN")
    }

    /// Runs mxcheck in a private mount namespace whose /etc/hosts maps `dual.lab.example` to 127.0.0.1 and ::1,
    /// so the system resolver (getaddrinfo) really returns an A and an AAAA address.
    private func mxcheckWithHosts(_ arguments: [String]) throws -> CommandResult {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare") else { throw XCTSkip("unshare(1) is needed") }
        let hosts = FileManager.default.temporaryDirectory.appendingPathComponent("mxcheck-hosts-\(getpid())")
        try "127.0.0.1 localhost\n127.0.0.1 dual.lab.example\n::1 dual.lab.example\n127.0.0.1 elsewhere.example.net\n".write(to: hosts, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: hosts) }
        let quoted = ([Self.binary] + arguments).map { "'\($0)'" }.joined(separator: " ")
        return Command.run(["/usr/bin/unshare", "-m", "/bin/sh", "-c", "mount --bind \(hosts.path) /etc/hosts && exec \(quoted)"], environment: plainEnvironment())
    }

    func testHostNameIsResolvedAndEveryAddressChecked() throws {
        let dual = try lab.case("dual")
        let result = try mxcheckWithHosts(["smtp", "--json", "--ca-file", lab.rootCA, "--servername", lab.serverName, "dual.lab.example:\(dual.port)"])
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        let objects = result.stdout.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        XCTAssertEqual(objects.compactMap { field($0, "target.address") as? String }.sorted(), ["127.0.0.1", "::1"], "one result per address")
        XCTAssertEqual(objects.compactMap { field($0, "target.host") as? String }, ["dual.lab.example", "dual.lab.example"])

        let onlySix = try mxcheckWithHosts(["smtp", "--json", "-6", "--ca-file", lab.rootCA, "--servername", lab.serverName, "dual.lab.example:\(dual.port)"])
        XCTAssertEqual(onlySix.status, 0, onlySix.stdout + onlySix.stderr)
        XCTAssertEqual(onlySix.stdout.split(separator: "\n").count, 1)
        XCTAssertTrue(onlySix.stdout.contains("\"address\":\"::1\""))

        let onlyFour = try mxcheckWithHosts(["smtp", "--json", "-4", "--ca-file", lab.rootCA, "--servername", lab.serverName, "dual.lab.example:\(dual.port)"])
        XCTAssertEqual(onlyFour.status, 0)
        XCTAssertTrue(onlyFour.stdout.contains("\"address\":\"127.0.0.1\""))
    }

    func testHostNameIsTheReferenceIdentity() throws {
        // Without --servername the certificate is checked against the name as typed; the lab's certificate
        // covers *.lab.example, not elsewhere.example.net.
        let dual = try lab.case("dual")
        let result = try mxcheckWithHosts(["smtp", "--json", "-4", "--ca-file", lab.rootCA, "elsewhere.example.net:\(dual.port)"])
        XCTAssertEqual(result.status, 2)
        XCTAssertTrue(result.stdout.contains("cert.hostname_mismatch"))
        XCTAssertTrue(result.stdout.contains("'elsewhere.example.net' matches none"), result.stdout)
        let matching = try mxcheckWithHosts(["smtp", "--json", "-4", "--ca-file", lab.rootCA, "dual.lab.example:\(dual.port)"])
        XCTAssertEqual(matching.status, 0, "dual.lab.example matches *.lab.example: \(matching.stdout)")
    }

    func testNoAddressInTheFamilyIsUnknown() throws {
        let result = mxcheck(["smtp", "--json", "-6", "127.0.0.1:25"])
        XCTAssertEqual(result.status, 3)
        let object = try object(result)
        XCTAssertEqual(findingIDs(object), ["dns.host_unresolved"])
        XCTAssertTrue(result.stdout.contains("no address in the requested family"), result.stdout)
    }

    func testInputFileMixingGoodBrokenAndBadLines() throws {
        let valid = try lab.case("valid").target
        let expiring = try lab.case("expiring_warn").target
        let broken = try lab.case("no_starttls").target
        let dns = try DNSLab.shared()
        let text = "# a batch\n\(valid)\n\nbad host!\n\(expiring)   # expires soon\nno-such-host.lab.example\n\(broken)\n\(valid)\n"
        let result = mxcheck(["smtp", "--json", "--resolver", "127.0.0.1:\(dns.port)", "--ca-file", lab.rootCA, "--timeout", "10", "--input", "-"], stdin: text)
        let objects = result.stdout.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        XCTAssertEqual(objects.count, 5, "one object per target, the repeated one answered once: \(result.stdout)")
        XCTAssertEqual(objects.compactMap { $0["input"] as? String }.sorted(), [valid, expiring, broken, "bad host!", "no-such-host.lab.example"].sorted())
        XCTAssertEqual(Set(objects.compactMap { $0["status"] as? String }), ["ok", "warning", "critical", "unknown"])
        let bad = try XCTUnwrap(objects.first { $0["input"] as? String == "bad host!" })
        XCTAssertEqual(findingIDs(bad), ["input.invalid"])
        XCTAssertTrue((finding("input.invalid", in: bad)?["message"] as? String ?? "").contains("invalid host 'bad host!'"))
        XCTAssertEqual(result.stderr, "", "results go to stdout, nothing to stderr")
        XCTAssertEqual(result.status, 2, "CRITICAL outranks the UNKNOWN of the bad lines")

        let onlyWarnings = mxcheck(["smtp", "--json", "--ca-file", lab.rootCA, "--input", "-"], stdin: "\(expiring)\nbad host!\n")
        XCTAssertEqual(onlyWarnings.status, 3, "UNKNOWN outranks WARNING")
        XCTAssertEqual(onlyWarnings.stdout.split(separator: "\n").count, 2)
    }

    func testMissingInputFileIsUnknown() {
        let result = mxcheck(["smtp", "--input", "/nonexistent/targets.txt"])
        XCTAssertEqual(result.status, 3)
        XCTAssertTrue(result.stderr.contains("no such file"))
    }

    func testProgressAndSummaryOnATerminalOnly() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/script") else { throw XCTSkip("script(1) from util-linux is needed for a pseudo-terminal") }
        let targets = try ["valid", "expired", "greet_421"].map { try lab.case($0).target }.joined(separator: " ")
        let command = "\(Self.binary) smtp --json --ca-file \(lab.rootCA) \(targets) >/dev/null"
        let onTerminal = Command.run(["/usr/bin/script", "-qec", command, "/dev/null"], environment: plainEnvironment(["TERM": "xterm"]))
        XCTAssertTrue(onTerminal.stdout.contains("[3 done] 2 failed"), onTerminal.stdout)
        XCTAssertTrue(onTerminal.stdout.contains("3 targets, 3 results: 1 ok, 0 warning, 1 critical, 1 unknown"), onTerminal.stdout)
        let piped = mxcheck(["smtp", "--json", "--ca-file", lab.rootCA] + targets.split(separator: " ").map(String.init))
        XCTAssertEqual(piped.stderr, "", "no progress or summary when stderr is not a terminal")
        XCTAssertEqual(piped.stdout.split(separator: "\n").count, 3, "nothing but results on stdout")
    }

    /// The most connections the scripted server saw open at once while mxcheck checked two endpoints of its
    /// address (127.0.0.1 named two ways, so they are two checks).
    private func peakConcurrency(_ extra: [String]) throws -> Int {
        let target = try lab.case("count_concurrent")
        let before = lab.oddServerCommands().count
        let result = try mxcheckWithHosts(["smtp", "--json", "-4", "--timeout", "10"] + extra + ["127.0.0.1:\(target.port)", "elsewhere.example.net:\(target.port)"])
        XCTAssertEqual(result.stdout.split(separator: "\n").count, 2, result.stderr)
        let marks = lab.oddServerCommands().dropFirst(before).filter { $0.0 == "count_concurrent" && $0.1.hasPrefix("!concurrent ") }
        XCTAssertFalse(marks.isEmpty)
        return marks.compactMap { Int($0.1.dropFirst("!concurrent ".count)) }.max() ?? 0
    }

    func testPerHostLimitHoldsAcrossEndpointsOfOneAddress() throws {
        XCTAssertEqual(try peakConcurrency(["--per-host", "1"]), 1)
        XCTAssertLessThanOrEqual(try peakConcurrency([]), 2, "default --per-host 2, though each endpoint makes two connections")
    }
}
