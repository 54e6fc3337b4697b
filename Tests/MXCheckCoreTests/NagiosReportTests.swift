import Foundation
import XCTest
@testable import MXCheckCore

/// The Nagios output read back by a strict parser of the Monitoring Plugins guidelines' grammar, its values
/// compared with the objects it was rendered from.
final class NagiosReportTests: XCTestCase {
    typealias F = MonitoringFixtures

    // MARK: one endpoint of each status

    func testOKEndpoint() throws {
        let output = try PluginOutput.parse(render([F.ok]))
        XCTAssertEqual(output.status, "OK")
        XCTAssertEqual(output.summary, "mx.example.com[192.0.2.1]:25: TLSv1.3 TLS_AES_256_GCM_SHA384 x25519, certificate expires in 37 days, score 100")
        try checkPerfdata(output, [F.ok], bases: ["mx.example.com_192.0.2.1_25"])
        XCTAssertEqual(output.longOutput, ["OK mx.example.com[192.0.2.1]:25 - TLSv1.3 TLS_AES_256_GCM_SHA384 x25519, certificate expires in 37 days, score 100"])
    }

    func testWarningEndpointNamesItsFirstWorstFindingAndFix() throws {
        let output = try PluginOutput.parse(render([F.warning]))
        XCTAssertEqual(output.status, "WARNING")
        XCTAssertEqual(output.summary, "legacy.example.com[192.0.2.2]:587: TLSv1.0 negotiated")
        try checkPerfdata(output, [F.warning], bases: ["legacy.example.com_192.0.2.2_587"])
        XCTAssertEqual(output.longOutput, ["WARNING legacy.example.com[192.0.2.2]:587 - TLSv1.0 negotiated [tls.legacy_protocol]; fix: Postfix: smtpd_tls_protocols = >=TLSv1.2"])
        // 1234.5678 ms is 1.235 s, in the guidelines' number class (no exponent).
        XCTAssertEqual(output.item("legacy.example.com_192.0.2.2_587_time")?.rawValue, "1.235")
    }

    func testCriticalEndpointServerTextCannotSplitLinesOrPerfdata() throws {
        let rendered = render([F.critical])
        // One status line and one long-output line: the message's line break became a space.
        XCTAssertEqual(rendered.split(separator: "\n", omittingEmptySubsequences: false).count, 3, rendered)
        XCTAssertEqual(rendered.filter { $0 == "|" }.count, 1, "only the perfdata separator: \(rendered)")
        let output = try PluginOutput.parse(rendered)
        XCTAssertEqual(output.status, "CRITICAL")
        XCTAssertEqual(output.summary, "[2001:db8::25]:25: the certificate expired on 2026-11-28T12:00:00Z / \"CN=x\" next line")
        XCTAssertEqual(output.longOutput, ["CRITICAL [2001:db8::25]:25 - the certificate expired on 2026-11-28T12:00:00Z / \"CN=x\" next line [cert.expired]; fix: renew it / now"])
        try checkPerfdata(output, [F.critical], bases: ["2001:db8::25_2001:db8::25_25"])
        // An expired certificate's negative days alert under both ranges.
        let days = try XCTUnwrap(output.item("2001:db8::25_2001:db8::25_25_days"))
        XCTAssertEqual(days.value, -3)
        XCTAssertTrue(try ThresholdRange(days.warn!).alerts(-3))
        XCTAssertTrue(try ThresholdRange(days.crit!).alerts(-3))
    }

    func testUnknownEndpointHasUnknownValues() throws {
        let output = try PluginOutput.parse(render([F.unknown]))
        XCTAssertEqual(output.status, "UNKNOWN")
        XCTAssertEqual(output.summary, "nowhere.example:25: nowhere.example: no such name")
        try checkPerfdata(output, [F.unknown], bases: ["nowhere.example_25"])
        let days = try XCTUnwrap(output.item("nowhere.example_25_days"))
        XCTAssertNil(days.value)
        XCTAssertEqual(days.rawValue, "U")
        XCTAssertNil(output.item("nowhere.example_25_score")?.value)
        XCTAssertEqual(output.item("nowhere.example_25_connections")?.value, 0)
    }

    func testInvalidInputLabelHasNeitherQuoteNorEquals() throws {
        let output = try PluginOutput.parse(render([F.invalid]))
        XCTAssertEqual(output.status, "UNKNOWN")
        XCTAssertEqual(output.perfdata.map(\.label), ["bad_in_put \\ \"x\"_days", "bad_in_put \\ \"x\"_time", "bad_in_put \\ \"x\"_score", "bad_in_put \\ \"x\"_connections"])
        XCTAssertEqual(output.longOutput, ["UNKNOWN bad'in=put \\ \"x\" - not a target: bad'in=put [input.invalid]"])
    }

    // MARK: several endpoints

    func testSeveralEndpointsCountStatusesAndTakeTheWorst() throws {
        let objects = [F.ok, F.warning, F.critical, F.unknown]
        let output = try PluginOutput.parse(render(objects))
        // CRITICAL > UNKNOWN > WARNING > OK.
        XCTAssertEqual(output.status, "CRITICAL")
        XCTAssertEqual(output.summary, "4 endpoints: 1 OK, 1 WARNING, 1 CRITICAL, 1 UNKNOWN")
        XCTAssertEqual(output.longOutput.map { String($0.prefix { $0 != " " }) }, ["OK", "WARNING", "CRITICAL", "UNKNOWN"])
        try checkPerfdata(output, objects, bases: ["mx.example.com_192.0.2.1_25", "legacy.example.com_192.0.2.2_587", "2001:db8::25_2001:db8::25_25", "nowhere.example_25"])
        XCTAssertEqual(try PluginOutput.parse(render([F.ok, F.unknown, F.warning])).status, "UNKNOWN")
        XCTAssertEqual(try PluginOutput.parse(render([F.ok, F.warning, F.ok])).summary, "3 endpoints: 2 OK, 1 WARNING")
    }

    func testTwoEndpointDomainRunLabelsAreUniqueAcrossDomains() throws {
        let output = try PluginOutput.parse(NagiosReport.render(objects: F.domainRun, warnDays: 14, critDays: 7, domainMode: true))
        XCTAssertEqual(output.status, "CRITICAL")
        XCTAssertEqual(output.summary, "3 endpoints: 2 OK, 1 CRITICAL")
        try checkPerfdata(output, F.domainRun, bases: [
            "example.com_mx1.example.com_192.0.2.10_25", "example.com_mx2.example.com_2001:db8::10_25", "example.net_mx1.example.com_192.0.2.10_25",
        ])
        XCTAssertEqual(output.longOutput[1], "CRITICAL mx2.example.com[2001:db8::10]:25 (example.com) - no TLSA record matches [dane.mismatch]; fix: publish 3 1 1 abcd")
        // Without --mx the domain is no part of the label, and the shared endpoint is measured once.
        let plain = try PluginOutput.parse(render(F.domainRun))
        XCTAssertEqual(Set(plain.perfdata.map(\.label)).count, 8)
        XCTAssertEqual(plain.perfdata.count, 8)
    }

    func testThresholdsFollowTheOptions() throws {
        let output = try PluginOutput.parse(NagiosReport.render(objects: [F.ok], warnDays: 40, critDays: 30, domainMode: false))
        let days = try XCTUnwrap(output.item("mx.example.com_192.0.2.1_25_days"))
        XCTAssertEqual(days.warn, "40:")
        XCTAssertEqual(days.crit, "30:")
        // 37 days left: inside the warning range's alert, outside the critical one's, as the rules judge it.
        XCTAssertTrue(try ThresholdRange(days.warn!).alerts(37))
        XCTAssertFalse(try ThresholdRange(days.crit!).alerts(37))
    }

    func testDomainWithoutEndpointSaysWhy() throws {
        // A null MX: nothing to connect to, an informational finding, status OK.
        let nullMX: JSONValue = .object([
            "schemaVersion": .int(2), "input": .string("null-mx.example"), "domain": .string("null-mx.example"), "target": .null,
            "mx": .null, "status": .string("ok"), "score": .int(100), "tls": .null, "certificate": .null, "smtp": .null,
            "findings": .array([F.finding("dns.null_mx", "info", "null-mx.example publishes a null MX: it accepts no mail")]),
            "timings": .null, "connections": .int(0), "checkedAt": .string("2026-12-01T20:00:00Z"),
        ])
        let output = try PluginOutput.parse(NagiosReport.render(objects: [nullMX], warnDays: 14, critDays: 7, domainMode: true))
        XCTAssertEqual(output.status, "OK")
        XCTAssertEqual(output.summary, "null-mx.example: null-mx.example publishes a null MX: it accepts no mail")
        XCTAssertEqual(output.perfdata.map(\.label), ["null-mx.example_null-mx.example_days", "null-mx.example_null-mx.example_time",
                                                      "null-mx.example_null-mx.example_score", "null-mx.example_null-mx.example_connections"])
        XCTAssertEqual(output.item("null-mx.example_null-mx.example_score")?.value, 100)
    }

    func testNoObjectIsUnknownWithoutPerfdata() throws {
        let output = try PluginOutput.parse(render([]))
        XCTAssertEqual(output.status, "UNKNOWN")
        XCTAssertTrue(output.perfdata.isEmpty)
        XCTAssertTrue(output.longOutput.isEmpty)
    }

    /// The parser below must reject what the guidelines forbid, or the tests above prove nothing.
    func testTheParserRejectsMalformedOutput() {
        let bad = [
            "SMTP TLS OK - fine\n",  // fine; the control
            "SMTP TLS FINE - x\n",
            "SMTP TLS OK - a | 'x'=1;14:;7: 'y'=2s;;;0;100;5\n",
            "SMTP TLS OK - a | 'x'=1e5\n",
            "SMTP TLS OK - a | 'x=y'=1\n",
            "SMTP TLS OK - a | 'x'=1;:;\n",
            "SMTP TLS OK - a | x y=1\n",
            "SMTP TLS OK - a | 'x'=1\nOK second | line\n",
            "SMTP TLS OK - a | 'x'=1 'x'=2\n",
            "SMTP TLS OK - a | 'x'=1",
        ]
        XCTAssertNoThrow(try PluginOutput.parse(bad[0]))
        for text in bad.dropFirst() {
            XCTAssertThrowsError(try PluginOutput.parse(text), text)
        }
    }

    /// The example in docs/monitoring.md is what the renderer writes for such an endpoint.
    func testDocumentedExampleIsRealOutput() throws {
        let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/monitoring.md")
        let page = try String(contentsOf: docs, encoding: .utf8)
        let example = try XCTUnwrap(page.components(separatedBy: "$ mxcheck smtp --format nagios mx.example.com\n").dropFirst().first)
        let documented = example.components(separatedBy: "\n$ echo $?\n")[0] + "\n"
        let fix = "Renew the certificate now and check that renewal is automated: Postfix: smtpd_tls_chain_files; Exim: tls_certificate"
        let object = F.endpoint(
            input: "mx.example.com", host: "mx.example.com", address: "192.0.2.1", port: 25, status: "warning", score: 90,
            daysRemaining: 10, notAfter: "2026-12-11T06:30:00Z", tls: ("TLSv1.3", "TLS_AES_256_GCM_SHA384", "x25519"),
            findings: [F.finding("cert.expiring", "warning", "the certificate expires in 10 days, on 2026-12-11T06:30:00Z (warning below 14 days)", fix: fix)],
            totalMs: 41.2, connections: 2, banner: "220 mx.example.com ESMTP")
        XCTAssertEqual(render([object]), documented)
    }

    // MARK: helpers

    private func render(_ objects: [JSONValue]) -> String {
        NagiosReport.render(objects: objects, warnDays: 14, critDays: 7, domainMode: false)
    }

    /// Four items per object under the expected label base, each value as the object says (U where it is null).
    private func checkPerfdata(_ output: PluginOutput, _ objects: [JSONValue], bases: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(output.perfdata.count, 4 * objects.count, file: file, line: line)
        for (object, base) in zip(objects, bases) {
            let days = try XCTUnwrap(output.item(base + "_days"), "no \(base)_days in \(output.perfdata.map(\.label))", file: file, line: line)
            XCTAssertEqual(days.value, F.number(object, "certificate.daysRemaining"), file: file, line: line)
            XCTAssertEqual(days.uom, "", file: file, line: line)
            XCTAssertEqual(days.warn, "14:", file: file, line: line)
            XCTAssertEqual(days.crit, "7:", file: file, line: line)
            let time = try XCTUnwrap(output.item(base + "_time"), file: file, line: line)
            if let milliseconds = F.number(object, "timings.totalMs") {
                XCTAssertEqual(try XCTUnwrap(time.value, file: file, line: line), milliseconds / 1000, accuracy: 0.0005, file: file, line: line)
                XCTAssertEqual(time.uom, "s", file: file, line: line)
            } else {
                XCTAssertNil(time.value, file: file, line: line)
            }
            let score = try XCTUnwrap(output.item(base + "_score"), file: file, line: line)
            XCTAssertEqual(score.value, F.number(object, "score"), file: file, line: line)
            XCTAssertEqual(score.min, 0, file: file, line: line)
            XCTAssertEqual(score.max, 100, file: file, line: line)
            XCTAssertNil(score.warn, file: file, line: line)
            let connections = try XCTUnwrap(output.item(base + "_connections"), file: file, line: line)
            XCTAssertEqual(connections.value, F.number(object, "connections"), file: file, line: line)
        }
    }
}

/// Plugin output as the guidelines define it: `<status line> [| perfdata]`, then long-output lines, none of which
/// may hold a `|` here (mxcheck writes all perfdata on the first line).
struct PluginOutput {
    struct ParseError: Error, CustomStringConvertible {
        var description: String
    }

    struct Item {
        var label: String
        var rawValue: String
        /// nil for the literal `U`.
        var value: Double?
        var uom: String
        var warn: String?
        var crit: String?
        var min: Double?
        var max: Double?
    }

    var status: String
    var summary: String
    var perfdata: [Item]
    var longOutput: [String]

    func item(_ label: String) -> Item? { perfdata.first { $0.label == label } }

    static let statuses = ["OK", "WARNING", "CRITICAL", "UNKNOWN"]
    static let units = ["", "s", "ms", "us", "%", "B", "KB", "MB", "GB", "TB", "c"]

    static func parse(_ text: String) throws -> PluginOutput {
        guard text.hasSuffix("\n") else { throw ParseError(description: "output does not end in a newline") }
        let lines = text.dropLast().split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let first = lines.first else { throw ParseError(description: "no status line") }
        let prefix = "SMTP TLS "
        guard first.hasPrefix(prefix) else { throw ParseError(description: "status line does not start with SMTP TLS: \(first)") }
        let rest = first.dropFirst(prefix.count)
        guard let status = statuses.first(where: { rest.hasPrefix($0 + " - ") }) else { throw ParseError(description: "no status word: \(first)") }
        let afterStatus = String(rest.dropFirst(status.count + 3))
        let parts = afterStatus.split(separator: "|", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        var summary = parts[0]
        var perfdata: [Item] = []
        if parts.count == 2 {
            guard summary.hasSuffix(" "), parts[1].hasPrefix(" ") else { throw ParseError(description: "| not set off by spaces: \(first)") }
            summary.removeLast()
            perfdata = try parsePerfdata(String(parts[1].dropFirst()))
            guard !perfdata.isEmpty else { throw ParseError(description: "| with no perfdata") }
        }
        guard !summary.isEmpty else { throw ParseError(description: "empty summary") }
        let labels = perfdata.map(\.label)
        guard Set(labels).count == labels.count else { throw ParseError(description: "a perfdata label repeats: \(labels)") }
        for line in lines.dropFirst() {
            guard !line.contains("|") else { throw ParseError(description: "| in long output: \(line)") }
            guard statuses.contains(where: { line.hasPrefix($0 + " ") }), line.contains(" - ") else {
                throw ParseError(description: "long-output line without status and detail: \(line)")
            }
        }
        return PluginOutput(status: status, summary: summary, perfdata: perfdata, longOutput: Array(lines.dropFirst()))
    }

    /// Space-separated `'label'=value[UOM][;warn[;crit[;min[;max]]]]`, labels quoted, `''` a literal quote.
    static func parsePerfdata(_ text: String) throws -> [Item] {
        let scalars = Array(text.unicodeScalars)
        var index = 0
        var items: [Item] = []
        while index < scalars.count {
            if !items.isEmpty {
                guard scalars[index] == " " else { throw ParseError(description: "items not separated by one space: \(text)") }
                index += 1
            }
            var label = ""
            if index < scalars.count, scalars[index] == "'" {
                index += 1
                while true {
                    guard index < scalars.count else { throw ParseError(description: "unterminated label: \(text)") }
                    if scalars[index] == "'" {
                        if index + 1 < scalars.count, scalars[index + 1] == "'" {
                            label.unicodeScalars.append("'")
                            index += 2
                            continue
                        }
                        index += 1
                        break
                    }
                    label.unicodeScalars.append(scalars[index])
                    index += 1
                }
            } else {
                while index < scalars.count, scalars[index] != "=", scalars[index] != " " {
                    label.unicodeScalars.append(scalars[index])
                    index += 1
                }
            }
            guard !label.trimmingCharacters(in: .whitespaces).isEmpty, !label.contains("="),
                  !label.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
                throw ParseError(description: "bad label \(label)")
            }
            guard index < scalars.count, scalars[index] == "=" else { throw ParseError(description: "no = after label \(label)") }
            index += 1
            var field = ""
            while index < scalars.count, scalars[index] != " " {
                field.unicodeScalars.append(scalars[index])
                index += 1
            }
            items.append(try item(label: label, field))
        }
        return items
    }

    static func item(label: String, _ field: String) throws -> Item {
        let fields = field.split(separator: ";", omittingEmptySubsequences: false).map(String.init)
        guard fields.count <= 5 else { throw ParseError(description: "more than value;warn;crit;min;max: \(field)") }
        let valueAndUnit = fields[0]
        var rawValue: String
        var value: Double?
        var uom: String
        if valueAndUnit == "U" {
            rawValue = "U"
            uom = ""
        } else {
            rawValue = String(valueAndUnit.prefix { "-0123456789.".contains($0) })
            uom = String(valueAndUnit.dropFirst(rawValue.count))
            guard isNumber(rawValue) else { throw ParseError(description: "value \(valueAndUnit) is not in [-0-9.]") }
            value = Double(rawValue)
        }
        guard units.contains(uom) else { throw ParseError(description: "unknown UOM \(uom) in \(field)") }
        func optional(_ index: Int) -> String? { index < fields.count && !fields[index].isEmpty ? fields[index] : nil }
        let warn = optional(1), crit = optional(2)
        for range in [warn, crit].compactMap({ $0 }) { _ = try ThresholdRange(range) }
        var bounds: [Double?] = []
        for index in 3...4 {
            guard let text = optional(index) else { bounds.append(nil); continue }
            guard isNumber(text) else { throw ParseError(description: "min/max \(text) is not a number") }
            bounds.append(Double(text))
        }
        return Item(label: label, rawValue: rawValue, value: value, uom: uom, warn: warn, crit: crit, min: bounds[0], max: bounds[1])
    }

    static func isNumber(_ text: String) -> Bool {
        text.range(of: #"^-?[0-9]+(\.[0-9]+)?$"#, options: .regularExpression) != nil
    }
}

/// A threshold in the guidelines' range syntax `[@][start:][end]`, `~` for negative infinity.
struct ThresholdRange {
    var inside: Bool
    var start: Double
    var end: Double

    init(_ text: String) throws {
        var body = Substring(text)
        inside = body.hasPrefix("@")
        if inside { body = body.dropFirst() }
        guard !body.isEmpty else { throw PluginOutput.ParseError(description: "empty range \(text)") }
        let parts = body.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        func bound(_ text: String, empty: Double) throws -> Double {
            if text.isEmpty { return empty }
            if text == "~" { return -.infinity }
            guard PluginOutput.isNumber(text), let value = Double(text) else { throw PluginOutput.ParseError(description: "bad range bound \(text)") }
            return value
        }
        if parts.count == 1 {
            start = 0
            guard !parts[0].isEmpty, parts[0] != "~" else { throw PluginOutput.ParseError(description: "bad range \(text)") }
            end = try bound(parts[0], empty: .infinity)
        } else {
            guard !(parts[0].isEmpty && parts[1].isEmpty) else { throw PluginOutput.ParseError(description: "bad range \(text)") }
            start = try bound(parts[0], empty: 0)
            end = try bound(parts[1], empty: .infinity)
        }
        guard start <= end else { throw PluginOutput.ParseError(description: "range start above end: \(text)") }
    }

    /// Whether `value` exceeds the threshold: outside start...end, or inside with `@`.
    func alerts(_ value: Double) -> Bool {
        let within = value >= start && value <= end
        return inside ? within : !within
    }
}
