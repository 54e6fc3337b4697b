import Foundation
import XCTest
@testable import MXCheckCore

/// The Prometheus exposition checked by promtool and read back by a parser of the text format, its values
/// compared with the objects it was rendered from.
final class PrometheusReportTests: XCTestCase {
    typealias F = MonitoringFixtures

    static let allObjects = [F.ok, F.warning, F.critical, F.unknown, F.invalid]

    func testEveryKindOfEndpointPassesPromtool() throws {
        try checkWithPromtool(PrometheusReport.render(objects: Self.allObjects, domainMode: false))
        try checkWithPromtool(PrometheusReport.render(objects: F.domainRun, domainMode: true))
    }

    /// promtool must be able to fail, or the test above proves nothing: a repeated TYPE line and an unescaped quote.
    func testPromtoolRejectsABrokenExposition() throws {
        let good = PrometheusReport.render(objects: [F.ok], domainMode: false)
        let repeatedType = good + "# TYPE mxcheck_up gauge\nmxcheck_up{host=\"other\",address=\"\",port=\"\"} 1\n"
        let unescaped = good.replacingOccurrences(of: "host=\"mx.example.com\"", with: "host=\"mx.\"example.com\"")
        XCTAssertNotEqual(unescaped, good)
        for broken in [repeatedType, unescaped] {
            let result = try promtool(["check", "metrics"], stdin: broken)
            XCTAssertNotEqual(result.status, 0, broken)
            XCTAssertNotEqual(result.status, 3, "a parse error, not only a lint problem: \(result.stderr)")
        }
    }

    func testValuesMatchTheObjects() throws {
        let exposition = try Exposition.parse(PrometheusReport.render(objects: Self.allObjects, domainMode: false))
        XCTAssertEqual(exposition.families, [
            "mxcheck_up", "mxcheck_status", "mxcheck_score", "mxcheck_certificate_expiry_timestamp_seconds",
            "mxcheck_certificate_days_remaining", "mxcheck_check_duration_seconds", "mxcheck_connections",
            "mxcheck_tls_info", "mxcheck_finding", "mxcheck_last_check_timestamp_seconds",
        ])
        for family in exposition.families {
            XCTAssertEqual(exposition.types[family], "gauge", family)
            XCTAssertFalse(exposition.help[family, default: ""].isEmpty, family)
        }
        let ok = ["host": "mx.example.com", "address": "192.0.2.1", "port": "25"]
        let warning = ["host": "legacy.example.com", "address": "192.0.2.2", "port": "587"]
        let critical = ["host": "2001:db8::25", "address": "2001:db8::25", "port": "25"]
        let unknown = ["host": "nowhere.example", "address": "", "port": "25"]
        // The invalid target's host is its input, escapes and all.
        let invalid = ["host": "bad'in=put \\ \"x\"", "address": "", "port": ""]
        let endpoints: [([String: String], JSONValue)] = [(ok, F.ok), (warning, F.warning), (critical, F.critical), (unknown, F.unknown), (invalid, F.invalid)]

        XCTAssertEqual(exposition.value("mxcheck_up", ok), 1)
        XCTAssertEqual(exposition.value("mxcheck_up", critical), 1)
        XCTAssertEqual(exposition.value("mxcheck_up", unknown), 0)
        XCTAssertEqual(exposition.value("mxcheck_up", invalid), 0)
        XCTAssertEqual(endpoints.map { exposition.value("mxcheck_status", $0.0) }, [0, 1, 2, 3, 3])
        for (labels, object) in endpoints {
            XCTAssertEqual(exposition.value("mxcheck_score", labels), F.number(object, "score"), "\(labels)")
            XCTAssertEqual(exposition.value("mxcheck_certificate_days_remaining", labels), F.number(object, "certificate.daysRemaining"), "\(labels)")
            XCTAssertEqual(exposition.value("mxcheck_connections", labels), F.number(object, "connections"), "\(labels)")
            if let milliseconds = F.number(object, "timings.totalMs") {
                XCTAssertEqual(try XCTUnwrap(exposition.value("mxcheck_check_duration_seconds", labels)), milliseconds / 1000, accuracy: 1e-9)
            } else {
                XCTAssertNil(exposition.value("mxcheck_check_duration_seconds", labels), "\(labels): null stays out")
            }
            XCTAssertEqual(exposition.value("mxcheck_last_check_timestamp_seconds", labels), 1_796_155_200, "2026-12-01T20:00:00Z")
            let findings = Set(F.field(object, "findings").arrayItems.map { [F.string($0, "id")!, F.string($0, "severity")!] })
            let written = exposition.samples["mxcheck_finding", default: []].filter { sample in labels.allSatisfy { sample.labels[$0.key] == $0.value } }
            XCTAssertEqual(Set(written.map { [$0.labels["id"]!, $0.labels["severity"]!] }), findings, "\(labels)")
            XCTAssertTrue(written.allSatisfy { $0.value == 1 })
        }
        // Two tls.legacy_protocol findings of one severity are one series.
        XCTAssertEqual(exposition.samples["mxcheck_finding", default: []].filter { $0.labels["host"] == "legacy.example.com" }.count, 2)
        XCTAssertEqual(exposition.value("mxcheck_certificate_expiry_timestamp_seconds", ok), 1_798_588_800, "2026-12-30T00:00:00Z")
        XCTAssertEqual(exposition.value("mxcheck_certificate_expiry_timestamp_seconds", critical), 1_795_867_200, "2026-11-28T12:00:00Z")
        XCTAssertNil(exposition.value("mxcheck_certificate_expiry_timestamp_seconds", unknown))
        XCTAssertEqual(exposition.value("mxcheck_tls_info", ok.merging(["version": "TLSv1.3", "cipher": "TLS_AES_256_GCM_SHA384", "group": "x25519"]) { $1 }), 1)
        XCTAssertEqual(exposition.value("mxcheck_tls_info", warning.merging(["version": "TLSv1.0", "cipher": "ECDHE-RSA-AES256-SHA", "group": ""]) { $1 }), 1)
        XCTAssertEqual(exposition.samples["mxcheck_tls_info"]?.count, 3, "no TLS series without a handshake")
        XCTAssertNil(exposition.value("mxcheck_score", unknown))
    }

    func testDomainModeLabelsAndNoRepeatedSeries() throws {
        let exposition = try Exposition.parse(PrometheusReport.render(objects: F.domainRun, domainMode: true))
        XCTAssertEqual(exposition.samples["mxcheck_status"]?.count, 3)
        XCTAssertEqual(exposition.value("mxcheck_status", ["domain": "example.com", "host": "mx2.example.com", "address": "2001:db8::10", "port": "25"]), 2)
        XCTAssertEqual(exposition.value("mxcheck_status", ["domain": "example.net", "host": "mx1.example.com", "address": "192.0.2.10", "port": "25"]), 0)
        // Without --mx two domains' shared endpoint has identical labels: written once, the first object's.
        let plain = try Exposition.parse(PrometheusReport.render(objects: F.domainRun + [F.domainRun[0]], domainMode: false))
        XCTAssertEqual(plain.samples["mxcheck_status"]?.count, 2)
        XCTAssertNil(plain.samples["mxcheck_status"]?.first { $0.labels["domain"] != nil })
    }

    func testLabelValueEscapes() {
        XCTAssertEqual(PrometheusReport.escapeLabelValue("a\\b\"c\nd"), #"a\\b\"c\nd"#)
        let exposition = PrometheusReport.render(objects: [F.endpoint(input: "x", host: "line\nbreak\\\"", address: nil, port: nil, status: "unknown", score: nil)], domainMode: false)
        XCTAssertTrue(exposition.contains(#"mxcheck_up{host="line\nbreak\\\"",address="",port=""} 0"#), exposition)
    }

    func testNoObjectIsAnEmptyExposition() throws {
        XCTAssertEqual(PrometheusReport.render(objects: [], domainMode: false), "")
    }

    func testRFC3339Timestamps() {
        XCTAssertEqual(RFC3339.seconds("2026-12-30T00:00:00Z"), 1_798_588_800)
        XCTAssertEqual(RFC3339.seconds("2000-02-29T23:59:59Z"), 951_868_799)
        XCTAssertEqual(RFC3339.seconds("1970-01-01T00:00:00+01:00"), -3_600)
        XCTAssertEqual(RFC3339.seconds("2026-12-30T00:00:00.25Z"), 1_798_588_800.25)
        for bad in ["2026-02-29T00:00:00Z", "2026-12-30 00:00:00", "2026-12-30T24:00:00Z", "2026-12-30T00:00:00Zjunk", "", "2026-13-01T00:00:00Z"] {
            XCTAssertNil(RFC3339.seconds(bad), bad)
        }
    }

    // MARK: the documentation's alert rules

    static let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("docs").path

    func testAlertRulesPassPromtoolAndTheirUnitTests() throws {
        let check = try promtool(["check", "rules", "\(Self.docs)/prometheus/mxcheck-alerts.yml"], stdin: "")
        XCTAssertEqual(check.status, 0, check.stdout + check.stderr)
        XCTAssertTrue(check.stdout.contains("SUCCESS: 4 rules found"), check.stdout)
        let unit = try promtool(["test", "rules", "\(Self.docs)/prometheus/mxcheck-alerts.test.yml"], stdin: "")
        XCTAssertEqual(unit.status, 0, unit.stdout + unit.stderr)
    }

    /// A rule on a metric mxcheck does not write would never fire.
    func testAlertRulesUseOnlyMetricsTheRendererWrites() throws {
        let rules = try String(contentsOfFile: "\(Self.docs)/prometheus/mxcheck-alerts.yml", encoding: .utf8)
        let expressions = rules.split(separator: "\n").filter { $0.trimmingCharacters(in: .whitespaces).hasPrefix("expr:") }
        XCTAssertEqual(expressions.count, 4)
        let written = Set(try Exposition.parse(PrometheusReport.render(objects: Self.allObjects, domainMode: false)).families)
        var named = Set<String>()
        for expression in expressions {
            let regex = try NSRegularExpression(pattern: "mxcheck_[a-z_]+")
            let text = String(expression)
            for match in regex.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                named.insert(String(text[Swift.Range(match.range, in: text)!]))
            }
        }
        XCTAssertEqual(named, ["mxcheck_certificate_expiry_timestamp_seconds", "mxcheck_status", "mxcheck_up", "mxcheck_last_check_timestamp_seconds"])
        XCTAssertTrue(named.isSubset(of: written), "\(named.subtracting(written)) not written")
    }

    /// The example in docs/monitoring.md is what the renderer writes for such an endpoint.
    func testDocumentedExampleIsRealOutput() throws {
        let page = try String(contentsOfFile: "\(Self.docs)/monitoring.md", encoding: .utf8)
        let example = try XCTUnwrap(page.components(separatedBy: "$ mxcheck smtp --format prometheus mx.example.com\n").dropFirst().first)
        let documented = example.components(separatedBy: "\n...\n")[0] + "\n"
        let rendered = PrometheusReport.render(objects: [F.ok], domainMode: false)
        XCTAssertTrue(rendered.hasPrefix(documented), "documented:\n\(documented)\nrendered:\n\(rendered)")
    }

    // MARK: helpers

    /// promtool's lint names the contract's `mxcheck_certificate_days_remaining` (a unit other than seconds):
    /// that one lint problem, reported with exit 3, is accepted; any other problem or parse error is not.
    static let acceptedLint = #"mxcheck_certificate_days_remaining use base unit "seconds" instead of "days""#

    private func checkWithPromtool(_ exposition: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let result = try promtool(["check", "metrics"], stdin: exposition)
        let problems = result.stderr.split(separator: "\n").map(String.init).filter { $0 != Self.acceptedLint }
        XCTAssertTrue(result.status == 0 || (result.status == 3 && problems.isEmpty),
                      "promtool exit \(result.status): \(result.stderr)\n\(exposition)", file: file, line: line)
        XCTAssertTrue(problems.isEmpty, "promtool: \(problems)", file: file, line: line)
    }

    private func promtool(_ arguments: [String], stdin: String) throws -> BoundedCommand.Result {
        let path = try XCTUnwrap(BoundedCommand.find("promtool"), "promtool not found: `make promtool-deps` installs it (Debian's prometheus package)")
        return BoundedCommand.run([path] + arguments, stdin: stdin, timeout: 60)
    }
}

extension JSONValue {
    var arrayItems: [JSONValue] {
        if case .array(let values) = self { return values }
        return []
    }
}

/// The text exposition format, read strictly: HELP and TYPE at most once per family and before its samples,
/// each family's samples together, no series twice.
struct Exposition {
    struct ParseError: Error, CustomStringConvertible {
        var description: String
    }

    struct Sample {
        var labels: [String: String]
        var value: Double
    }

    var families: [String] = []
    var help: [String: String] = [:]
    var types: [String: String] = [:]
    var samples: [String: [Sample]] = [:]

    /// The value of the one sample of `family` with exactly these labels.
    func value(_ family: String, _ labels: [String: String]) -> Double? {
        samples[family]?.first { $0.labels == labels }?.value
    }

    static func parse(_ text: String) throws -> Exposition {
        var exposition = Exposition()
        guard text.isEmpty || text.hasSuffix("\n") else { throw ParseError(description: "no final newline") }
        var current: String?
        var series = Set<String>()
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
            if line.hasPrefix("# ") {
                let parts = line.split(separator: " ", maxSplits: 3).map(String.init)
                guard parts.count >= 3, parts[1] == "HELP" || parts[1] == "TYPE" else { throw ParseError(description: "bad comment line \(line)") }
                let name = parts[2]
                if name != current {
                    guard !exposition.families.contains(name) else { throw ParseError(description: "\(name) appears in two groups") }
                    exposition.families.append(name)
                    current = name
                }
                guard exposition.samples[name] == nil else { throw ParseError(description: "\(parts[1]) of \(name) after its samples") }
                if parts[1] == "HELP" {
                    guard exposition.help[name] == nil else { throw ParseError(description: "second HELP for \(name)") }
                    exposition.help[name] = parts.count > 3 ? parts[3] : ""
                } else {
                    guard exposition.types[name] == nil, parts.count == 4 else { throw ParseError(description: "bad or second TYPE for \(name)") }
                    exposition.types[name] = parts[3]
                }
                continue
            }
            guard let brace = line.firstIndex(of: "{") else { throw ParseError(description: "sample without labels: \(line)") }
            let name = String(line[..<brace])
            guard name == current else { throw ParseError(description: "\(name) outside its group") }
            var index = line.index(after: brace)
            var labels: [String: String] = [:]
            while true {
                guard index < line.endIndex else { throw ParseError(description: "unterminated labels in \(line)") }
                if line[index] == "}" { break }
                guard let equals = line[index...].firstIndex(of: "=") else { throw ParseError(description: "label without = in \(line)") }
                let key = String(line[index..<equals])
                guard key.range(of: "^[a-zA-Z_][a-zA-Z0-9_]*$", options: .regularExpression) != nil, labels[key] == nil else {
                    throw ParseError(description: "bad or repeated label name \(key)")
                }
                index = line.index(after: equals)
                guard index < line.endIndex, line[index] == "\"" else { throw ParseError(description: "unquoted label value in \(line)") }
                index = line.index(after: index)
                var value = ""
                while true {
                    guard index < line.endIndex else { throw ParseError(description: "unterminated label value in \(line)") }
                    let character = line[index]
                    if character == "\"" { break }
                    if character == "\\" {
                        index = line.index(after: index)
                        guard index < line.endIndex else { throw ParseError(description: "dangling escape in \(line)") }
                        switch line[index] {
                        case "\\": value += "\\"
                        case "\"": value += "\""
                        case "n": value += "\n"
                        default: throw ParseError(description: "unknown escape in \(line)")
                        }
                    } else {
                        value.append(character)
                    }
                    index = line.index(after: index)
                }
                labels[key] = value
                index = line.index(after: index)
                if index < line.endIndex, line[index] == "," { index = line.index(after: index) }
            }
            let rest = line[line.index(after: index)...]
            guard rest.hasPrefix(" "), let value = Double(rest.dropFirst()) else { throw ParseError(description: "bad value in \(line)") }
            guard series.insert(name + labels.sorted { $0.key < $1.key }.description).inserted else {
                throw ParseError(description: "series written twice: \(line)")
            }
            exposition.samples[name, default: []].append(Sample(labels: labels, value: value))
        }
        return exposition
    }
}
