import Foundation
import XCTest

/// Real output, from every kind of outcome, validated against docs/schema.json.
final class SchemaTests: EndToEndTestCase {
    func testRealOutputMatchesTheSchema() throws {
        let cases = ["valid", "expired", "weak_key", "legacy_tls", "no_starttls", "starttls_454", "starttls_no_tls",
                     "greet_421", "greet_554", "ehlo_rejected", "refused", "implicit_tls", "ipv6", "bad_code", "plaintext_after_220"]
        var lines: [String] = []
        for name in cases {
            let target = try lab.case(name)
            var arguments = ["smtp", "--json", "--ca-file", lab.rootCA, "--timeout", "10"]
            if target.tls == "implicit" { arguments += ["--tls", "implicit"] }
            let result = mxcheck(arguments + [target.target])
            XCTAssertFalse(result.stdout.isEmpty, name)
            lines += result.stdout.split(separator: "\n").map(String.init)
        }
        // The enumeration's fields too: a complete --ciphers run and a rate-limited, incomplete --protocols run.
        lines += mxcheck(["smtp", "--json", "--ciphers", "--ca-file", lab.rootCA, try lab.case("legacy_tls").target]).stdout.split(separator: "\n").map(String.init)
        _ = mxcheck(["smtp", "--json", "--no-injection-test", try lab.case("rate_limit_reset").target])
        lines += mxcheck(["smtp", "--json", "--protocols", "--per-host", "1", try lab.case("rate_limit_after_3").target]).stdout.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines.last?.contains("\"incomplete\":true") == true, lines.last ?? "")
        // Domain mode: endpoints with domain and mx, and a domain without any endpoint.
        let dns = try DNSLab.shared()
        let pool = try lab.case("mx_pool")
        let domainLines = mxcheck(["smtp", "--mx", "--json", "--resolver", "127.0.0.1:\(dns.port)", "--port", String(pool.port),
                                   "--ca-file", lab.rootCA, "two-mx.lab.example", "null-mx.lab.example"]).stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(domainLines.count, 3)
        lines += domainLines
        // Objects that answer without a check: an input that cannot be parsed, a host that does not resolve
        // (through the lab's resolver), an MX host without address beside a healthy one, a target the deadline overtook.
        let unchecked = mxcheck(["smtp", "--json", "--resolver", "127.0.0.1:\(dns.port)", "bad host!", "nowhere.lab.example"]).stdout
        let partial = mxcheck(["smtp", "--mx", "--json", "--resolver", "127.0.0.1:\(dns.port)", "--port", String(pool.port),
                               "--ca-file", lab.rootCA, "half-empty.lab.example"]).stdout
        let late = mxcheck(["smtp", "--json", "--deadline", "0.5", "--timeout", "5", try lab.case("never_greets").target]).stdout
        let extra = (unchecked + partial + late).split(separator: "\n").map(String.init)
        XCTAssertEqual(extra.count, 5, unchecked + partial + late)
        XCTAssertTrue(late.contains("run.deadline"), late)
        lines += extra
        XCTAssertEqual(lines.count, cases.count + 10)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("mxcheck-schema-\(getpid()).jsonl")
        try (lines.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let python = ["/usr/bin/env", "python3", "\(Lab.packageRoot)/Tests/Lab/validate_schema.py", "\(Lab.packageRoot)/docs/schema.json", file.path]
        let validation = Command.run(python, timeout: 60)
        XCTAssertEqual(validation.status, 0, validation.stdout + validation.stderr)
        XCTAssertTrue(validation.stdout.contains("\(cases.count + 10) objects valid"), validation.stdout)
    }

    func testTheSchemaRejectsAWrongObject() throws {
        // The validator must be able to fail: a real object with a field of the wrong type.
        let target = try lab.case("valid")
        let result = mxcheck(["smtp", "--json", "--ca-file", lab.rootCA, target.target])
        let broken = result.stdout.replacingOccurrences(of: "\"schemaVersion\":2", with: "\"schemaVersion\":\"2\"")
        XCTAssertNotEqual(broken, result.stdout)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("mxcheck-schema-bad-\(getpid()).jsonl")
        try broken.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let validation = Command.run(["/usr/bin/env", "python3", "\(Lab.packageRoot)/Tests/Lab/validate_schema.py", "\(Lab.packageRoot)/docs/schema.json", file.path], timeout: 60)
        XCTAssertNotEqual(validation.status, 0)
    }
}
