import Foundation
import XCTest

/// `--format nagios` and `--format prometheus` through the binary against the lab, their values checked
/// against the JSON of the same endpoints.
final class MonitoringOutputTests: EndToEndTestCase {
    /// One perfdata item, `'label'=value[UOM];[warn];[crit];[min];[max]`.
    struct PerfItem {
        var label: String
        var value: String
        var unit: String
        var thresholds: [String]
    }

    /// The plugin guidelines' grammar, strictly: one status line `SMTP TLS <STATUS> - <text> | <perfdata>`,
    /// then long output lines without `|`.
    func parseNagios(_ output: String, file: StaticString = #filePath, line: UInt = #line) -> (status: String, items: [PerfItem], long: [String]) {
        let lines = output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let first = lines.first, let statusMatch = first.wholeMatch(of: /SMTP TLS (OK|WARNING|CRITICAL|UNKNOWN) - ([^|]+) \| (.+)/) else {
            XCTFail("not a plugin status line: \(output)", file: file, line: line)
            return ("", [], [])
        }
        var items: [PerfItem] = []
        var rest = Substring(statusMatch.3)
        let item = /'([^'=]+)'=(-?[0-9]+(?:\.[0-9]+)?|U)([a-zA-Z%]*)((?:;[^; ]*){0,4})(?: |$)/
        while !rest.isEmpty {
            guard let match = rest.prefixMatch(of: item) else {
                XCTFail("malformed perfdata at: \(rest)", file: file, line: line)
                break
            }
            items.append(PerfItem(label: String(match.1), value: String(match.2), unit: String(match.3),
                                  thresholds: match.4.split(separator: ";", omittingEmptySubsequences: false).dropFirst().map(String.init)))
            rest = rest[match.range.upperBound...]
        }
        let long = lines.dropFirst().filter { !$0.isEmpty }
        XCTAssertFalse(long.contains { $0.contains("|") }, "no | in long output", file: file, line: line)
        return (String(statusMatch.1), items, Array(long))
    }

    func json(_ targets: [String]) -> [[String: Any]] {
        mxcheck(["smtp", "--json", "--ca-file", lab.rootCA, "--timeout", "10"] + targets).stdout.split(separator: "\n")
            .compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    func testNagiosOutputOfEveryStatusMatchesTheJSON() throws {
        let expected = ["valid": ("OK", 0), "expiring_warn": ("WARNING", 1), "expired": ("CRITICAL", 2), "greet_421": ("UNKNOWN", 3)]
        for (name, (status, code)) in expected {
            let target = try lab.case(name).target
            let result = mxcheck(["smtp", "--format", "nagios", "--ca-file", lab.rootCA, "--timeout", "10", target])
            XCTAssertEqual(result.status, Int32(code), "\(name): \(result.stdout)")
            let parsed = parseNagios(result.stdout)
            XCTAssertEqual(parsed.status, status, name)
            XCTAssertEqual(parsed.long.count, 1, "one long-output line per endpoint: \(result.stdout)")
            let object = try XCTUnwrap(json([target]).first)
            let port = field(object, "target.port") as? Int ?? 0
            let base = "127.0.0.1_127.0.0.1_\(port)_"
            let days = try XCTUnwrap(parsed.items.first { $0.label == base + "days" }, result.stdout)
            XCTAssertEqual(days.value, (field(object, "certificate.daysRemaining") as? Int).map(String.init) ?? "U", name)
            XCTAssertEqual(days.thresholds.prefix(2), ["14:", "7:"], name)
            let score = try XCTUnwrap(parsed.items.first { $0.label == base + "score" })
            XCTAssertEqual(score.value, (object["score"] as? Int).map(String.init) ?? "U", name)
            XCTAssertEqual(score.thresholds, ["", "", "0", "100"])
            XCTAssertEqual(parsed.items.first { $0.label == base + "connections" }?.value, (object["connections"] as? Int).map(String.init), name)
            XCTAssertEqual(parsed.items.first { $0.label == base + "time" }?.unit, "s")
        }
    }

    func testNagiosSummaryOfTwoEndpointsAndThresholdsFromTheOptions() throws {
        let targets = try ["valid", "expired"].map { try lab.case($0).target }
        let result = mxcheck(["smtp", "--format", "nagios", "--warn-days", "30", "--crit-days", "10", "--ca-file", lab.rootCA] + targets)
        XCTAssertEqual(result.status, 2)
        let parsed = parseNagios(result.stdout)
        XCTAssertEqual(parsed.status, "CRITICAL")
        XCTAssertTrue(result.stdout.hasPrefix("SMTP TLS CRITICAL - 2 endpoints: 1 OK, 1 CRITICAL |"), result.stdout)
        XCTAssertEqual(parsed.items.count, 8, "four metrics per endpoint")
        XCTAssertTrue(parsed.items.filter { $0.label.hasSuffix("_days") }.allSatisfy { $0.thresholds.prefix(2) == ["30:", "10:"] })
        XCTAssertEqual(parsed.long.count, 2)
    }

    func testPrometheusOutputPassesPromtoolAndMatchesTheJSON() throws {
        let targets = try ["valid", "expiring_warn", "expired", "greet_421"].map { try lab.case($0).target }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("mxcheck-\(getpid())-\(UUID().uuidString).prom").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        let result = mxcheck(["smtp", "--format", "prometheus", "--output", file, "--ca-file", lab.rootCA, "--timeout", "10"] + targets)
        XCTAssertEqual(result.status, 2, result.stderr)
        XCTAssertEqual(result.stdout, "", "the exposition goes to the file")
        let text = Lab.text(of: file)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: FileManager.default.temporaryDirectory.path).filter { $0.contains(URL(fileURLWithPath: file).lastPathComponent) && $0.hasSuffix(".tmp") }
        XCTAssertEqual(leftovers, [], "the temporary file was renamed")

        let promtool = Command.run(["/usr/bin/promtool", "check", "metrics"], stdin: text, timeout: 30)
        // promtool's lint wants seconds, not days: the contract's mxcheck_certificate_days_remaining is the one complaint.
        let complaints = (promtool.stdout + promtool.stderr).split(separator: "\n").filter { !$0.contains("mxcheck_certificate_days_remaining") }
        XCTAssertEqual(complaints, [], promtool.stdout + promtool.stderr)

        var samples: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: " ")
            if parts.count == 2, let value = Double(parts[1]) { samples[String(parts[0])] = value }
        }
        for object in json(targets) {
            let port = field(object, "target.port") as? Int ?? 0
            let labels = "{host=\"127.0.0.1\",address=\"127.0.0.1\",port=\"\(port)\"}"
            let status = ["ok": 0.0, "warning": 1, "critical": 2, "unknown": 3][object["status"] as? String ?? ""]
            XCTAssertEqual(samples["mxcheck_status" + labels], status, labels)
            XCTAssertEqual(samples["mxcheck_score" + labels], (object["score"] as? Int).map(Double.init), "a null score is left out: \(labels)")
            XCTAssertEqual(samples["mxcheck_certificate_days_remaining" + labels], (field(object, "certificate.daysRemaining") as? Int).map(Double.init))
            XCTAssertEqual(samples["mxcheck_connections" + labels], (object["connections"] as? Int).map(Double.init))
            XCTAssertEqual(samples["mxcheck_up" + labels], (field(object, "smtp.banner") as? String)?.hasPrefix("220") == true ? 1 : 0)
        }
    }

    func testAnInterruptedRunLeavesThePrometheusFileAsItWas() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mxcheck-prom-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("mxcheck.prom").path
        try "# an earlier run\n".write(toFile: file, atomically: true, encoding: .utf8)
        let silent = try lab.case("never_greets").target
        let run = try RunningCommand([Self.binary, "smtp", "--format", "prometheus", "--output", file, "--timeout", "20", silent],
                                     environment: plainEnvironment(), stdout: directory.appendingPathComponent("out").path, stderr: directory.appendingPathComponent("err").path)
        usleep(700_000)
        kill(run.pid, SIGINT)
        XCTAssertEqual(run.wait(seconds: 5), 130)
        XCTAssertEqual(Lab.text(of: file), "# an earlier run\n")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted(), ["err", "mxcheck.prom", "out"], "no temporary file left")
    }
}
