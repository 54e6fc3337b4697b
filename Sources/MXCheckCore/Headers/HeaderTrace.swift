import FoundationEssentials
import Glibc

/// What the Received fields of one message say about its path: the hops (topmost first), the findings about
/// them and the status they give.
public struct HeaderTrace: Sendable {
    public var hops: [ReceivedHop]
    public var findings: [Finding]
    /// The header block was cut at its caps.
    public var truncated: Bool

    public var status: Status { Status(worstOf: findings) }

    public init(_ block: HeaderBlock) {
        hops = block.fields(named: "Received").enumerated().map { ReceivedHop(index: $0.offset, value: $0.element.value) }
        truncated = block.truncated
        findings = HeaderRules.findings(for: hops)
    }

    /// The JSON object of `mxcheck headers --json` (docs/headers.schema.json).
    public var json: JSONValue {
        .object([
            "schemaVersion": .int(2),
            "hops": .array(hops.map(\.json)),
            "status": .string(status.rawValue),
            "findings": JSONReport.findings(findings),
            "truncated": .bool(truncated),
        ])
    }
}

extension ReceivedHop {
    /// The sending host as text output shows it.
    public var senderLabel: String {
        guard from != nil else { return "(local)" }
        return HeaderText.escapedForTerminal(fromHost.label(clause: from))
    }

    public var receiverLabel: String {
        HeaderText.escapedForTerminal(by ?? "?")
    }

    var json: JSONValue {
        .object([
            "index": .int(index),
            "from": JSONValue(from), "by": JSONValue(by), "via": JSONValue(via), "with": JSONValue(with),
            "id": JSONValue(id), "for": JSONValue(self.for),
            "date": date.map { .string(JSONDates.format($0)) } ?? .null,
            "tls": tls.map { tls in
                .object(["version": JSONValue(tls.version?.rawValue), "cipher": JSONValue(tls.cipher), "bits": JSONValue(tls.bits)])
            } ?? .null,
            "encrypted": JSONValue(encrypted),
            "raw": .string(raw),
        ])
    }
}

/// Text output of `mxcheck headers`: the path in delivery order (oldest hop first), then the findings.
public enum HeaderTextReport {
    public static func render(_ trace: HeaderTrace, source: String) -> String {
        var lines: [String] = []
        let count = trace.hops.count
        lines.append("\(HeaderText.escapedForTerminal(source)): \(count) Received \(count == 1 ? "field" : "fields"), oldest first  \(trace.status.rawValue.uppercased())")
        for hop in trace.hops.reversed() {
            var columns = ["  #\(hop.index)", "\(hop.senderLabel) -> \(hop.receiverLabel)", HeaderText.escapedForTerminal(hop.with ?? "-")]
            if let tls = hop.tls {
                columns.append([tls.version?.rawValue ?? "TLS", tls.cipher.map(HeaderText.escapedForTerminal)].compactMap { $0 }.joined(separator: " "))
            } else {
                switch hop.encrypted {
                case true?: columns.append("TLS")
                case false?: columns.append(hop.isLocal ? "PLAINTEXT (local)" : "PLAINTEXT")
                case nil: columns.append(hop.unparsed ? "UNPARSED" : "no TLS information")
                }
            }
            columns.append(hop.date.map(JSONDates.format) ?? "no date")
            lines.append(columns.joined(separator: "  "))
        }
        if trace.truncated {
            lines.append("  note: the header block was cut at \(HeaderBlock.maximumBytes) bytes or \(HeaderBlock.maximumFields) fields; later fields were not read")
        }
        if !trace.findings.isEmpty {
            lines.append("findings:")
            for finding in trace.findings {
                lines.append("  \(finding.severity.rawValue.uppercased()) \(finding.id.rawValue): \(HeaderText.escapedForTerminal(finding.message))")
                lines.append("      fix: \(finding.fix)")
            }
        }
        return lines.joined(separator: "\n")
    }
}
